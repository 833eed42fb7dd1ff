"""Document metadata in the index and the filters on it (`--path`, `--where`): a filtered-out passage
never comes back for any retriever, k larger than the matches returns exactly the matches, old
indexes without metadata still answer, and a crafted metadata payload is refused."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from clihelpers import invoke
from conftest import write_files
from crafted import payload_file, replace_payload
from test_crafted_index import assert_clean_damage, bounded, real

from ragcli.answering import why_nothing
from ragcli.errors import ExitCode, InvalidOptionError
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.records import METADATA_FILE, SearchOptions
from ragcli.retrieval.filters import Condition, Filter
from ragcli.retrieval.index import Index, load_index
from ragcli.retrieval.metadata import MetadataColumns, MetadataTable, as_number
from ragcli.store import MANIFEST

Q = "electricity turbines"  # every document of the small corpus holds one of the words
EVERY_FILE = {"solar.md", "wind.txt", "notes/hydro.rst", "notes/page.html", "records.jsonl"}


def paths_of(index: Index, query: str, k: int = 50, retriever: object = "bm25", **filters: Sequence[str]) -> list[str]:
    hits = index.search(query, k=k, retriever=retriever, filter=Filter.parse(**filters))  # type: ignore[arg-type]
    return [h.path for h in hits]


def passages_where(index: Index, test: object) -> set[int]:
    return {n for n in range(len(index.passages)) if test(index.passages.paths[n])}  # type: ignore[operator]


# --- metadata stored per document --------------------------------------------------------------------


def test_every_document_has_path_format_size_and_mtime(small_corpus: Path, small_index: Path) -> None:
    index = load_index(small_index)
    for number in range(len(index.passages)):
        meta = index.metadata_of(number)
        path = index.passages.paths[number]
        assert meta["path"] == path
        assert meta["size"] == (small_corpus / path).stat().st_size
        mtime = dt.datetime.fromtimestamp((small_corpus / path).stat().st_mtime, dt.timezone.utc)
        assert meta["mtime"] == mtime.strftime("%Y-%m-%dT%H:%M:%SZ")
    formats = {index.passages.paths[n]: index.metadata_of(n)["format"] for n in range(len(index.passages))}
    assert formats["solar.md"] == "markdown" and formats["records.jsonl"] == "jsonl"
    # stored once per document, not per passage: two records of one file are two rows, values shared
    assert len(index.metadata) == index.manifest["counts"]["documents"]
    assert index.info()["metadata_keys"] == dict.fromkeys(["path", "format", "size", "mtime"], 6)


def test_a_table_round_trips_any_keys_and_scalar_types() -> None:
    columns = MetadataColumns()
    documents = [
        {"n": 99, "flag": True, "ratio": 0.5, "who": "ann"},
        {"n": "150", "who": "bob", "none": None},
        {},
        {"n": 2**70, "nested": [1, 2]},
    ]
    for document in documents:
        columns.start_document(document)
        columns.add_passage()
        columns.add_passage()
    table = MetadataTable(columns.payload(), passages=8)
    assert [table.of_passage(n) for n in range(0, 8, 2)] == [
        {"n": 99, "flag": True, "ratio": 0.5, "who": "ann"},
        {"n": "150", "who": "bob"},  # a null is no key
        {},
        {"n": 2**70, "nested": "[1, 2]"},  # not a JSON scalar: kept as text
    ]
    assert table.key_counts() == {"n": 3, "flag": 1, "ratio": 1, "who": 2, "nested": 1}


# --- the condition language --------------------------------------------------------------------------


def table_of(*documents: dict[str, object]) -> MetadataTable:
    columns = MetadataColumns()
    for document in documents:
        columns.start_document(document)
        columns.add_passage()
    return MetadataTable(columns.payload(), passages=len(documents))


def matching(table: MetadataTable, *conditions: str) -> list[int]:
    found = np.ones(len(table), dtype=bool)
    for text in conditions:
        found &= Condition.parse(text).documents(table)
    return np.flatnonzero(found).tolist()


NUMBERS = table_of({"n": 99}, {"n": 100}, {"n": "150"}, {"n": "abc"}, {"m": 1})


@pytest.mark.parametrize(
    "condition, expected",
    [
        ("n>=100", [1, 2]),  # as numbers: 99 < 100 although "99" > "100" as text; "150" reads as a number
        ("n<100", [0]),
        ("n=100", [1]),
        ("n==100.0", [1]),
        ("n!=100", [0, 2, 3]),  # a document without the key never matches, != included
        ("n=abc", [3]),
        ("n>abc", []),
        ("missing=1", []),
        (" n >= 100 ", [1, 2]),
    ],
)
def test_numbers_compare_as_numbers_and_text_as_text(condition: str, expected: list[int]) -> None:
    assert matching(NUMBERS, condition) == expected


DATES = table_of(
    {"d": "2024-01-02"},
    {"d": "2024-01-02T10:00:00Z"},
    {"d": "2023-12-31T23:00:00-02:00"},  # 2024-01-01T01:00Z
    {"d": "not a date"},
)


@pytest.mark.parametrize(
    "condition, expected",
    [
        ("d>=2024-01-01", [0, 1, 2]),
        ("d<2024-01-02", [2]),
        ("d>2024-01-02T09:59:59+00:00", [1]),
        ("d=2024-01-02T00:00:00Z", [0]),
        ("d!=2024-01-02", [1, 2, 3]),
        # .NET's 7 fractional digits and a lowercase t or z were compared as text, matching nothing
        ("d<2024-01-02T10:00:00.0000001Z", [0, 2]),
        ("d>2024-01-02t09:59:59.1234567z", [1]),
        ("d=2024-01-02t10:00:00z", [1]),
    ],
)
def test_iso_dates_compare_as_points_in_time(condition: str, expected: list[int]) -> None:
    assert matching(DATES, condition) == expected


PERIODS = table_of(
    {"d": "2023-12-31T23:00:00Z"},
    {"d": "2024-06-15"},
    {"d": "2024-07-01T00:30:00+02:00"},  # 2024-06-30T22:30Z
    {"d": "2025-01-01"},
    {"d": 2024},  # a number: compares as one
)


@pytest.mark.parametrize(
    "condition, expected",
    [
        ("d>=2024", [1, 2, 3, 4]),  # `mtime>=2024` matched no date at all: a number against date text
        ("d>2024", [3]),
        ("d<2024", [0]),
        ("d<=2024", [0, 1, 2, 4]),
        ("d=2024", [1, 2, 4]),
        ("d!=2024", [0, 3]),
        ("d=2024-06", [1, 2]),
        ("d<=2024-06", [0, 1, 2, 4]),  # 4 is no date: compared as text, as before ("2024" < "2024-06")
        ("d>2024-06", [3]),
    ],
)
def test_a_bare_year_or_month_compares_with_dates_as_that_period(condition: str, expected: list[int]) -> None:
    assert matching(PERIODS, condition) == expected


def test_conditions_are_anded_and_booleans_are_true_or_false() -> None:
    table = table_of({"a": True, "n": 1}, {"a": False, "n": 2}, {"a": True, "n": 3})
    assert matching(table, "a=true") == [0, 2]
    assert matching(table, "a=true", "n>1") == [2]


@pytest.mark.parametrize("text", ["size", "=5", ">=3", "size>", "size<=", ""])
def test_a_malformed_condition_is_a_usage_error(text: str) -> None:
    with pytest.raises(InvalidOptionError):
        Filter.parse(where=[text])


@pytest.mark.parametrize(
    "text, meant",
    [
        ("author=>ann", "author>=ann"),
        ("size=<5", "size<=5"),
        ("size==>5", "size>=5"),
        ("size=>=5", "size>=5"),
        ("author===ann", "author=ann"),
        ("author!==ann", "author!=ann"),
        ("author=!ann", "author!=ann"),
        ("size<>5", "size!=5"),
        ("size>>5", "size>5"),
        ("size <= <5", "size<=5"),
    ],
)
def test_a_mistyped_operator_is_a_usage_error_naming_the_one_meant(text: str, meant: str) -> None:
    """`author=>ann` was `author = '>ann'`: no match, exit 0. A value cannot start with an operator's
    character (the syntax has no quoting), so a glued pair is a typo and the message says which."""
    with pytest.raises(InvalidOptionError) as error:
        Filter.parse(where=[text])
    assert error.value.exit_code == ExitCode.USAGE
    assert error.value.message.endswith(f"is not an operator; did you mean {meant!r}?"), error.value.message
    assert error.value.hint == "--where cannot match a value that starts with =, !, < or >"


def test_no_filter_is_none_and_an_empty_glob_is_refused() -> None:
    assert Filter.parse() is None
    with pytest.raises(InvalidOptionError):
        Filter.parse(paths=[" "])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Filter.parse(paths="*.md"), "a list of path globs is needed, not one string"),
        (lambda: Filter.parse(where="format=markdown"), "a list of where conditions is needed, not one string"),
        (lambda: Filter.parse(paths=None), "a list of path globs is needed, not NoneType"),
        (lambda: Filter.parse(where=None), "a list of where conditions is needed, not NoneType"),
        (lambda: Filter.parse(paths=[None]), "a --path glob must be text, not NoneType"),
        (lambda: Filter.parse(where=[None]), "a --where condition must be text, not NoneType"),
        (lambda: Filter.parse(where=[123]), "a --where condition must be text, not int"),
        (lambda: Filter(paths="*.md"), "a list of path globs is needed, not one string"),
        (lambda: Filter(paths=("",)), "--path: an empty glob"),
        (lambda: Filter(where=("format=markdown",)), "a --where condition must be a Condition, not str"),
    ],
)
def test_a_string_or_none_where_a_list_is_needed_is_a_usage_error(make: Any, message: str) -> None:
    """`paths="*.md"` was the globs '*', '.', 'm', 'd' (and '*' matched every file); None, `[None]` or
    `[123]` were a bare TypeError or AttributeError."""
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        make()


@pytest.mark.parametrize(("glob", "at"), [("[z-a]", 2), ("docs/{a,[z-a]}/*.md", 10)])
def test_an_invalid_path_glob_is_refused_before_any_work_as_an_exclude_glob_is(
    tmp_path: Path, glob: str, at: int
) -> None:
    """`--path '[z-a]'` matched nothing, silently (exit 0, "Nothing matched"), where `index --exclude
    '[z-a]'` is exit 2: the same one line and exit code now, before the index is even looked for. The
    place named is the glob's (it was the position in the regular expression the glob became)."""
    result = invoke("query", "honeybees", "-i", str(tmp_path / "no-index"), "--no-generate", "--path", glob)
    assert result.exit_code == ExitCode.USAGE and result.stdout == "", result.output
    said = f"ragcli: error: --path {glob!r}: not a valid glob (bad character range z-a at character {at} of the glob)"
    assert result.stderr.startswith(said), result.stderr
    with pytest.raises(InvalidOptionError, match="not a valid glob"):
        Filter.parse(paths=[glob])


@pytest.mark.parametrize("glob", ["[", "notes[1.md", "docs/[!a/*.md"])
def test_a_path_glob_whose_bracket_is_never_closed_is_refused(tmp_path: Path, glob: str) -> None:
    """`--path '['` said "Nothing matched" with exit 0: git discards such a pattern, so it matched nothing.
    `index --exclude` refuses it the same way; `[[]` is the literal `[` it probably meant."""
    result = invoke("query", "honeybees", "-i", str(tmp_path / "no-index"), "--no-generate", "--path", glob)
    assert result.exit_code == ExitCode.USAGE and result.stdout == "", result.output
    assert result.stderr.startswith(f"ragcli: error: --path {glob!r}: not a valid glob (a '[' is never closed)")
    with pytest.raises(InvalidOptionError, match=re.escape("write '[[]' for a literal '['")):
        Filter.parse(paths=[glob])
    indexed = invoke("index", str(tmp_path), "-i", str(tmp_path / "idx"), "--exclude", glob)
    assert indexed.exit_code == ExitCode.USAGE and "a '[' is never closed" in indexed.stderr, indexed.output
    assert Filter.parse(paths=["[[]", "notes[1].md", "#notes.md"]) is not None  # a literal '[', a class, a '#'


@pytest.mark.parametrize(
    "value", ["2026-13-45", "2026-02-30", "2026-13", "2026-00", "2024-06-15T25:00", "2024-06-15+99:00"]
)
def test_a_where_value_written_as_a_date_that_is_none_is_refused(tmp_path: Path, value: str) -> None:
    """`--where 'mtime>2026-13-45'` compared as text: "nothing matched" (or the wrong documents), exit 0."""
    result = invoke(
        "query", "honeybees", "-i", str(tmp_path / "no-index"), "--no-generate", "--where", f"mtime>{value}"
    )
    assert result.exit_code == ExitCode.USAGE and result.stdout == "", result.output
    assert result.stderr.startswith(f"ragcli: error: --where 'mtime>{value}': {value!r} is no date there is")
    for make in (lambda: Filter.parse(where=[f"mtime={value}"]), lambda: Condition("mtime", "<", value)):
        with pytest.raises(InvalidOptionError, match="a date is YYYY-MM-DD"):
            make()
    assert Filter.parse(where=["mtime>=2024-02-29", "mtime<2026-12", "mtime>2024", "id=2024-1-5"]) is not None


def test_a_date_shaped_code_in_an_ordinary_field_is_compared_as_text(tmp_path: Path) -> None:
    """`--where part=2024-15` was refused as "no date there is", though a record's field holds the code
    `2024-15` and the equality compares text: only a date key (`mtime`) or an ordering refuses it."""
    corpus = tmp_path / "docs"
    records = [{"id": "a", "text": "lemur facts here", "part": "2024-15"}, {"id": "b", "text": "lemur", "part": "x"}]
    write_files(corpus, {"r.jsonl": "".join(json.dumps(r) + "\n" for r in records)})
    index = tmp_path / "idx"
    assert invoke("index", str(corpus), "-i", str(index), "-q").exit_code == 0
    for condition, expected in (("part=2024-15", "lemur facts here"), ("part!=2024-15", "lemur")):
        result = invoke("query", "lemur", "-i", str(index), "--no-generate", "--json", "--where", condition)
        assert result.exit_code == 0, result.output
        assert [h["text"] for h in json.loads(result.stdout)["hits"]] == [expected], condition
    for refused in ("part>2024-15", "mtime=2024-15", "mtime!=2024-02-30"):
        with pytest.raises(InvalidOptionError, match="is no date there is"):
            Filter.parse(where=[refused])


def test_any_iterable_of_globs_and_conditions_is_taken_and_kept_as_a_tuple() -> None:
    parsed = Filter.parse(paths=(g for g in ["*.md", "docs/**"]), where=iter(["format=markdown"]))
    assert parsed is not None and parsed.paths == ("*.md", "docs/**")
    assert parsed.where == (Condition("format", "=", "markdown"),)
    made = Filter(paths=["*.md"], where=[Condition("size", ">", "3")])  # type: ignore[arg-type]
    assert made.paths == ("*.md",) and made.where == (Condition("size", ">", "3"),) and hash(made)


def test_path_globs_use_the_path_metadata_and_the_passage_path_where_a_document_has_none() -> None:
    from ragcli.retrieval.filters import path_mask
    from ragcli.store import StringTable

    columns = MetadataColumns()
    documents = [("a/x.md", {"path": "a/x.md"}), ("b/y.md", {}), ("b/z.txt", {"path": "b/z.txt"})]
    passage_paths = []
    for path, metadata in documents:
        columns.start_document(metadata)
        for _ in range(2):
            columns.add_passage()
            passage_paths.append(path)
    table = MetadataTable(columns.payload(), passages=6)
    paths = StringTable.from_strings(passage_paths)
    assert path_mask(paths, ("*.md",), table).tolist() == [True, True, True, True, False, False]
    assert path_mask(paths, ("b/**",), table).tolist() == [False, False, True, True, True, True]
    assert path_mask(paths, ("b/**",), None).tolist() == path_mask(paths, ("b/**",), table).tolist()


# --- every retriever returns only what the filter admits ------------------------------------------


@pytest.mark.parametrize("retriever", ["bm25", "tfidf"])
def test_lexical_retrievers_return_exactly_the_matching_passages(small_index: Path, retriever: str) -> None:
    index = load_index(small_index)
    # with k above the matches, exactly the matches come back
    assert sorted(paths_of(index, Q, retriever=retriever, paths=["notes/**"])) == [
        "notes/hydro.rst",
        "notes/page.html",
    ]
    assert paths_of(index, Q, retriever=retriever, where=["format=jsonl"]) == ["records.jsonl"] * 2
    assert paths_of(index, Q, k=1, retriever=retriever, where=["format=jsonl"]) == ["records.jsonl"]
    assert paths_of(index, Q, retriever=retriever, paths=["nowhere/**"]) == []
    assert paths_of(index, Q, retriever=retriever, where=["no_such_key=1"]) == []
    unfiltered = index.search(Q, k=50, retriever=retriever)
    assert {h.path for h in unfiltered} == EVERY_FILE


def test_globs_span_folders_and_a_glob_without_slash_matches_names_anywhere(small_index: Path) -> None:
    index = load_index(small_index)
    assert sorted(paths_of(index, Q, paths=["**/*.html", "*.md"])) == ["notes/page.html", "solar.md"]
    assert sorted(paths_of(index, Q, paths=["*.{rst,txt}"])) == ["notes/hydro.rst", "wind.txt"]
    assert paths_of(index, Q, paths=["notes/*.rst"]) == ["notes/hydro.rst"]
    assert paths_of(index, Q, paths=["*/solar.md"]) == []  # with a '/': the whole path


def test_path_and_where_together_and(small_index: Path) -> None:
    index = load_index(small_index)
    assert paths_of(index, Q, paths=["notes/**"], where=["format=html"]) == ["notes/page.html"]
    assert paths_of(index, Q, paths=["notes/**"], where=["format=markdown"]) == []


def test_when_a_filter_or_min_score_empties_the_results_the_reason_is_given(small_index: Path) -> None:
    index = load_index(small_index)
    reason = why_nothing(index, Q, "bm25", Filter.parse(where=["colour=red"]), None)
    assert reason == "no document has the metadata key 'colour' (this index's keys: format, mtime, path, size)"
    assert (
        why_nothing(index, Q, "bm25", Filter.parse(where=["size>1e12"]), None)
        == "no passage is within --where 'size>1e12'"
    )
    outside = why_nothing(index, "photovoltaic", "bm25", Filter.parse(paths=["*.txt"]), None)
    assert outside is not None and "passages outside it do" in outside  # the word is in solar.md only
    best = index.search(Q, k=1)[0].score
    assert (
        why_nothing(index, Q, "bm25", None, best + 1)
        == f"no passage scores at least {best + 1:g} (the best scores {best:.3f})"
    )
    assert why_nothing(index, "zzzqqq", "bm25", Filter.parse(paths=["*.txt"]), 0.5) is None  # its words match nothing


def test_with_a_filter_the_reason_names_the_filter_only_when_it_is_the_cause(small_index: Path) -> None:
    index = load_index(small_index)
    within = Filter.parse(where=["format=jsonl"])
    best = index.search(Q, k=1, filter=within)[0].score
    # passages within the filter match, but none scores --min-score: the score is the cause
    assert (
        why_nothing(index, Q, "bm25", within, best + 1)
        == f"no passage within --where 'format=jsonl' scores at least {best + 1:g} (the best scores {best:.3f})"
    )
    # no passage within the filter holds the words (solar.md does): the filter is the cause, min-score or not
    txt = Filter.parse(paths=["*.txt"])
    outside = "no passage within --path '*.txt' matches this question (passages outside it do)"
    assert why_nothing(index, "photovoltaic", "bm25", txt, None) == outside
    assert why_nothing(index, "photovoltaic", "bm25", txt, 1000.0) == outside


def test_the_cli_says_why_nothing_matched(small_index: Path) -> None:
    result = invoke("query", Q, "--no-generate", "--index", str(small_index), "--where", "colour=red")
    assert result.exit_code == 0, result.output
    assert "Nothing matched: no document has the metadata key 'colour'" in " ".join(result.stdout.split())
    assert len(result.stdout.splitlines()) == 1  # in a pipe one line, however long, not wrapped at 80 columns
    plain = invoke("query", Q, "--no-generate", "--plain", "--index", str(small_index), "--where", "colour=red")
    assert plain.exit_code == 0 and plain.stdout == ""  # an editor's list of locations: empty
    assert "ragcli: note: nothing matched: no document has the metadata key 'colour'" in plain.stderr
    answered = invoke("query", Q, "--index", str(small_index), "--min-score", "1000", "-g", "extractive")
    assert answered.exit_code == 0, answered.output
    assert "ragcli: note: nothing matched: no passage scores at least 1000" in " ".join(answered.stderr.split())
    too_high = ("--where", "format=jsonl", "--min-score", "1000")
    shown = invoke("query", Q, "--no-generate", "--index", str(small_index), *too_high)
    assert shown.exit_code == 0, shown.output
    scored = "no passage within --where 'format=jsonl' scores at least 1000 (the best scores"
    assert f"Nothing matched: {scored}" in " ".join(shown.stdout.split())
    noted = invoke("query", Q, "--index", str(small_index), *too_high, "-g", "extractive")
    assert noted.exit_code == 0, noted.output
    assert f"ragcli: note: nothing matched: {scored}" in " ".join(noted.stderr.split())
    for args, stdin in [((Q, "--json"), None), (("-",), f"{Q}\n")]:  # generated JSON said nothing
        quiet = invoke("query", *args, "--index", str(small_index), "-g", "extractive", *too_high, input=stdin)
        assert quiet.exit_code == 0 and json.loads(quiet.stdout)["sources"] == [], quiet.output
        assert f"nothing matched: {scored}" in " ".join(quiet.stderr.split()), quiet.stderr
    untouched = invoke("query", "zzzqqq", "--no-generate", "--index", str(small_index), "--where", "colour=red")
    assert "no document has the metadata key 'colour'" in untouched.stdout  # the filter empties it first


def test_a_key_holding_an_escape_is_named_escaped_on_stdout_as_on_stderr(tmp_path: Path) -> None:
    """The key `k\\x1b[1mey` stripped of its sequence read "key": the line then named as existing the
    key it said no document has. Both outputs escape it (README: metadata keys are escaped)."""
    corpus = tmp_path / "docs"
    write_files(corpus, {"recs.jsonl": '{"id": "a", "text": "honeybee record", "k\\u001b[1mey": "v"}\n'})
    index = tmp_path / "idx"
    assert invoke("index", str(corpus), "-i", str(index), "-q").exit_code == 0
    keys = "(this index's keys: format, k\\x1b[1mey, mtime, path, size)"
    table = invoke("query", "honeybee", "-i", str(index), "--no-generate", "--where", "key=v")
    assert table.exit_code == 0 and keys in table.stdout, table.stdout
    plain = invoke("query", "honeybee", "-i", str(index), "--no-generate", "--plain", "--where", "key=v")
    assert plain.exit_code == 0 and keys in plain.stderr, plain.stderr


def test_size_compares_as_a_number(small_corpus: Path, small_index: Path) -> None:
    index = load_index(small_index)
    sizes = {name: (small_corpus / name).stat().st_size for name in EVERY_FILE}
    for name, size in sizes.items():
        expected = sorted(n for n, s in sizes.items() if s >= size)
        assert sorted(set(paths_of(index, Q, where=[f"size>={size}"]))) == expected, name
        below = sorted(n for n, s in sizes.items() if s < size)
        assert sorted(set(paths_of(index, Q, where=[f"size<{size}"]))) == below, name


def test_mtime_compares_as_a_date(small_corpus: Path, tmp_path: Path) -> None:
    old = dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc).timestamp()
    os.utime(small_corpus / "wind.txt", (old, old))
    build_index([small_corpus], tmp_path / "dated", BuildSettings())
    index = load_index(tmp_path / "dated")
    assert paths_of(index, Q, where=["mtime<2010-01-01"]) == ["wind.txt"]
    assert paths_of(index, Q, where=["mtime<2002"]) == paths_of(index, Q, where=["mtime=2001-02"]) == ["wind.txt"]
    assert set(paths_of(index, Q, where=["mtime>=2002"])) == EVERY_FILE - {"wind.txt"}
    assert paths_of(index, Q, where=["mtime=2001-02-03T04:05:06Z"]) == ["wind.txt"]
    assert "wind.txt" not in paths_of(index, Q, where=["mtime>=2001-02-03T04:05:07+00:00"])


class EveryPassage:
    """A plugin-style scorer that scores every passage 0 (what a mask-based retriever would do): a
    filter must drop the excluded ones, never return them with score 0."""

    name = "every"

    def __init__(self, n: int) -> None:
        self.n = n

    def score(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(self.n, dtype=np.int64), np.zeros(self.n)

    def score_many(self, queries: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        return [self.score(q) for q in queries]


def test_a_plugin_scorer_is_restricted_through_the_seam(small_index: Path) -> None:
    index = load_index(small_index)
    scorer = EveryPassage(len(index.passages))
    restriction = Filter.parse(paths=["notes/**"])
    hits = index.search("anything", k=50, retriever=scorer, filter=restriction)
    notes = passages_where(index, lambda p: p.startswith("notes/"))
    assert len(hits) == len(notes) == 2 and {h.path for h in hits} == {"notes/hydro.rst", "notes/page.html"}
    many = index.search_many(["a", "b"], k=50, retriever=scorer, filter=restriction)
    assert [[h.id for h in hs] for hs in many] == [[h.id for h in hits]] * 2
    assert index.search("anything", k=50, retriever=scorer, filter=Filter.parse(paths=["x/**"])) == []


def test_many_queries_are_filtered_like_one(small_index: Path) -> None:
    index = load_index(small_index)
    restriction = Filter.parse(where=["format!=markdown"])
    queries = [Q, "wind turbines", "solar", "batteries night"]
    one_by_one = [[h.id for h in index.search(q, k=3, filter=restriction)] for q in queries]
    together = [[h.id for h in hs] for hs in index.search_many(queries, k=3, filter=restriction)]
    assert together == one_by_one
    assert all("solar.md" not in h for hs in one_by_one for h in hs) and one_by_one[2] == []


# --- dense and fusion ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dense_filter_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import SMALL_FILES
    from test_dense import build_tiny_embedder

    from ragcli.retrieval.embedder import EmbeddingSettings

    root = tmp_path_factory.mktemp("dense-filter")
    embedder = build_tiny_embedder(root / "tiny-bert")
    corpus = write_files(root / "corpus", SMALL_FILES)
    settings = BuildSettings(retrievers={"dense": EmbeddingSettings(model=str(embedder), precision="fp32")})
    build_index([corpus], root / "index", settings)
    return root / "index"


@pytest.mark.parametrize("retriever", ["dense", "hybrid", "hybrid-zscore", "hybrid-rrf"])
def test_dense_and_fused_retrievers_return_exactly_the_matching_passages(
    dense_filter_index: Path, retriever: str
) -> None:
    index = load_index(dense_filter_index)
    found = paths_of(index, Q, retriever=retriever, paths=["notes/**"])
    assert sorted(found) == ["notes/hydro.rst", "notes/page.html"]
    assert paths_of(index, Q, retriever=retriever, where=["format=jsonl"]) == ["records.jsonl"] * 2
    assert paths_of(index, Q, retriever=retriever, where=["size<0"]) == []
    assert {h.path for h in index.search(Q, k=50, retriever=retriever)} == EVERY_FILE


@pytest.mark.parametrize("retriever", ["hybrid", "hybrid-zscore", "hybrid-rrf"])
def test_fusion_fuses_the_restricted_lists(dense_filter_index: Path, retriever: str) -> None:
    """With one passage per list (fusion depth 1), a restriction applied after fusing would leave nothing
    whenever neither list's best passage matches; fusing the restricted lists finds the best match."""
    index = load_index(dense_filter_index)
    scorer = index.retriever(retriever, SearchOptions(fusion_depth=1))
    best = {h.path for name in ("bm25", "dense") for h in index.search(Q, k=1, retriever=name)}
    outside = sorted(EVERY_FILE - best)[0]
    hits = index.search(Q, k=5, retriever=scorer, filter=Filter.parse(paths=[outside]))
    assert hits and {h.path for h in hits} == {outside}


# --- old indexes, rebuilds, crafted payloads ----------------------------------------------------------


def drop_metadata(index_dir: Path) -> None:
    """Make the index look like one built before metadata was stored."""
    payload_file(index_dir, METADATA_FILE).unlink()
    manifest = json.loads((index_dir / MANIFEST).read_text())
    del manifest["files"][METADATA_FILE]
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


def test_an_index_without_metadata_still_queries_and_path_still_filters(small_corpus: Path, small_index: Path) -> None:
    drop_metadata(small_index)
    index = load_index(small_index)
    assert sorted(paths_of(index, Q, paths=["notes/**"])) == ["notes/hydro.rst", "notes/page.html"]
    assert paths_of(index, Q, where=["format=markdown"]) == []
    assert paths_of(index, Q, where=["format!=markdown"]) == []
    assert index.info()["metadata_keys"] == {}
    assert {h.path for h in index.search(Q, k=50)} == EVERY_FILE
    result = invoke("query", Q, "--index", str(small_index), "--no-generate", "--json")
    assert result.exit_code == 0 and all(h["metadata"] == {} for h in json.loads(result.stdout)["hits"])
    build_index([small_corpus], small_index, BuildSettings())  # re-reads every file: metadata appears
    assert paths_of(load_index(small_index), Q, where=["format=markdown"]) == ["solar.md"]


def test_passages_reused_by_an_incremental_build_keep_their_metadata(small_corpus: Path, small_index: Path) -> None:
    before = load_index(small_index)
    solar_before = before.metadata_of(before.search("solar", k=1)[0])
    (small_corpus / "wind.txt").write_text("Wind turbines\n\nA much longer text about wind and electricity.\n")
    report = build_index([small_corpus], small_index, BuildSettings())
    assert report.changed == 1 and report.unchanged == len(EVERY_FILE) - 1
    after = load_index(small_index)
    assert after.metadata_of(after.search("solar", k=1)[0]) == solar_before
    assert after.metadata_of(after.search("wind", k=1)[0])["size"] == (small_corpus / "wind.txt").stat().st_size
    assert after.info()["metadata_keys"] == dict.fromkeys(["path", "format", "size", "mtime"], 6)
    assert paths_of(after, Q, where=["format=jsonl"]) == ["records.jsonl"] * 2


CRAFTED = {
    "key-out-of-range": lambda p: p.update(entry_key=np.full_like(p["entry_key"], 10**6)),
    "value-out-of-range": lambda p: p.update(entry_value=np.full_like(p["entry_value"], -5)),
    "row-out-of-range": lambda p: p.update(doc_of=np.full_like(p["doc_of"], 10**6)),
    "rows-decreasing": lambda p: p.update(doc_indptr=p["doc_indptr"][::-1].copy()),
    "wrong-dtype": lambda p: p.update(doc_of=p["doc_of"].astype(np.float64)),
    "missing-array": lambda p: p.pop("value_kind"),
    "bad-kind": lambda p: p.update(value_kind=np.full_like(p["value_kind"], 9)),
    "short-passage-rows": lambda p: p.update(doc_of=p["doc_of"][:1].copy()),
}


@pytest.mark.parametrize("damage", list(CRAFTED))
def test_a_crafted_metadata_payload_is_refused_with_exit_7(small_index: Path, damage: str) -> None:
    payload = real(small_index, METADATA_FILE)
    CRAFTED[damage](payload)
    replace_payload(small_index, METADATA_FILE, payload)
    args = ("--index", str(small_index))
    assert_clean_damage(bounded("query", Q, "--no-generate", "--where", "format=markdown", *args))
    assert_clean_damage(bounded("info", *args))
    plain = bounded("query", Q, "--no-generate", *args)  # without a filter: not read at all
    assert plain.returncode == 0, plain.stderr


def test_invalid_filters_exit_2_before_any_work(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-index")
    for args in (["--where", "size"], ["--where", "size>="], ["--path", ""]):
        result = invoke("query", "x", "--index", missing, "--no-generate", *args)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "--" in result.stderr and "Traceback" not in result.stderr


def test_a_query_without_filters_never_opens_the_metadata(small_index: Path) -> None:
    index = load_index(small_index)
    assert index.search(Q, k=3) and METADATA_FILE not in index._build.payloads
    assert index.search(Q, k=3, filter=Filter.parse(where=["size>=1"])) and METADATA_FILE in index._build.payloads


def test_a_number_past_a_float_compares_as_infinite_not_as_text(small_index: Path) -> None:
    """ "size<1e309" kept fewer documents than "size<=1e308": the overflowing number compared as text."""
    assert as_number("1e999") == math.inf and as_number("-1e999") == -math.inf and math.isnan(as_number("1e9x"))
    index = load_index(small_index)
    every = sorted(set(paths_of(index, Q)))
    assert sorted(set(paths_of(index, Q, where=["size<1e309"]))) == every
    assert paths_of(index, Q, where=["size>=1e999"]) == [] and paths_of(index, Q, where=["size<-1e999"]) == []


def test_path_globs_and_where_values_match_whatever_the_unicode_normalisation() -> None:
    # macOS names files decomposed ("e" + a combining acute): a glob or a value typed composed matched nothing
    from ragcli.retrieval.filters import path_mask
    from ragcli.store import StringTable

    decomposed = unicodedata.normalize("NFD", "Résumé.md")
    columns = MetadataColumns()
    for path in (decomposed, "other.md"):
        columns.start_document({"path": path, "author": unicodedata.normalize("NFD", "Zoë")})
        columns.add_passage()
    table = MetadataTable(columns.payload(), passages=2)
    paths = StringTable.from_strings([decomposed, "other.md"])
    assert path_mask(paths, ("Résumé.md",), table).tolist() == [True, False]
    assert path_mask(paths, ("Résumé.md",), None).tolist() == [True, False]
    assert path_mask(paths, (unicodedata.normalize("NFD", "R*é.md"),), table).tolist() == [True, False]
    assert matching(table, "path=Résumé.md") == [0]
    assert matching(table, "author=Zoë") == [0, 1]
    assert matching(table, "path!=Résumé.md") == [1]


def test_where_keys_match_whatever_the_unicode_normalisation(tmp_path: Path) -> None:
    """A record's key written decomposed ("cate" + a combining acute + "gorie"): `--where catégorie=abc`
    typed composed matched nothing, and the note named as unknown a key the index listed, looking alike."""
    key = unicodedata.normalize("NFD", "catégorie")
    corpus = write_files(tmp_path / "c", {"r.jsonl": json.dumps({"id": "a", "text": "honey bees", key: "abc"}) + "\n"})
    invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q")
    found = invoke("query", "honey", "-i", str(tmp_path / "idx"), "--no-generate", "--json", "--where", "catégorie=abc")
    assert found.exit_code == 0 and [h["doc_id"] for h in json.loads(found.stdout)["hits"]] == ["a"], found.output
    missed = invoke("query", "honey", "-i", str(tmp_path / "idx"), "--no-generate", "--where", "catégorie=xyz")
    assert missed.exit_code == 0 and "no document has the metadata key" not in missed.stderr, missed.stderr
