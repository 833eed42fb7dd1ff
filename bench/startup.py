"""Start-up and per-answer cost of `ragcli query`: retrieval only vs generating answers.

Runs each command as a fresh process several times, side by side, and prints medians:

    python bench/startup.py [--runs 7] [--model PATH | --no-models]

Without --model it builds the tiny T5 and GPT-2 test models (random weights) in a temporary folder,
so the figures measure ragcli's own overhead (imports, model load, prompt fitting), not a real model.
`query (auto, offline)` is the default generator with the default model absent from an empty Hugging
Face cache and HF_HUB_OFFLINE=1: it must cost about what `-g extractive` does. The load average is
printed before and after (the figures mean little on a busy machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAGCLI = str(Path(sys.executable).parent / "ragcli")
QUESTION = "How do honeybees tell each other where the flowers are?"


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one fresh process. CPU time hardly moves with the
    machine's load, so it tells a change's effect on a busy machine, where wall time cannot."""
    started = time.perf_counter()
    process = subprocess.Popen([RAGCLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ragcli {' '.join(args)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", action="append", help="model folder(s) to time; default: tiny test models")
    parser.add_argument("--no-models", action="store_true", help="time retrieval, extractive and auto only")
    options = parser.parse_args()

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "hf-cache").mkdir()
        # as on a user's machine: Python may write its bytecode caches (a warm-up run writes them)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(HF_HUB_OFFLINE="1", RAGCLI_CACHE=str(Path(tmp) / "cache"))
        env["HF_HUB_CACHE"] = str(Path(tmp) / "hf-cache")
        index = Path(tmp) / "index"
        subprocess.run([RAGCLI, "index", str(ROOT / "sample_corpus"), "--index", str(index), "-q"], check=True, env=env)
        models = [] if options.no_models else options.model
        if not models and not options.no_models:
            sys.path.insert(0, str(ROOT / "tests"))
            from tinymodels import build_tiny_gpt2, build_tiny_t5

            models = [str(build_tiny_t5(Path(tmp) / "tiny-t5")), str(build_tiny_gpt2(Path(tmp) / "tiny-gpt2"))]
        base = ["query", QUESTION, "--index", str(index), "--json"]
        commands = {
            "query --no-generate": [*base, "--no-generate"],
            "query (extractive)": [*base, "--generator", "extractive"],
            "query (auto, offline)": base,
            **{f"query --model {Path(m).name}": [*base, "--model", m, "--max-new-tokens", "16"] for m in models},
        }
        for args in commands.values():  # warm-up: bytecode caches written, the offline note shown once
            timed(args, env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(options.runs):  # interleaved, so machine noise hits every command alike
            for name, args in commands.items():
                times[name].append(timed(args, env))
        reference = statistics.median(wall for wall, _ in times["query --no-generate"])
        print(f"{'command':<32} {'median s':>9} {'min s':>7} {'x no-generate':>14} {'median CPU s':>13}")
        for name, values in times.items():
            walls = [wall for wall, _ in values]
            median = statistics.median(walls)
            cpu = statistics.median(c for _, c in values)
            print(f"{name:<32} {median:>9.3f} {min(walls):>7.3f} {median / reference:>14.1f} {cpu:>13.3f}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        # per-answer generation latency inside one process (model loaded once)
        for model in models:
            sys.path.insert(0, str(ROOT))
            from ragcli.answering import answer_many
            from ragcli.generation.base import GenerationOptions
            from ragcli.generation.hf import TransformersGenerator
            from ragcli.retrieval.index import load_index

            generator = TransformersGenerator(model, GenerationOptions(max_new_tokens=16))
            questions = [QUESTION] * 10
            answer_many(questions[:1], index, generator, k=5)  # warm-up
            started = time.perf_counter()
            answer_many(questions, load_index(index), generator, k=5)
            per = (time.perf_counter() - started) / len(questions)
            print(f"per answer, {Path(model).name}, model loaded, 16 new tokens, k=5: {per * 1000:.0f} ms")


if __name__ == "__main__":
    main()
