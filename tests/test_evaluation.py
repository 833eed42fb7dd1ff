"""Evaluation: metrics against pytrec_eval and scikit-learn, inputs, the runner, tuning."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
import pytrec_eval
from conftest import TUNING_B, TUNING_BEST, TUNING_GRID, TUNING_K1, TUNING_WORST, write_files

from ragcli.errors import InputFormatError, InvalidOptionError, PathNotFoundError, RagcliWarning
from ragcli.evaluation.answers import answer_metrics, exact_match, match, normalize_answer, token_f1
from ragcli.evaluation.checks import held_out_overlap
from ragcli.evaluation.datasets import MAX_GRADE, load_beir, load_eval_set, load_qa_file, questions_to_evaluate
from ragcli.evaluation.metrics import ndcg_at, query_metrics
from ragcli.evaluation.runner import QueryResult, ResultSink, evaluate, retrieve_documents
from ragcli.evaluation.tuning import tune_bm25
from ragcli.generation.extractive import ExtractiveGenerator
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.retrieval.index import load_index

CUTOFFS = [1, 3, 5, 10, 100]


def real_runs(sample_index: Path, n_queries: int = 40, seed: int = 3) -> tuple[dict, dict]:
    """BM25 runs over the sample corpus for real questions, with random graded judgments."""
    index = load_index(sample_index)
    docs = sorted({index.passages.doc_ids[i] for i in range(len(index.passages))})
    rng = np.random.default_rng(seed)
    words = [
        "bees",
        "honey",
        "queen",
        "wax",
        "dance",
        "hive",
        "pollen",
        "varroa",
        "swarm",
        "nectar",
        "brood",
        "temperature",
        "propolis",
        "frame",
    ]
    run, qrels = {}, {}
    for q in range(n_queries):
        question = " ".join(rng.choice(words, size=3))
        ranking: list[str] = []
        for hit in index.search(question, k=200):
            if hit.doc_id not in ranking:
                ranking.append(hit.doc_id)
        # strictly decreasing scores: trec_eval breaks ties its own way, so give it none
        run[f"q{q}"] = {doc: float(len(ranking) - i) for i, doc in enumerate(ranking)}
        judged = rng.choice(docs, size=8, replace=False)
        qrels[f"q{q}"] = {str(d): int(rng.integers(0, 4)) for d in judged}
    return run, qrels


def test_metrics_equal_pytrec_eval_on_real_runs(sample_index: Path) -> None:
    run, qrels = real_runs(sample_index)
    measures = {
        "map",
        "recip_rank",
        "ndcg_cut.1,3,5,10,100",
        "P.1,3,5,10,100",
        "recall.1,3,5,10,100",
        "success.1,3,5,10,100",
    }
    reference = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    checked = 0
    for qid, scores in run.items():
        ranking = sorted(scores, key=lambda d: -scores[d])
        ours = query_metrics(ranking, qrels[qid], [*CUTOFFS, len(ranking) or 1])
        ref = reference[qid]
        assert ours["map"] == pytest.approx(ref["map"], abs=1e-4)
        assert ours[f"mrr@{len(ranking) or 1}"] == pytest.approx(ref["recip_rank"], abs=1e-4)
        for k in CUTOFFS:
            assert ours[f"ndcg@{k}"] == pytest.approx(ref[f"ndcg_cut_{k}"], abs=1e-4), (qid, k)
            assert ours[f"precision@{k}"] == pytest.approx(ref[f"P_{k}"], abs=1e-4)
            assert ours[f"recall@{k}"] == pytest.approx(ref[f"recall_{k}"], abs=1e-4)
            assert ours[f"hit_rate@{k}"] == pytest.approx(ref[f"success_{k}"], abs=1e-4)
        checked += 1
    assert checked >= 20


def test_ndcg_equals_sklearn_where_the_definitions_agree() -> None:
    from sklearn.metrics import ndcg_score

    # every judged document retrieved, so sklearn's ideal (from the scored list) equals trec_eval's
    grades = {"a": 3, "b": 0, "c": 2, "d": 1, "e": 0}
    ranking = ["b", "c", "a", "e", "d"]
    scores = [5, 4, 3, 2, 1]
    for k in (1, 3, 5):
        expected = ndcg_score([[grades[d] for d in ranking]], [scores], k=k)
        assert ndcg_at(ranking, grades, k) == pytest.approx(expected)


def test_hand_computed_metrics() -> None:
    values = query_metrics(["x", "a", "y", "b"], {"a": 1, "b": 1, "c": 1}, [2, 4])
    assert values["recall@2"] == pytest.approx(1 / 3)
    assert values["precision@4"] == pytest.approx(0.5)
    assert values["mrr@2"] == pytest.approx(0.5)
    assert values["map"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert values["ndcg@2"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))


def test_squad_answer_metrics() -> None:
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert exact_match("the eiffel tower", ["Eiffel Tower", "Paris"]) == 1.0
    assert token_f1("eiffel tower in paris", ["Eiffel Tower"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("nothing", ["Eiffel Tower"]) == 0.0
    scores = answer_metrics("the cat sat on the mat", ["the cat sat on the mat"])
    assert scores == {
        "exact_match": 1.0,
        "f1": 1.0,
        "match": 1.0,
        "bleu": pytest.approx(1.0),
        "rouge_l": pytest.approx(1.0),
    }
    assert 0 < answer_metrics("a cat sat on a mat today", ["the cat sat on the mat"])["bleu"] < 1


def test_exact_match_and_f1_take_the_best_gold_answer() -> None:
    assert exact_match("Paris", ["Eiffel Tower", "Paris"]) == 1.0  # the second gold answer matches
    assert exact_match("paris!", ["Eiffel Tower", "in Lyon", "The Paris"]) == 1.0
    assert exact_match("Paris", ["Eiffel Tower"]) == 0.0 and exact_match("Paris", []) == 0.0
    assert token_f1("Paris", ["Eiffel Tower", "Paris"]) == 1.0
    assert token_f1("eiffel tower in paris", ["Paris", "Eiffel Tower"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("x", []) == 0.0


def test_f1_counts_repeated_tokens_as_squad_does() -> None:
    # SQuAD's F1 intersects token multisets (collections.Counter), not sets
    assert token_f1("cat cat dog", ["cat cat"]) == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))  # 0.8
    assert token_f1("cat cat cat", ["cat"]) == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))  # 0.5
    assert token_f1("cat", ["cat cat"]) == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert token_f1("the cat and the hat", ["a cat and a hat"]) == 1.0  # articles dropped before counting


def test_chinese_and_japanese_answers_are_scored_character_by_character() -> None:
    # MLQA's evaluation for Chinese: each character a token, all punctuation gone; whitespace tokens made
    # "信濃" and "信濃川" share nothing, and "6300公里" and "约6300公里" too
    assert normalize_answer("约6300公里，") == "约 6300 公 里"
    assert token_f1("信濃", ["信濃川"]) == pytest.approx(2 * 1 * (2 / 3) / (1 + 2 / 3))  # 0.8
    assert token_f1("6300公里", ["约6300公里"]) == pytest.approx(2 * 1 * (3 / 4) / (1 + 3 / 4))
    assert exact_match("『坊っちゃん』", ["坊っちゃん"]) == 1.0 and match("最后在上海", ["上海"]) == 1.0
    assert match("上海市", ["海"]) == 1.0 and match("上海", ["上海市"]) == 0.0
    # Unicode punctuation goes whatever script the text is in (ASCII text is normalised as SQuAD's does)
    assert normalize_answer("The “Langstroth’s” hive") == "langstroths hive"


def write_qa(tmp_path: Path, lines: list) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_a_question_is_evaluated_without_its_terminal_sequences(tmp_path: Path) -> None:
    """Searched, asked and reported as the other commands take it; one that is nothing else is empty."""
    path = write_qa(tmp_path, [{"id": "a", "question": " what is \x1b[1mpropolis\x1b[0m? "}, {"question": "\x1b[0m"}])
    eval_set = load_qa_file(path)
    assert [q.question for q in eval_set.queries] == ["what is propolis?"]
    assert [s.reason for s in eval_set.skipped] == ["missing or empty 'question' (a string)"]


def test_qa_file_forms(tmp_path: Path) -> None:
    path = write_qa(
        tmp_path,
        [
            {"question": "q one", "answers": ["bees"], "relevant": ["d1", "d2"]},
            {"id": 7, "question": "q two", "relevant": {"d3": 2, "d4": 0}},
            {"question": "q three", "answers": "single"},
        ],
    )
    queries = load_qa_file(path).queries
    assert [q.id for q in queries] == ["q1", "7", "q3"]
    assert queries[0].qrels == {"d1": 1, "d2": 1} and queries[1].qrels == {"d3": 2, "d4": 0}
    assert queries[2].answers == ["single"] and not queries[2].judged


def test_the_largest_grades_are_read_and_score_a_perfect_ranking_as_1(tmp_path: Path) -> None:
    """±MAX_GRADE is read from either format; nDCG's gains (the grades, linear as in trec_eval) stay
    finite however many documents have it (three grades of 10**308 made nDCG NaN)."""
    path = write_qa(tmp_path, [{"question": "q", "relevant": {"d1": MAX_GRADE, "d2": MAX_GRADE, "d3": -MAX_GRADE}}])
    qrels = load_qa_file(path, strict=True).queries[0].qrels
    assert qrels == {"d1": MAX_GRADE, "d2": MAX_GRADE, "d3": -MAX_GRADE}
    folder = write_files(tmp_path / "beir", {**BEIR, "qrels/test.tsv": f"1\td1\t{MAX_GRADE}\n1\td2\t{MAX_GRADE}\n"})
    assert load_beir(folder, strict=True).queries[0].qrels == {"d1": MAX_GRADE, "d2": MAX_GRADE}
    assert query_metrics(["d1", "d2"], qrels, [2])["ndcg@2"] == 1.0


@pytest.mark.parametrize(
    "line, problem",
    [
        ({"answers": ["x"]}, "missing or empty 'question'"),
        ({"question": 5}, "missing or empty 'question'"),
        ({"question": "q", "answers": [1]}, "'answers' must be a list of strings"),
        ({"question": "q", "relevant": "d1"}, "unknown 'relevant' format"),
        ({"question": "q", "relevant": {"d1": "high"}}, "unknown 'relevant' format"),
        ({"question": "q", "id": [1]}, "'id' must be"),
        ("{not json", "invalid JSON"),
        (["a list"], "a line must be a JSON object"),
    ],
)
def test_bad_qa_lines_name_file_and_line(tmp_path: Path, line: object, problem: str) -> None:
    path = write_qa(tmp_path, [{"question": "fine"}, line])
    with pytest.raises(InputFormatError, match=rf"qa\.jsonl:2: {problem}"):
        load_qa_file(path, strict=True)


def test_duplicate_ids_are_skipped_or_with_strict_stop(tmp_path: Path) -> None:
    path = write_qa(tmp_path, [{"id": "a", "question": "x"}, {"id": "a", "question": "y"}, "oops", {"question": "z"}])
    with pytest.raises(InputFormatError, match="duplicate id 'a'"):
        load_qa_file(path, strict=True)
    loaded = load_qa_file(path)
    assert [q.question for q in loaded.queries] == ["x", "z"]
    assert len(loaded.skipped) == 2


def test_an_automatic_id_never_takes_an_explicit_one(tmp_path: Path) -> None:
    """A line without 'id' was named q<line>, and dropped as a duplicate when another line's id was
    that (`"id": "q2"` on line 1): an automatic id now gives way to every explicit one, before or after."""
    path = write_qa(
        tmp_path,
        [
            {"id": "q2", "question": "a"},
            {"question": "b"},
            {"id": "q2-2", "question": "c"},
            {"question": "d"},
            {"id": "q4", "question": "e"},
            {"question": "f"},
        ],
    )
    loaded = load_qa_file(path, strict=True)
    assert [(q.id, q.question) for q in loaded.queries] == [
        ("q2", "a"),
        ("q2-3", "b"),
        ("q2-2", "c"),
        ("q4-2", "d"),
        ("q4", "e"),
        ("q6", "f"),
    ]
    assert not loaded.skipped


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "line, problem",
    [
        ('{"question": "caf\xe9"}'.encode("latin-1"), r"not UTF-8 text \(byte 0xe9 at column 18\)"),
        (b'{"question": "q", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}", r"invalid JSON \(nested too deeply\)"),
        (DEEP.encode(), r"invalid JSON \(nested too deeply\)"),
        (b'{"question": "q", "id": ' + b"9" * 5000 + b"}", "invalid JSON"),
        (b'{"question": "q", "relevant": {"d1": Infinity}}', r"the grade of 'd1' in 'relevant' is not an integer"),
        (b'{"question": "q", "relevant": {"d1": NaN}}', r"the grade of 'd1' in 'relevant' is not an integer"),
        (b'{"question": "q", "relevant": {"d1": 0.5}}', r"the grade of 'd1' in 'relevant' is not an integer \(0\.5\)"),
        (b'{"question": "q", "relevant": {"d1": 0.9}}', r"the grade of 'd1' in 'relevant' is not an integer \(0\.9\)"),
        (b'{"question": "q", "relevant": {"d1": 2.9}}', r"the grade of 'd1' in 'relevant' is not an integer \(2\.9\)"),
        (b'{"question": "q", "relevant": {"d1": 1.0}}', r"the grade of 'd1' in 'relevant' is not an integer \(1\.0\)"),
        (
            b'{"question": "q", "relevant": {"d1": 1' + b"0" * 400 + b"}}",
            r"the grade of 'd1' in 'relevant' is outside ±2,147,483,647",
        ),
        (
            b'{"question": "q", "relevant": {"d1": 2147483648}}',
            r"the grade of 'd1' in 'relevant' is outside ±2,147,483,647",
        ),
        (
            b'{"question": "q", "relevant": {"d1": -2147483648}}',
            r"the grade of 'd1' in 'relevant' is outside ±2,147,483,647",
        ),
        (b'"just a string"', "a line must be a JSON object"),
        (b'{"question": "q", "relevant": ["d1", ""]}', "an empty document id in 'relevant'"),
        (b'{"question": "q", "relevant": {" ": 1}}', "an empty document id in 'relevant'"),
        (b'{"question": "q", "answers": [""]}', r"an empty gold answer in 'answers' \(fix"),
        (b'{"question": "q", "answers": " "}', r"an empty gold answer in 'answers' \(fix"),
        (b'{"question": "q", "answers": ["bees", "The"]}', r"an empty gold answer in 'answers': 'The' is nothing once"),
        (b'{"question": "q", "answers": ["?!"]}', r"an empty gold answer in 'answers': '\?!' is nothing once"),
    ],
    ids=[
        "latin-1",
        "nested-1000",
        "nested-100000",
        "5000-digits",
        "infinite-grade",
        "nan-grade",
        "grade-0.5",
        "grade-0.9",
        "grade-2.9",
        "grade-1.0",
        "grade-400-digits",
        "grade-2**31",
        "grade--2**31",
        "string",
        "empty-relevant-id",
        "blank-relevant-key",
        "empty-answer",
        "blank-answer",
        "article-answer",
        "punctuation-answer",
    ],
)
def test_any_bad_qa_line_is_bad_input_with_file_and_line(tmp_path: Path, line: bytes, problem: str) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_bytes(b'{"question": "fine"}\n' + line + b'\n{"question": "also fine"}\n')
    with pytest.raises(InputFormatError, match=rf"qa\.jsonl:2: {problem}"):
        load_qa_file(path, strict=True)
    loaded = load_qa_file(path)
    assert [q.question for q in loaded.queries] == ["fine", "also fine"] and len(loaded.skipped) == 1
    assert loaded.skipped[0].path == f"{path}:2"


BEIR = {
    "corpus.jsonl": '{"_id": "d1", "text": "bees dance"}\n{"_id": "d2", "text": "wax"}\n',
    "queries.jsonl": '{"_id": "1", "text": "dance"}\n{"_id": "3", "text": "wax"}\n',
    "qrels/test.tsv": "query-id\tcorpus-id\tscore\n1\td1\t1\n3\td2\t1\n",
}


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("queries.jsonl", b'["not", "an object"]', r"queries\.jsonl:2: a line must be a JSON object"),
        ("queries.jsonl", '{"_id": "3", "text": "caf\xe9"}'.encode("latin-1"), r"queries\.jsonl:2: not UTF-8"),
        ("queries.jsonl", DEEP.encode(), r"queries\.jsonl:2: invalid JSON \(nested too deeply\)"),
        ("queries.jsonl", b'{"text": "no id"}', r"queries\.jsonl:2: missing '_id'"),
        ("qrels/test.tsv", "3\td\xe9\t1".encode("latin-1"), r"test\.tsv:2: not UTF-8"),
        ("qrels/test.tsv", b"3\t" + b"x" * 200_000 + b"\t1", r"test\.tsv:2: unreadable TSV"),
        ("qrels/test.tsv", "3\td2\t\u00b2".encode(), r"test\.tsv:2: expected 'query-id<TAB>corpus-id<TAB>score'"),
        ("qrels/test.tsv", b"3\td2\t1.0", r"test\.tsv:2: grade is not an integer \(1\.0\)"),
        ("qrels/test.tsv", b"3\td2\t1" + b"0" * 400, r"test\.tsv:2: grade is outside ±2,147,483,647"),
        ("qrels/test.tsv", b"3 0 d2 -2147483648", r"test\.tsv:2: grade is outside ±2,147,483,647"),
        ("qrels/test.tsv", b"3\t\t1", r"test\.tsv:2: empty corpus-id: expected 'query-id<TAB>corpus-id<TAB>score'"),
        ("qrels/test.tsv", b"\td2\t1", r"test\.tsv:2: empty query-id: expected 'query-id<TAB>corpus-id<TAB>score'"),
        ("qrels/test.tsv", b"3\t \t1", r"test\.tsv:2: empty corpus-id"),
    ],
    ids=[
        "queries-list",
        "queries-latin-1",
        "queries-nested",
        "queries-no-id",
        "qrels-latin-1",
        "qrels-huge",
        "qrels-2",
        "qrels-1.0",
        "qrels-400-digits",
        "qrels--2**31",
        "qrels-no-corpus-id",
        "qrels-no-query-id",
        "qrels-blank-corpus-id",
    ],
)
def test_any_bad_beir_line_is_bad_input_with_file_and_line(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    folder = write_files(tmp_path / "beir", BEIR)
    lines = (folder / name).read_bytes().splitlines(keepends=True)
    (folder / name).write_bytes(lines[0] + content + b"\n" + b"".join(lines[1:]))
    with pytest.raises(InputFormatError, match=problem):
        load_beir(folder, strict=True)
    loaded = load_beir(folder)
    assert [q.id for q in loaded.queries] == ["1", "3"] and len(loaded.skipped) == 1


def test_gzipped_qrels_are_read_as_the_gzipped_queries_are(tmp_path: Path) -> None:
    """With only qrels/test.tsv.gz, evaluate said "no such qrels file (splits here: none)"."""
    folder = write_files(tmp_path / "beir", {k: v for k, v in BEIR.items() if k != "qrels/test.tsv"})
    (folder / "qrels").mkdir()
    for split in ("test", "train"):
        (folder / "qrels" / f"{split}.tsv.gz").write_bytes(gzip.compress(BEIR["qrels/test.tsv"].encode()))
    assert [q.id for q in load_beir(folder, strict=True).queries] == ["1", "3"]
    with pytest.raises(InputFormatError) as missing:
        load_beir(folder, "dev")
    assert missing.value.hint == "splits here: test, train"
    # tuning on train is checked against the gzipped test split too
    assert "tuning queries also in the test split" in (
        held_out_overlap(load_beir(folder, "train"), folder, "train") or ""
    )


@pytest.mark.parametrize("grade", ["+1", " +2 ", "-1"])
def test_a_signed_qrels_grade_is_an_integer(tmp_path: Path, grade: str) -> None:
    """`+1` is an integer to trec_eval and int(): it was a bad line ("grade is not an integer (1.0)")."""
    for line in (f"1\td1\t{grade}\n", f"1 0 d1 {grade}\n"):
        folder = write_files(tmp_path / "beir", {**BEIR, "qrels/test.tsv": line + "3\td2\t1\n"})
        loaded = load_beir(folder, strict=True)
        assert loaded.queries[0].qrels == {"d1": int(grade)} and not loaded.skipped


def test_a_bad_qrels_grade_is_quoted_as_the_file_writes_it(tmp_path: Path) -> None:
    """The message showed Python's float ("(1000.0)" for 1e3, "(1.0)" for +1.0), not the file's text."""
    folder = write_files(tmp_path / "beir", {**BEIR, "qrels/test.tsv": "1\td1\t+1.0\n3\td2\t1e3\n"})
    assert [s.reason for s in load_beir(folder).skipped] == [
        "grade is not an integer (+1.0)",
        "grade is not an integer (1e3)",
    ]


@pytest.mark.parametrize("grade", ["2.0", "0.5", "1e3"])
def test_a_bad_first_qrels_line_is_a_bad_line_not_a_header(tmp_path: Path, grade: str) -> None:
    """A first line whose grade was not an integer was skipped as a header, even with --strict (and the
    judgment lost): only a score field that is no number at all ("score") makes a header."""
    folder = write_files(tmp_path / "beir", {**BEIR, "qrels/test.tsv": f"1\td1\t{grade}\n3\td2\t1\n"})
    with pytest.raises(InputFormatError, match=rf"test\.tsv:1: grade is not an integer \({grade}\)"):
        load_beir(folder, strict=True)
    loaded = load_beir(folder)
    assert [q.id for q in loaded.queries] == ["3"]
    assert [s.path for s in loaded.skipped] == [f"{folder / 'qrels' / 'test.tsv'}:1"]
    for header in ("query-id\tcorpus-id\tscore", "query_id corpus_id relevance", "qid\titer\tdocno\trel"):
        (folder / "qrels" / "test.tsv").write_text(f"{header}\n1\td1\t1\n")
        assert [q.id for q in load_beir(folder, strict=True).queries] == ["1"]


def test_qrels_with_every_line_bad_say_so_not_to_choose_another_split(tmp_path: Path) -> None:
    """Every qrels line bad ("1.0" grades) said the first skipped line after the one taken for a header,
    and hinted at another --split, as if the qrels judged other queries."""
    folder = write_files(tmp_path / "beir", {**BEIR, "qrels/test.tsv": "1\td1\t1.0\n3\td2\t1.0\n"})
    with pytest.raises(InputFormatError) as raised:
        questions_to_evaluate(folder)
    message = str(raised.value)
    assert "test.tsv:1: grade is not an integer (1.0)" in message and "--split" not in message
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n7\td1\t1\n")  # judges others
    with pytest.raises(InputFormatError, match=r"judges none of queries\.jsonl's ids; choose another --split"):
        questions_to_evaluate(folder)
    (folder / "qrels" / "test.tsv").write_text("1\td1\t1\n")
    (folder / "queries.jsonl").write_text('{"_id": "1"}\n')  # the judged query's line is bad
    with pytest.raises(InputFormatError, match=r"queries\.jsonl needs one JSON object a line") as raised:
        questions_to_evaluate(folder)
    assert "--split" not in str(raised.value)


def test_a_duplicate_beir_query_id_is_skipped_or_with_strict_stops(tmp_path: Path) -> None:
    """A query id twice in queries.jsonl is one query, evaluated once (twice skewed every average and
    gave the run file two blocks for one query), as in a qa.jsonl file."""
    folder = write_files(
        tmp_path / "beir", {**BEIR, "queries.jsonl": BEIR["queries.jsonl"] + '{"_id": "1", "text": "again"}\n'}
    )
    with pytest.raises(InputFormatError, match=r"queries\.jsonl:3: duplicate id '1'"):
        load_beir(folder, strict=True)
    loaded = load_beir(folder)
    assert [(q.id, q.question) for q in loaded.queries] == [("1", "dance"), ("3", "wax")]
    assert [(s.path, s.reason) for s in loaded.skipped] == [(f"{folder / 'queries.jsonl'}:3", "duplicate id '1'")]


def test_a_missing_dataset_path_is_path_not_found(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError, match="no such file or folder"):
        load_eval_set(tmp_path / "missing.jsonl")


def test_a_beir_folder_without_queries_is_bad_input(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "beir", {k: v for k, v in BEIR.items() if k != "queries.jsonl"})
    with pytest.raises(InputFormatError, match=r"queries\.jsonl: no such file"):
        load_eval_set(folder)


def test_a_qrels_line_grading_a_pair_again_otherwise_is_a_bad_line(tmp_path: Path) -> None:
    """The last grade won in silence, even with --strict: q1's relevant d1 became grade 0 (q1 then had
    no relevant document). The first grade is kept and the contradicting line listed; a repeat with
    the same grade changes nothing and is not a problem."""
    folder = write_files(
        tmp_path / "beir",
        {
            "corpus.jsonl": '{"_id": "d1", "text": "apple pie"}\n',
            "queries.jsonl": '{"_id": "q1", "text": "apple"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td1\t1\nq1\td1\t0\n",
        },
    )
    loaded = load_beir(folder)
    assert loaded.queries[0].qrels == {"d1": 1}
    where = f"{folder / 'qrels' / 'test.tsv'}:4"
    assert [(s.path, s.reason) for s in loaded.skipped] == [
        (where, "query 'q1' judges 'd1' again, with grade 0 where line 2 gave 1")
    ]
    with pytest.raises(InputFormatError, match=f"^{where}: query 'q1' judges 'd1' again"):
        load_beir(folder, strict=True)


def test_beir_folder(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "beir",
        {
            "corpus.jsonl": '{"_id": "d1", "title": "", "text": "bees dance"}\n{"_id": "d2", "title": "", "text": "wax"}\n',
            "queries.jsonl": '{"_id": "1", "text": "dance"}\n{"_id": "2", "text": "unjudged"}\n{"_id": "3", "text": "wax"}\n',
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\n1\td1\t1\n3\td2\t0\n",
        },
    )
    loaded = load_beir(folder)
    assert [q.id for q in loaded.queries] == ["1", "3"]
    assert [q.judged for q in loaded.queries] == [True, True]  # "3" is judged, with no relevant document
    assert [q.has_relevant for q in loaded.queries] == [True, False]
    with pytest.raises(InputFormatError, match="splits here: test"):
        load_beir(folder, "dev")
    assert load_eval_set(folder).corpus == folder / "corpus.jsonl"


def test_trec_qrels_and_gzipped_files(tmp_path: Path) -> None:
    """TREC's four qrels columns (blank- or tab-separated) read as BEIR's three; queries.jsonl.gz and a
    qa.jsonl.gz are read through gzip; a damaged gzip stream is bad input naming the file."""
    folder = write_files(tmp_path / "beir", {**BEIR, "qrels/test.tsv": "1 0 d1 1\n3\tQ0\td2\t2\n1 0 d2 x\n"})
    queries = folder / "queries.jsonl"
    (folder / "queries.jsonl.gz").write_bytes(gzip.compress(queries.read_bytes()))
    queries.unlink()
    loaded = load_beir(folder)
    assert [(q.id, q.qrels) for q in loaded.queries] == [("1", {"d1": 1}), ("3", {"d2": 2})]
    assert [s.reason for s in loaded.skipped] == [
        "expected 'query-id<TAB>corpus-id<TAB>score' (or TREC's 'query-id 0 corpus-id score')"
    ]
    assert loaded.corpus == folder / "corpus.jsonl"
    qa = tmp_path / "qa.jsonl.gz"
    qa.write_bytes(gzip.compress(b'{"question": "what dances?", "answers": ["bees"]}\n'))
    assert [q.answers for q in load_eval_set(qa).queries] == [["bees"]]
    qa.write_bytes(gzip.compress(b'{"question": "what dances?"}\n' * 100)[:-20])
    with pytest.raises(InputFormatError, match=r"qa\.jsonl\.gz: cannot be read"):
        load_eval_set(qa)


def test_a_query_that_is_a_document_of_the_corpus_is_not_ranked_against_itself(tmp_path: Path) -> None:
    # ArguAna and Quora: each query is a document of the corpus, under the query's id; BEIR and
    # Anserini leave that document out of the query's ranking. NPL and Cranfield number queries and
    # documents alike: a document that only shares the id stays, as does one judged relevant to itself.
    argument = "Zoos keep wild animals in small cages, which is cruel and should be banned everywhere."
    corpus = [
        {"_id": "arg1", "title": "zoos animals", "text": argument},
        {"_id": "arg2", "title": "", "text": "Modern zoos breed endangered animals that would die out in the wild."},
        {"_id": "7", "title": "", "text": "Wind turbine blades are made of fibreglass."},
        {"_id": "t2", "title": "", "text": "A wind turbine turns slowly in a light wind."},
        {"_id": "q9", "title": "", "text": "Which cages suit parrots best?"},
    ]
    queries = [
        {"_id": "arg1", "text": argument},
        {"_id": "7", "text": "wind turbine"},
        {"_id": "q9", "text": "Which cages suit parrots best?"},
    ]
    folder = write_files(
        tmp_path / "beir",
        {
            "corpus.jsonl": "".join(json.dumps(d) + "\n" for d in corpus),
            "queries.jsonl": "".join(json.dumps(q) + "\n" for q in queries),
            "qrels/test.tsv": "query-id\tcorpus-id\tscore\narg1\targ2\t1\n7\tt2\t1\nq9\tq9\t1\n",
        },
    )
    build_index([folder / "corpus.jsonl"], tmp_path / "index", BuildSettings())
    index = load_index(tmp_path / "index")
    rankings: dict[str, list[str]] = {}

    class Rankings(ResultSink):
        def result(self, config: str, result: QueryResult) -> None:
            rankings[result.query.id] = [doc for doc, _ in result.ranking]

    report = evaluate(load_beir(folder), index, ["bm25"], cutoffs=[1, 10], sinks=[Rankings()])
    assert rankings["arg1"][0] == "arg2" and "arg1" not in rankings["arg1"]
    assert "7" in rankings["7"]  # the same number, another text: kept
    assert rankings["q9"][0] == "q9"  # judged relevant to itself: kept
    assert report.counts["queries_in_corpus"] == 1
    assert report.configs[0].metrics["recall@1"] == 1.0
    rows = tune_bm25(load_beir(folder), index, metric="mrr@10", k1_values=[1.2], b_values=[0.75])
    assert rows[0].score == pytest.approx(report.configs[0].metrics["mrr@10"])


def test_runner_compares_retrievers_and_closed_book(sample_index: Path, tmp_path: Path) -> None:
    path = write_qa(
        tmp_path,
        [
            {
                "question": "When did Langstroth patent the movable-frame hive?",
                "answers": ["1852"],
                "relevant": ["beekeeping/hive_types.md"],
            },
            {
                "question": "How do bees make honey?",
                "relevant": {"hive/honey_production.md": 2, "behavior/foraging.rst": 1},
            },
            {"question": "Something nobody judged", "answers": ["x"]},
        ],
    )
    index = load_index(sample_index)
    report = evaluate(
        load_qa_file(path),
        index,
        ["bm25", "tfidf"],
        cutoffs=[1, 5],
        generator=ExtractiveGenerator.for_index(index),
        closed_book=True,
    )
    assert report.counts == {
        "queries": 3,
        "judged": 2,
        "without_relevant": 0,  # the unjudged question has no judgments at all: not among the judged
        "with_answers": 2,
        "skipped_lines": 0,
        "queries_in_corpus": 0,
        "skipped_documents": 0,
    }
    names = [c.name for c in report.configs]
    assert names == ["bm25", "tfidf", "closed-book"]
    bm25 = report.configs[0]
    assert bm25.metrics["recall@1"] == pytest.approx(0.75)  # 1/1 and 1/2
    assert bm25.metrics["exact_match"] == pytest.approx(0.5)  # "1852" right, "x" wrong
    closed = report.configs[2]
    assert closed.metrics["exact_match"] == 0.0 and "ndcg@1" not in closed.metrics
    assert report.to_dict()["configs"][0]["metrics"]["map"] > 0


def test_tuning_finds_the_grid_best(tuning_index: Path, tuning_qa: Path) -> None:
    rows = tune_bm25(
        load_qa_file(tuning_qa), load_index(tuning_index), metric="mrr@10", k1_values=TUNING_K1, b_values=TUNING_B
    )
    assert len(rows) == 9
    assert {(r.k1, r.b): r.score for r in rows} == pytest.approx(TUNING_GRID)  # every cell, scored for its own pair
    assert rows[0].score == max(r.score for r in rows) == pytest.approx(7 / 8)
    assert (rows[0].k1, rows[0].b) == TUNING_BEST and rows[1].score < rows[0].score  # one best pair, first
    assert (rows[-1].k1, rows[-1].b) == TUNING_WORST and rows[-1].score == min(r.score for r in rows)
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)


# --- documents with many passages: ranking `depth` documents needs more than `depth` passages --------


def test_document_ranking_cuts_deeper_while_passages_repeat_documents(repeated_index: Path) -> None:
    index = load_index(repeated_index)
    passages = [h.doc_id for h in index.search("honey", k=3)]
    assert passages == ["big.txt"] * 3 and len(index.passages) > 12  # the first passages name one document
    ranking = retrieve_documents(index, "honey", "bm25", 3)
    assert [doc for doc, _ in ranking][:2] == ["big.txt", "a.txt"]
    assert len(ranking) == len({doc for doc, _ in ranking}) == 3
    assert len(retrieve_documents(index, "honey", "bm25", 10)) == 4  # every document holding the word, no more


class Rankings(ResultSink):
    """Collects what the runner streams: (config, query id, ranking) and (config, query id, result)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, list[tuple[str, float]]]] = []
        self.results: list[tuple[str, str, dict]] = []

    def ranking(self, config: str, result: QueryResult) -> None:
        self.seen.append((config, result.query.id, list(result.ranking)))

    def result(self, config: str, result: QueryResult) -> None:
        self.results.append((config, result.query.id, result.to_dict(config)))


def test_evaluate_ranks_depth_documents_not_depth_passages(repeated_index: Path, tmp_path: Path) -> None:
    path = write_qa(tmp_path, [{"id": "h", "question": "honey", "relevant": ["a.txt"]}])
    rankings = Rankings()
    report = evaluate(
        load_qa_file(path), load_index(repeated_index), ["bm25"], cutoffs=[1, 3], depth=3, sinks=[rankings]
    )
    ranking = rankings.seen[0][2]
    assert len(ranking) == 3 and ranking[1][0] == "a.txt"
    assert report.configs[0].metrics["recall@3"] == 1.0
    assert report.configs[0].metrics["mrr@3"] == pytest.approx(0.5)
    assert report.configs[0].metrics["map"] == pytest.approx(0.5)


def test_a_depth_below_a_cutoff_is_refused_and_the_default_depth_reaches_every_cutoff(
    repeated_index: Path, tmp_path: Path
) -> None:
    """A depth given below the largest cut-off was raised to it without a word (MAP and the run file
    changed); left out, it is 1000 or the largest cut-off when that is deeper, as before."""
    eval_set, index = (
        load_qa_file(write_qa(tmp_path, [{"question": "honey", "relevant": ["a.txt"]}])),
        load_index(repeated_index),
    )
    with pytest.raises(InvalidOptionError, match="--depth 2 is below the largest --k cut-off, 3"):
        evaluate(eval_set, index, ["bm25"], cutoffs=[1, 3], depth=2)
    assert evaluate(eval_set, index, ["bm25"], cutoffs=[1, 3]).depth == 1000
    assert evaluate(eval_set, index, ["bm25"], cutoffs=[1, 2000]).depth == 2000


def test_evaluation_memory_does_not_grow_with_the_rankings(tmp_path: Path) -> None:
    """Per-query results stream to the per-query and run files: 4× the queries at depth 1000 costs
    what their metric values cost, not 4× the rankings (each ranking is ~160 KB of Python objects)."""
    import tracemalloc

    from ragcli.evaluation.datasets import EvalQuery, EvalSet
    from ragcli.evaluation.reports import plan_outputs, result_writers
    from ragcli.indexing.build import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "docs.jsonl").write_text(
        "".join(
            json.dumps({"id": f"document-number-{i:05d}", "text": f"common word{i % 50} topic{i % 7} filler{i}"}) + "\n"
            for i in range(3000)
        )
    )
    build_index([corpus], tmp_path / "idx")
    index = load_index(tmp_path / "idx")

    def queries(n: int) -> EvalSet:
        made = [EvalQuery(f"q{i}", f"common word{i % 50}", [], {f"document-number-{i:05d}": 1}) for i in range(n)]
        return EvalSet("synthetic", made, [])

    def peak(eval_set: EvalSet) -> int:
        outputs = plan_outputs(["bm25"], per_query=tmp_path / "pq.jsonl", run_file=tmp_path / "run.txt")
        tracemalloc.start()
        with result_writers(outputs) as sinks:
            evaluate(eval_set, index, ["bm25"], depth=1000, sinks=sinks)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    peak(queries(3))  # the index's arrays are loaded on first use
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    ranking = retrieve_documents(index, "common word1", "bm25", 1000)
    ranking_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(ranking) == 1000 and ranking_bytes > 50_000

    few, many = queries(20), queries(80)
    small = peak(few)
    growth = peak(many) - small
    assert growth < 60 * ranking_bytes / 20, (growth, ranking_bytes)  # under 1/20 of the 60 extra rankings
    assert len((tmp_path / "run.txt").read_text().splitlines()) == 80 * 1000
    assert len((tmp_path / "pq.jsonl").read_text().splitlines()) == 80


def test_a_failed_evaluation_leaves_previous_outputs_as_they_were(sample_index: Path, tmp_path: Path) -> None:
    from ragcli.evaluation.reports import plan_outputs, result_writers

    class Broken(ExtractiveGenerator):
        def generate_many(self, requests):  # type: ignore[no-untyped-def]
            raise RuntimeError("the model fell over")

    path = write_qa(tmp_path, [{"id": f"q{n}", "question": "honey bees", "answers": ["x"]} for n in range(5)])
    run_path, per_query = tmp_path / "run.txt", tmp_path / "pq.jsonl"
    run_path.write_text("the previous run\n")
    outputs = plan_outputs(["bm25"], per_query=per_query, run_file=run_path)
    assert outputs.replaces == {run_path}
    index = load_index(sample_index)
    with pytest.raises(RuntimeError, match="fell over"), result_writers(outputs) as sinks:
        evaluate(load_qa_file(path), index, ["bm25"], generator=Broken.for_index(index), sinks=sinks, batch_size=2)
    assert run_path.read_text() == "the previous run\n" and not per_query.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qa.jsonl", "run.txt"]  # no temporary file left


def test_a_corpus_that_is_not_a_regular_file_is_bad_input_not_a_hang(tmp_path: Path) -> None:
    """A BEIR corpus swapped for a FIFO after the folder was recognised: exit 6, never a blocked read."""
    import os

    from ragcli.evaluation.datasets import EvalSet
    from ragcli.evaluation.indexing import index_for

    fifo = tmp_path / "corpus.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InputFormatError, match=r"corpus\.jsonl: cannot be read"):
        index_for(EvalSet("fifo", [], [], corpus=fifo), tmp_path / "index")
    assert not (tmp_path / "index").exists()


class _Says(ExtractiveGenerator):
    """Answers every question with the same text."""

    answer = "dinastía nazarí"

    def generate_many(self, requests):  # type: ignore[no-untyped-def]
        from ragcli.generation.base import Generation

        return [Generation(self.answer, [1], len(sources)) for _, sources in requests]


def test_answers_are_normalised_in_the_line_language_or_else_the_index_language(tmp_path: Path) -> None:
    from ragcli.analysis import AnalyzerSettings

    corpus = write_files(tmp_path / "corpus", {"alhambra.md": "La Alhambra fue construida por la dinastía nazarí.\n"})
    for language in ("en", "es"):
        build_index([corpus], tmp_path / language, BuildSettings(analyzer=AnalyzerSettings(language=language)))
    lines = [
        {"id": "es", "question": "¿Quién construyó la Alhambra?", "answers": ["la dinastía nazarí"], "language": "es"},
        {"id": "none", "question": "¿Quién construyó la Alhambra?", "answers": ["la dinastía nazarí"]},
    ]
    eval_set = load_qa_file(write_qa(tmp_path, lines))
    assert [q.language for q in eval_set.queries] == ["es", None]

    def exact(language: str) -> dict[str, float]:
        index = load_index(tmp_path / language)
        scores: dict[str, float] = {}

        class Scores(ResultSink):
            def result(self, config: str, result: QueryResult) -> None:
                scores[result.query.id] = result.metrics["exact_match"]

        evaluate(eval_set, index, ["bm25"], generator=_Says.for_index(index), sinks=[Scores()])
        return scores

    assert exact("en") == {"es": 1.0, "none": 0.0}  # the line says Spanish; the other is the index's English
    assert exact("es") == {"es": 1.0, "none": 1.0}


@pytest.mark.parametrize("language", [3, "", ["es"]])
def test_a_language_that_is_not_a_code_is_a_bad_line(tmp_path: Path, language: object) -> None:
    path = write_qa(tmp_path, [{"question": "q", "answers": ["a"], "language": language}])
    eval_set = load_qa_file(path)
    assert eval_set.queries == [] and "'language'" in eval_set.skipped[0].reason


def test_a_closed_book_column_needs_a_generator_and_gold_answers(sample_index: Path, tmp_path: Path) -> None:
    """The API asked for a closed-book column with no generator, or on questions without gold answers,
    and got none in silence, where the CLI refuses or warns."""
    index = load_index(sample_index)
    path = write_qa(tmp_path, [{"question": "How do bees make honey?", "relevant": ["hive/honey_production.md"]}])
    with pytest.raises(InvalidOptionError, match="--no-context compares answers"):
        evaluate(load_qa_file(path), index, closed_book=True)
    with pytest.warns(RagcliWarning, match="has gold answers, so no closed-book column"):
        evaluate(load_qa_file(path), index, generator=ExtractiveGenerator.for_index(index), closed_book=True)
