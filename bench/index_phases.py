"""Where one `ragcli index` process spends its time, phase by phase: wall seconds, CPU seconds (this
thread, user + system) and minor page faults of the build's main steps, in a fresh process:

    python bench/index_phases.py index CORPUS --index DIR --json      # any `ragcli` arguments

The steps are wrapped where the build calls them (nothing else changes); nested steps are indented,
repeated ones summed. On this shared machine wall time follows the load; CPU time much less; page
faults show memory touched for the first time, which a fresh process pays for (in this virtual
machine, several milliseconds a megabyte of new memory when the host is busy).
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
STARTED = time.perf_counter()

Row = tuple[int, str, float, float, int]  # depth, step, wall s, CPU s, faults
ROWS: list[Row] = []
DEPTH = [0]


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def wrap(owner: Any, name: str, label: str) -> None:
    """Replace `owner.name` by a wrapper that records the call's wall and CPU time and faults."""
    function: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        f, t, c = faults(), time.perf_counter(), cpu()
        DEPTH[0] += 1
        try:
            return function(*args, **kwargs)
        finally:
            DEPTH[0] -= 1
            step = f"{label} {args[1]}" if name == "write" and len(args) > 1 else label
            ROWS.append((DEPTH[0], step, time.perf_counter() - t, cpu() - c, faults() - f))

    setattr(owner, name, timed)


def main() -> None:
    import ragcli.cli
    import ragcli.indexing.build as build
    import ragcli.indexing.columns as columns
    import ragcli.indexing.counting as counting
    import ragcli.retrieval.bm25 as bm25
    import ragcli.retrieval.metadata as metadata
    import ragcli.retrieval.tfidf as tfidf
    import ragcli.store as store

    imported = (time.perf_counter() - STARTED, cpu(), faults())
    for name in ("reusable_index", "intact", "plan_build", "count_all", "lexicon_payload", "_write_retrievers"):
        wrap(build, name, name)
    wrap(bm25, "build_bm25", "build_bm25")
    wrap(tfidf, "build_tfidf", "build_tfidf")
    wrap(counting, "count_surfaces", "count_surfaces")
    for owner, name in (
        (counting.CountMatrixBuilder, "add_rows"),
        (counting.CountMatrixBuilder, "add_batch"),
        (counting.CountMatrixBuilder, "finish"),
        (columns.PassageColumns, "extend_from"),
        (columns.PassageColumns, "payload"),
        (metadata.MetadataColumns, "extend_from"),
        (build.CorpusReader, "claim_ids"),
        (store.GenerationWriter, "write"),
        (store.GenerationWriter, "publish"),
    ):
        wrap(owner, name, f"{owner.__name__}.{name}")
    sys.argv = ["ragcli", *sys.argv[1:]]
    with contextlib.suppress(SystemExit):  # the command's exit code; the figures are printed anyway
        ragcli.cli.main()
    total = resource.getrusage(resource.RUSAGE_SELF)
    out = sys.stderr
    print(f"start-up and imports: {imported[0]:.3f} s wall, {imported[1]:.3f} s CPU, {imported[2]} faults", file=out)
    summed: dict[tuple[int, str], list[float]] = {}
    for depth, step, wall, used, touched in ROWS:
        entry = summed.setdefault((depth, step), [0, 0.0, 0.0, 0])
        entry[0] += 1
        entry[1] += wall
        entry[2] += used
        entry[3] += touched
    for (depth, step), (calls, wall, used, touched) in summed.items():
        print(
            f"{'  ' * depth}{step:<48} {int(calls):4d}x {wall:7.3f} s {used:7.3f} s CPU {int(touched):7d} faults",
            file=out,
        )
    print(
        f"total {time.perf_counter() - STARTED:.3f} s wall, {total.ru_utime + total.ru_stime:.3f} s CPU "
        f"({total.ru_utime:.2f} user, {total.ru_stime:.2f} system), {faults()} faults; "
        f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        file=out,
    )


if __name__ == "__main__":
    main()
