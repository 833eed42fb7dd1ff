"""Retrieval correctness: BM25 equals rank_bm25, TF-IDF equals scikit-learn, and search semantics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rank_bm25
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from ragcli.analysis import Analyzer
from ragcli.chunking import ChunkSettings
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.retrieval.bm25 import BM25Params
from ragcli.retrieval.index import load_index
from ragcli.retrieval.tfidf import TfidfParams, query_weights

WORDS = [f"term{i}" for i in range(120)]


def zipf_corpus(n_docs: int = 150, seed: int = 7) -> list[str]:
    """Documents over a Zipf-distributed vocabulary (realistic df spread; some very common terms)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, len(WORDS) + 1)
    p /= p.sum()
    return [" ".join(rng.choice(WORDS, size=rng.integers(3, 60), p=p)) for _ in range(n_docs)]


QUERIES = ["term0 term5", "term3 term3 term40", "term1", "term99 term7 term2 term0", "term119 nothere"]


def build_jsonl(tmp_path: Path, texts: list[str], settings: BuildSettings) -> Path:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"d{i:04d}", "text": t}) + "\n" for i, t in enumerate(texts)))
    build_index([corpus], tmp_path / "idx", settings)
    return tmp_path / "idx"


@pytest.mark.parametrize(
    "variant, reference",
    [("okapi", rank_bm25.BM25Okapi), ("bm25l", rank_bm25.BM25L), ("bm25+", rank_bm25.BM25Plus)],
)
def test_bm25_scores_equal_rank_bm25(tmp_path: Path, variant: str, reference: type) -> None:
    texts = zipf_corpus()
    settings = BuildSettings(chunking=ChunkSettings(size=0), retrievers={"bm25": BM25Params.for_variant(variant)})
    index = load_index(build_jsonl(tmp_path, texts, settings))
    analyze = index.analyzer
    ref = reference([analyze(t) for t in texts])
    for query in QUERIES:
        expected = ref.get_scores(analyze(query))
        hits = index.search(query, k=len(texts))
        assert hits, query
        for hit in hits:
            assert hit.score == pytest.approx(expected[int(hit.doc_id[1:])], rel=1e-5, abs=1e-6)
        # every document that shares a term with the query is returned
        matching = {i for i, t in enumerate(texts) if set(analyze(t)) & set(analyze(query))}
        assert {int(h.doc_id[1:]) for h in hits} == matching


def test_lucene_variant_matches_its_formula(tmp_path: Path) -> None:
    texts = zipf_corpus(60)
    params = BM25Params(variant="lucene", k1=1.2, b=0.75)
    index = load_index(
        build_jsonl(tmp_path, texts, BuildSettings(chunking=ChunkSettings(size=0), retrievers={"bm25": params}))
    )
    docs = [index.analyzer(t) for t in texts]
    avgdl = np.mean([len(d) for d in docs])
    n = len(docs)
    query = index.analyzer("term2 term30 term30")
    for hit in index.search("term2 term30 term30", k=n):
        doc = docs[int(hit.doc_id[1:])]
        expected = 0.0
        for term in query:
            df = sum(term in d for d in docs)
            tf = doc.count(term)
            idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
            expected += idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * len(doc) / avgdl))
        assert hit.score == pytest.approx(expected, rel=1e-5)


def test_tfidf_ranking_equals_sklearn_cosine(tmp_path: Path) -> None:
    texts = zipf_corpus()
    index = load_index(build_jsonl(tmp_path, texts, BuildSettings(chunking=ChunkSettings(size=0))))
    vectorizer = TfidfVectorizer(analyzer=index.analyzer, sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    for query in QUERIES:
        similarities = cosine_similarity(vectorizer.transform([query]), matrix).ravel()
        hits = index.search(query, k=10, retriever="tfidf")
        expected = sorted(np.flatnonzero(similarities), key=lambda i: (-similarities[i], f"d{i:04d}"))[:10]
        assert [int(h.doc_id[1:]) for h in hits] == expected
        for hit in hits:
            assert hit.score == pytest.approx(similarities[int(hit.doc_id[1:])], rel=1e-5)


def test_query_weights_equal_sklearn_transform() -> None:
    idf = np.array([1.5, 2.0, 3.25])
    counts = np.array([[2.0, 1.0, 3.0]])
    transformer = TfidfTransformer(sublinear_tf=True)
    transformer.fit(np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]]))
    transformer.idf_ = idf
    expected = transformer.transform(counts).toarray().ravel()
    assert query_weights(TfidfParams(), counts.ravel(), idf) == pytest.approx(expected)


@pytest.mark.parametrize("retriever", ["bm25", "tfidf"])
@pytest.mark.parametrize("query", ["", "   ", "the and of", "zzzunknownzzz", "!!! ???"])
def test_queries_with_nothing_to_match_return_nothing(small_index: Path, retriever: str, query: str) -> None:
    assert load_index(small_index).search(query, retriever=retriever) == []


def test_k_larger_than_the_corpus_returns_everything_that_matches(small_index: Path) -> None:
    hits = load_index(small_index).search("electricity", k=1000)
    assert len(hits) == 5
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]


def test_ties_break_by_passage_id(tmp_path: Path) -> None:
    texts = ["alpha beta", "alpha beta", "alpha beta", "gamma"]
    corpus = tmp_path / "c.jsonl"
    ids = ["zeta", "alpha", "mid"]
    corpus.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip([*ids, "g"], texts)))
    build_index([corpus], tmp_path / "idx")
    hits = load_index(tmp_path / "idx").search("alpha", k=2)
    assert [h.doc_id for h in hits] == ["alpha", "mid"]
    assert hits[0].score == hits[1].score


def test_right_passage_first_on_the_sample_corpus(sample_index: Path) -> None:
    index = load_index(sample_index)
    expectations = {
        "How do honeybees tell each other where the flowers are?": "behavior/waggle_dance.md",
        "How long does a worker bee take to develop from egg to adult?": "biology/life_cycle.txt",
        "What do beekeepers use against varroa mites?": "beekeeping/varroa.md",
        "Who invented the movable-frame hive?": "beekeeping/hive_types.md",
        "Which enzyme splits sucrose in nectar?": "hive/honey_production.md",
    }
    for question, doc_id in expectations.items():
        assert index.search(question, k=1)[0].doc_id == doc_id, question
        # TF-IDF's cosine favours short records: the right passage is among its first three
        assert doc_id in [h.doc_id for h in index.search(question, k=3, retriever="tfidf")], question


def test_hits_cite_their_source_line(sample_index: Path) -> None:
    hit = load_index(sample_index).search("pollen baskets corbiculae", k=1)[0]
    assert hit.doc_id == "biology/anatomy.md"
    source = (Path(__file__).parent.parent / "sample_corpus" / hit.path).read_text().splitlines()
    assert hit.text.split()[0] in source[hit.line - 1]


@pytest.mark.parametrize("variant", ["lucene", "bm25+"])
def test_batched_search_equals_one_by_one(tmp_path: Path, variant: str) -> None:
    texts = zipf_corpus()
    settings = BuildSettings(chunking=ChunkSettings(size=0), retrievers={"bm25": BM25Params.for_variant(variant)})
    index = load_index(build_jsonl(tmp_path, texts, settings))
    queries = QUERIES * 30  # more than one batch of the sparse product
    for retriever in ("bm25", "tfidf"):
        batched = index.search_many(queries, k=7, retriever=retriever)
        single = [index.search(q, k=7, retriever=retriever) for q in queries]
        assert [[h.id for h in hits] for hits in batched] == [[h.id for h in hits] for hits in single]
        for b_hits, s_hits in zip(batched, single):
            assert [h.score for h in b_hits] == pytest.approx([h.score for h in s_hits], rel=1e-6)  # float32 weights


def test_analyzer_used_at_query_time_is_the_stored_one(tmp_path: Path) -> None:
    from ragcli.analysis import AnalyzerSettings

    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "1", "text": "Las abejas bailan"}) + "\n")
    build_index([corpus], tmp_path / "idx", BuildSettings(analyzer=AnalyzerSettings(language="es")))
    index = load_index(tmp_path / "idx")
    assert index.analyzer.settings.language == "es"
    assert [h.doc_id for h in index.search("abeja")] == ["1"]
    assert isinstance(index.analyzer, Analyzer)


def test_a_corpus_of_only_stopwords_indexes_and_matches_nothing(tmp_path: Path) -> None:
    # found by the corpus-order property test: no term survives analysis, so there is nothing to weight
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": "the and of"}) + "\n")
    build_index([corpus], tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    assert index.info()["terms"] == 0
    for retriever in ("bm25", "tfidf"):
        assert index.search("the bee", retriever=retriever) == []


@pytest.mark.parametrize("field", ["k1", "b", "delta", "epsilon"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_bm25_parameters_must_be_finite(field: str, value: float) -> None:
    from ragcli.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError, match="finite"):
        BM25Params(**{field: value})


@pytest.mark.parametrize("retriever", ["bm25", "tfidf"])
def test_a_dotted_name_in_a_query_finds_the_definition_of_its_last_part(tmp_path: Path, retriever: str) -> None:
    texts = [
        "def raise_for_status(self):\n    check the status code",
        "client = make_client()\nclient.get(url)",
        "response = client.get(url)\nresponse.raise_for_status()",
    ]
    index = load_index(build_jsonl(tmp_path, texts, BuildSettings()))
    query = "What does Response.raise_for_status do?"
    found = [hit.doc_id for hit in index.search(query, k=3, retriever=retriever)]
    assert found[:2] == ["d0002", "d0000"] or found[:2] == ["d0000", "d0002"]  # the call site and the definition
    assert "d0001" not in found
    # one query or many: the same terms
    assert [h.doc_id for h in index.search_many([query], k=3, retriever=retriever)[0]] == found
