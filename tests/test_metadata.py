"""Document metadata columns: copying rows of an earlier index (`MetadataColumns.extend_from`, the
vectorised copy an incremental build makes) gives exactly the payload that adding the same documents
one by one gives."""

from __future__ import annotations

import numpy as np
import pytest

from ragcli.retrieval.metadata import MetadataColumns, MetadataTable

# (metadata, passages) per document: shared and distinct values, every kind, a document without any
DOCUMENTS: list[tuple[dict[str, object], int]] = [
    ({"path": "a.jsonl", "format": "jsonl", "size": 10, "stars": 4.5}, 2),
    ({"path": "a.jsonl", "format": "jsonl", "size": 10, "draft": True}, 1),
    ({}, 3),
    ({"path": "b.md", "format": "markdown", "size": 10, "year": "2021"}, 1),  # 10: a value seen before
    ({"format": "markdown", "path": "b.md", "draft": False, "size": 1.0}, 2),
    ({"path": "c.txt", "format": "text", "size": 3, "note": None}, 1),
]


def added_one_by_one(documents: list[tuple[dict[str, object], int]]) -> MetadataColumns:
    columns = MetadataColumns()
    for metadata, passages in documents:
        columns.start_document(metadata)
        for _ in range(passages):
            columns.add_passage()
    return columns


def assert_same_payload(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert np.array_equal(a[key], b[key], equal_nan=a[key].dtype.kind == "f"), key


def table_of(documents: list[tuple[dict[str, object], int]]) -> MetadataTable:
    passages = sum(n for _, n in documents)
    return MetadataTable(added_one_by_one(documents).payload(), passages)


@pytest.mark.parametrize("cut", [0, 1, 2, 3, 5, 6])
def test_copied_rows_give_the_payload_adding_the_documents_gives(cut: int) -> None:
    """Documents [0, cut) copied from an earlier index, then a new document, then the rest copied:
    the same tables, in the same order, as a build that read every document."""
    old = table_of(DOCUMENTS)
    passage_cut = sum(n for _, n in DOCUMENTS[:cut])
    total = sum(n for _, n in DOCUMENTS)
    new_document = ({"path": "new.txt", "format": "text", "size": 99}, 2)

    copied = MetadataColumns()
    copied.extend_from(old, 0, passage_cut)
    copied.start_document(new_document[0])
    copied.add_passage()
    copied.add_passage()
    copied.extend_from(old, passage_cut, total)

    expected = added_one_by_one([*DOCUMENTS[:cut], new_document, *DOCUMENTS[cut:]])
    assert_same_payload(copied.payload(), expected.payload())


@pytest.mark.parametrize("cut", [1, 3, 4, 5])
def test_rows_copied_from_the_middle_number_keys_and_values_by_first_use(cut: int) -> None:
    """A range whose first documents use keys and values the earlier index numbered late (and later
    ones numbered early): the copy numbers them by their first use in the copy, as reading them would."""
    passage_cut = sum(n for _, n in DOCUMENTS[:cut])
    copied = MetadataColumns()
    copied.extend_from(table_of(DOCUMENTS), passage_cut, sum(n for _, n in DOCUMENTS))
    assert_same_payload(copied.payload(), added_one_by_one(DOCUMENTS[cut:]).payload())


def test_an_empty_range_copies_nothing() -> None:
    columns = MetadataColumns()
    columns.extend_from(table_of(DOCUMENTS), 2, 2)
    assert_same_payload(columns.payload(), MetadataColumns().payload())


def test_copied_values_keep_their_kinds() -> None:
    columns = MetadataColumns()
    columns.extend_from(table_of(DOCUMENTS), 0, sum(n for _, n in DOCUMENTS))
    table = MetadataTable(columns.payload(), sum(n for _, n in DOCUMENTS))
    assert table.of_passage(0) == {"path": "a.jsonl", "format": "jsonl", "size": 10, "stars": 4.5}
    assert table.of_passage(2) == {"path": "a.jsonl", "format": "jsonl", "size": 10, "draft": True}
    assert table.of_passage(3) == {}
    assert table.of_passage(7) == {"format": "markdown", "path": "b.md", "draft": False, "size": 1.0}
    assert type(table.of_passage(7)["size"]) is float and type(table.of_passage(0)["size"]) is int
