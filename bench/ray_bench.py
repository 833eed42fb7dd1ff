"""A local build against builds on a loopback Ray cluster of one and of two nodes (one CPU each):

    python bench/ray_bench.py [--passages 20000] [--rounds 2]

The first `--passages` records of wiki100k with `--dense` (the packaged all-MiniLM-L6-v2, int8), built
by the real `ragcli index` command: locally, then with `--ray` on one node, then on two, alternated over
`--rounds`. Prints wall times, the embedding rate each build recorded (passages/s, model load
excluded), the load average around each run, and checks that every Ray build has the local build's
ids and BM25 scores byte for byte and its vectors within 1e-3 cosine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
BIN = Path(sys.executable).parent


def write_slice(folder: Path, passages: int) -> Path:
    """The first `passages` records of wiki100k, in 8 files (a build reads them one after another)."""
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(DATASETS / "wiki100k.jsonl.gz", "rt", encoding="utf-8") as handle:
        lines = [line for _, line in zip(range(passages), handle)]
    per = -(-len(lines) // 8)
    for i in range(8):
        (folder / f"part-{i}.jsonl").write_text("".join(lines[i * per : (i + 1) * per]), encoding="utf-8")
    return folder


def start_node(args: list[str], log: Path, env: dict[str, str], marker: str) -> subprocess.Popen[bytes]:
    """A `ray start --block` node whose processes (its workers too) carry `marker` in their environment."""
    name, _, value = marker.partition("=")
    env = {**env, name: value}
    handle = open(log, "wb")  # noqa: SIM115 (lives as long as the node)
    node = subprocess.Popen(
        [str(BIN / "ray"), "start", "--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", *args],
        stdout=handle,
        stderr=handle,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while b"Ray runtime started" not in log.read_bytes():
        if node.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"ray start failed: {log}")
        time.sleep(0.5)
    return node


def stop_node(node: subprocess.Popen[bytes], marker: str) -> None:
    os.killpg(node.pid, signal.SIGKILL)
    node.wait(timeout=30)
    for entry in Path("/proc").iterdir():  # its workers lead their own process groups
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                continue


def build(corpus: Path, index: Path, *extra: str) -> tuple[float, float, str]:
    """(wall seconds, embedding passages/s recorded in the manifest, load average before)."""
    shutil.rmtree(index, ignore_errors=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "ragcli"), "index", str(corpus), "--index", str(index), "--dense", "-q", *extra],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(done.stderr)
    manifest = json.loads((index / "manifest.json").read_text())
    return wall, float(manifest["dense"]["passages_per_second"]), load


def compare(local: Path, other: Path) -> str:
    sys.path.insert(0, str(ROOT))
    from ragcli.retrieval.index import load_index

    a, b = load_index(local), load_index(other)
    same_ids = list(a.passages.doc_ids) == list(b.passages.doc_ids)
    same = all(
        np.array_equal(np.asarray(a.payload(n)[k]), np.asarray(b.payload(n)[k]))
        for n in ("counts.joblib", "bm25.joblib", "terms.joblib")
        for k in a.payload(n)
        if isinstance(a.payload(n)[k], np.ndarray)
    )
    va = np.asarray(a.payload("dense.joblib")["vectors"], dtype=np.float32)
    vb = np.asarray(b.payload("dense.joblib")["vectors"], dtype=np.float32)
    cosine = (va * vb).sum(1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
    return f"ids equal: {same_ids}, counts/terms/bm25 arrays equal: {same}, min cosine: {cosine.min():.6f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ragcli-ray-bench-"))
    corpus = write_slice(work / "corpus", options.passages)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    markers = {node: f"RAGCLI_RAY_BENCH={node}-{port}" for node in ("head", "second")}
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}  # loopback only
    address = f"127.0.0.1:{port}"
    times: dict[str, list[tuple[float, float, str]]] = {"local": [], "ray-1-node": [], "ray-2-nodes": []}
    head = start_node(
        ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={work}/r"],
        work / "head.log",
        env,
        markers["head"],
    )
    second = None
    try:
        for round_ in range(options.rounds):
            order = (
                ["local", "ray-1-node", "ray-2-nodes"] if round_ % 2 == 0 else ["ray-2-nodes", "ray-1-node", "local"]
            )
            for kind in order:
                if kind == "ray-2-nodes" and second is None:
                    second = start_node([f"--address={address}"], work / "node2.log", env, markers["second"])
                if kind == "ray-1-node" and second is not None:
                    stop_node(second, markers["second"])
                    second = None
                    time.sleep(5)  # the head notices the node is gone
                extra = () if kind == "local" else ("--ray", address)
                times[kind].append(build(corpus, work / kind, *extra))
                wall, rate, load = times[kind][-1]
                print(f"{kind}: wall {wall:.1f} s, embedding {rate:.1f} passages/s, load before {load}", flush=True)
        for kind in ("ray-1-node", "ray-2-nodes"):
            print(kind, "vs local:", compare(work / "local", work / kind))
        print(f"passages: {options.passages}, rounds: {options.rounds}")
        for kind, runs in times.items():
            print(
                f"{kind}: median wall {statistics.median(r[0] for r in runs):.1f} s, "
                f"median embedding {statistics.median(r[1] for r in runs):.1f} passages/s"
            )
        print("load average after:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        if second is not None:
            stop_node(second, markers["second"])
        stop_node(head, markers["head"])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
