from __future__ import annotations

import itertools
import math

import pytest

from ragcli.chunking import ChunkSettings, split_document
from ragcli.errors import InvalidOptionError
from ragcli.records import Document


def make_doc(text: str, **kwargs: object) -> Document:
    return Document(id="d", text=text, title="T", path="d.txt", **kwargs)  # type: ignore[arg-type]


def test_windows_overlap_and_offsets_reproduce_the_text() -> None:
    words = [f"w{i}" for i in range(25)]
    text = "\n".join(" ".join(words[i : i + 5]) for i in range(0, 25, 5))
    passages = split_document(make_doc(text), ChunkSettings(size=10, overlap=3))
    assert [p.text.split()[0] for p in passages] == ["w0", "w7", "w14", "w21"]
    assert passages[-1].text.split()[-1] == "w24"
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert len(p.text.split()) <= 10
    assert [p.line for p in passages] == [1, 2, 3, 5]
    assert [p.id for p in passages] == ["d#0", "d#1", "d#2", "d#3"]


def test_size_zero_keeps_the_document_whole() -> None:
    passages = split_document(make_doc("  one two three  "), ChunkSettings(size=0))
    assert [p.text for p in passages] == ["one two three"]


def test_empty_document_has_no_passages() -> None:
    assert split_document(make_doc("   \n "), ChunkSettings()) == []


def test_title_is_indexed_with_every_passage_unless_the_text_carries_it() -> None:
    doc = make_doc("# T\n" + "word " * 30, title_in_text=True)
    passages = split_document(doc, ChunkSettings(size=10, overlap=0))
    assert not passages[0].index_text.startswith("T\n")
    assert passages[1].index_text.startswith("T\n")


def test_lines_start_from_the_record_line() -> None:
    passages = split_document(make_doc("a b\nc d", line=7), ChunkSettings(size=2, overlap=0))
    assert [p.line for p in passages] == [7, 8]


@pytest.mark.parametrize("size, overlap", [(10, 10), (-1, 0), (5, -2)])
def test_bad_settings_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(InvalidOptionError):
        ChunkSettings(size=size, overlap=overlap)


@pytest.mark.parametrize("size, overlap", [(10, 3), (5, 1), (4, 0), (3, 2), (7, 6), (1, 0)])
def test_no_redundant_trailing_passage(size: int, overlap: int) -> None:
    """N words in windows of `size` moving by `size - overlap` need ceil((N - overlap) / (size - overlap))
    passages (at least one): the last window reaches the last word, and no window lies inside another."""
    for n in range(1, 40):
        text = " ".join(f"w{i}" for i in range(n))
        passages = split_document(make_doc(text), ChunkSettings(size=size, overlap=overlap))
        assert len(passages) == max(1, math.ceil((n - overlap) / (size - overlap))), (n, size, overlap)
        assert passages[0].text.split()[0] == "w0" and passages[-1].text.split()[-1] == f"w{n - 1}"
        for before, after in itertools.pairwise(passages):
            assert after.start > before.start and after.end > before.end  # each passage adds new words
            assert len(set(before.text.split()) & set(after.text.split())) == min(overlap, len(after.text.split()))
