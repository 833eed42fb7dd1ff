"""What the configuration files and collections cost a fresh `ragcli query --no-generate`.

Every command reads the user's and the project's configuration file before it runs (and resolves a
collection name to its folder). This times, as fresh processes side by side (interleaved, medians):

- no configuration file, the index given with --index;
- both files present (user: 5 keys, project: 2 keys), the index given with --index;
- the index named with -c (a collection in $RAGCLI_DATA_DIR);
- the index chosen by the project file's `collection`;

and, inside one process, what reading and checking both files takes (`ragcli.config.load_config`).

    python bench/config_startup.py [--runs 9]
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


def timed(args: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([RAGCLI, *args], check=True, capture_output=True, env=env, cwd=cwd)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plain, configured = base / "plain", base / "configured"
        plain.mkdir()
        configured.mkdir()
        (base / "empty.toml").write_text("")
        (base / "user.toml").write_text(
            'generator = "extractive"\nk = 5\nretriever = "bm25"\ndevice = "cpu"\nanswer_style = "short"\n'
        )
        (configured / ".ragcli.toml").write_text('collection = "sample"\nk = 5\n')
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAGCLI_DATA_DIR": str(base / "data")}
        env.pop("RAGCLI_INDEX", None)
        subprocess.run([RAGCLI, "index", str(ROOT / "sample_corpus"), "--name", "sample", "-q"], check=True, env=env)
        index = str(base / "data" / "collections" / "sample")
        query = ["query", QUESTION, "--no-generate", "--json"]
        runs = {
            "no config files, --index": (
                [*query, "--index", index],
                {**env, "RAGCLI_CONFIG": str(base / "empty.toml")},
                plain,
            ),
            "both config files, --index": (
                [*query, "--index", index],
                {**env, "RAGCLI_CONFIG": str(base / "user.toml")},
                configured,
            ),
            "-c sample": ([*query, "-c", "sample"], {**env, "RAGCLI_CONFIG": str(base / "empty.toml")}, plain),
            "collection from the project file": (query, {**env, "RAGCLI_CONFIG": str(base / "user.toml")}, configured),
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(options.runs):  # interleaved, so machine noise hits every variant alike
            for name, (args, run_env, cwd) in runs.items():
                times[name].append(timed(args, run_env, cwd))
        print(f"{'fresh ragcli query --no-generate':<36} {'median s':>9} {'min s':>7}")
        for name, values in times.items():
            print(f"{name:<36} {statistics.median(values):>9.3f} {min(values):>7.3f}")

        sys.path.insert(0, str(ROOT))
        os.environ["RAGCLI_CONFIG"] = str(base / "user.toml")
        os.chdir(configured)
        started = time.perf_counter()
        from ragcli.config import load_config

        load_config()  # the first call imports tomllib and platformdirs
        first = time.perf_counter() - started
        samples = []
        for _ in range(1000):
            started = time.perf_counter()
            load_config()
            samples.append(time.perf_counter() - started)
        print(
            f"load_config(), both files: first call {first * 1000:.2f} ms, then median {statistics.median(samples) * 1e6:.0f} µs"
        )
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
