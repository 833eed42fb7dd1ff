"""Evaluation outputs: the comparison table, per-query JSON Lines, TREC run files, a recall@k plot."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from ragcli.errors import MissingExtraError
from ragcli.evaluation.runner import EvalReport

METRIC_ORDER = ("ndcg", "recall", "precision", "mrr", "hit_rate", "map", "exact_match", "f1", "bleu", "rouge_l")


def _metric_key(name: str) -> tuple[int, int]:
    base, _, cutoff = name.partition("@")
    return (METRIC_ORDER.index(base) if base in METRIC_ORDER else len(METRIC_ORDER), int(cutoff or 0))


def comparison_table(report: EvalReport) -> Table:
    """One row per metric, one column per configuration; the best value of each row in bold."""
    counts = report.counts
    caption = (
        f"index {report.index}\n{counts['judged']} judged queries of {counts['queries']}"
        + (
            f" ({counts['without_relevant']} without a relevant document, left out)"
            if counts["without_relevant"]
            else ""
        )
        + (f"; {counts['with_answers']} with gold answers" if counts["with_answers"] else "")
        + (f"; {counts['skipped_lines']} invalid lines skipped" if counts["skipped_lines"] else "")
    )
    table = Table(title=report.dataset, caption=caption, title_justify="left", caption_justify="left")
    table.add_column("metric")
    for config in report.configs:
        table.add_column(config.name, justify="right")
    names = sorted({m for c in report.configs for m in c.metrics}, key=_metric_key)
    for name in names:
        values = [c.metrics.get(name) for c in report.configs]
        best = max((v for v in values if v is not None), default=None)
        cells = [
            "–" if v is None else (f"[bold]{v:.4f}[/]" if v == best and len(values) > 1 else f"{v:.4f}") for v in values
        ]
        table.add_row(name, *cells)
    return table


def write_per_query(report: EvalReport, path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for config in report.configs:
            for result in config.results:
                handle.write(json.dumps(result.to_dict(config.name), ensure_ascii=False) + "\n")


def run_file_paths(report: EvalReport, path: Path) -> dict[str, Path]:
    """One TREC run file per retrieval configuration: PATH itself, or PATH with the name inserted."""
    configs = [c for c in report.configs if c.retriever is not None]
    if len(configs) == 1:
        return {configs[0].name: path}
    return {c.name: path.with_name(f"{path.stem}.{c.name}{path.suffix}") for c in configs}


def write_run_files(report: EvalReport, path: Path) -> list[Path]:
    """TREC run format (`qid Q0 docid rank score tag`), readable by trec_eval and ir_measures."""
    written = []
    by_name = {c.name: c for c in report.configs}
    for name, target in run_file_paths(report, path).items():
        with target.open("w", encoding="utf-8") as handle:
            for result in by_name[name].results:
                for rank, (doc, score) in enumerate(result.ranking, start=1):
                    handle.write(f"{result.query.id} Q0 {doc} {rank} {score:.6f} ragcli-{name}\n")
        written.append(target)
    return written


def plot_recall(report: EvalReport, path: Path) -> None:
    """recall@k over k, one line per configuration (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("--plot needs matplotlib", hint="pip install 'ragcli[plot]'") from None
    figure, axes = plt.subplots(figsize=(6, 4))
    for config in report.configs:
        points = sorted((int(k.split("@")[1]), v) for k, v in config.metrics.items() if k.startswith("recall@"))
        if points:
            axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=config.name)
    axes.set_xscale("log")
    axes.set_xlabel("k (documents)")
    axes.set_ylabel("recall@k")
    axes.set_title(report.dataset)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
