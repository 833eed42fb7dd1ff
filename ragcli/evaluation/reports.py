"""Evaluation outputs: per-query JSON Lines, TREC run files, a recall@k plot (the comparison table is
in ragcli.render)."""

from __future__ import annotations

import json
from pathlib import Path

from ragcli.errors import MissingExtraError
from ragcli.evaluation.runner import EvalReport


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
