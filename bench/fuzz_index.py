"""Fuzz a real index: mutate every payload and the manifest thousands of times and run `query` and
`info --verify` on each mutant under a memory and a time limit, counting the outcomes. Opt-in, not a
test (minutes of CPU):

    python bench/fuzz_index.py                      # 5,000 cases on 2 cores
    python bench/fuzz_index.py --cases 500 --jobs 1 --seed 7 --with-index

The index is the README's sample corpus (BM25 and TF-IDF). Each case copies it, applies one mutation
to one file, and half the time makes the manifest record the mutant's size and SHA-256 (as someone
crafting an index would, so that `info --verify` passes and the loader's own checks are what is
tested). Mutations: bit flips, random bytes over a range, truncation, appended bytes, splices (bytes
of the same or another payload inserted), the whole file replaced by random bytes, a FIFO, a
directory or a symbolic link in its place, crafted pickles (a real payload with one entry replaced
by an array of a random dtype (structured ones with fields anywhere, object, void, datetime, …),
in numpy's own array pickle or joblib's wrapper, a nested or self-sharing list, a value of another
type, or the entry dropped), and for the manifest JSON-level edits (a key dropped, a value of
another type or out of range) besides the byte-level ones.

Each case runs in a child forked from a process that imported ragcli once (fast), with RLIMIT_AS at
--memory MB and an alarm at --timeout seconds. Outcomes: the exit code of each command; "signal"
(killed by a signal other than the alarm: a crash), "hang" (the alarm fired), and exit 1 (internal
error) are failures, listed with their case so they can be replayed (`--replay N --seed S`).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no BLAS thread pool to inherit across fork()

import argparse
import collections
import contextlib
import hashlib
import io
import json
import pickle
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from joblib.numpy_pickle import NumpyArrayWrapper  # noqa: E402

from ragcli.cli import app  # noqa: E402
from ragcli.indexing.build import build_index  # noqa: E402
from ragcli.store import MANIFEST, load_payload, read_manifest  # noqa: E402

PAYLOADS = ("passages.joblib", "terms.joblib", "counts.joblib", "bm25.joblib", "tfidf.joblib", "metadata.joblib")
QUERIES = ("bees honey", "queen hive swarm", "varroa mites treatment", "wax", "pollen nectar flowers")


# --- crafted pickles ----------------------------------------------------------------------------------


class Dtype:
    """Pickles as numpy.dtype(spec) then BUILD(state): any dtype numpy's __setstate__ accepts."""

    def __init__(self, spec: str, state: tuple[Any, ...]) -> None:
        self.spec, self.state = spec, state

    def __reduce__(self) -> Any:
        return (np.dtype, (self.spec, False, True), self.state)


class Array:
    """Pickles as numpy's own array pickle with any dtype object and raw bytes."""

    def __init__(self, shape: tuple[int, ...], dtype: Any, raw: bytes) -> None:
        self.shape, self.dtype, self.raw = shape, dtype, raw

    def __reduce__(self) -> Any:
        from numpy._core.multiarray import _reconstruct

        return (_reconstruct, (np.ndarray, (0,), b"b"), (1, self.shape, self.dtype, False, self.raw))


def random_dtype(rng: random.Random) -> Any:
    """A real numpy dtype, or a `Dtype` numpy would build from a pickle."""
    kind = rng.choice(["plain", "plain", "structured", "structured", "odd", "subarray"])
    if kind == "plain":
        return np.dtype(rng.choice(["i1", "u2", "i4", "i8", "u8", "f2", "f4", "f8", "b1", "c8", "S3", ">i8", "<u4"]))
    if kind == "odd":
        return np.dtype(rng.choice(["O", "V8", "U2", "M8[s]", "m8[ms]", "f16"]))
    if kind == "subarray":
        return np.dtype((rng.choice(["i8", "f4"]), (rng.randint(1, 4),)))
    itemsize = rng.choice([1, 4, 8, 16])
    fields = {
        f"f{i}": (np.dtype(rng.choice(["<i8", "<f4", "u1", "O"])), rng.choice([0, 1, itemsize, 1 << 20, 1 << 40]))
        for i in range(rng.randint(1, 3))
    }
    state = (3, "|", None, tuple(fields), fields, itemsize, 1, 16 if rng.random() < 0.7 else 0)
    return Dtype(f"V{itemsize}", state)


def crafted_array(rng: random.Random, like: Any) -> Any:
    """An array entry of a random dtype and shape, in numpy's pickle or joblib's wrapper."""
    dtype = random_dtype(rng)
    itemsize = dtype.state[5] if isinstance(dtype, Dtype) else max(dtype.itemsize, 1)
    n = len(like) if isinstance(like, np.ndarray) and like.ndim and rng.random() < 0.7 else rng.randint(0, 64)
    shape = (n,) if rng.random() < 0.8 else (n, rng.randint(0, 3))
    count = int(np.prod(shape))
    raw = bytes(rng.getrandbits(8) for _ in range(min(count * itemsize, 4096)))
    if len(raw) < count * itemsize:
        raw = raw + bytes(count * itemsize - len(raw))
    if rng.random() < 0.5:
        return Array(shape, dtype, raw)
    wrapper = NumpyArrayWrapper(np.ndarray, shape, "C", dtype, allow_mmap=True)
    wrapper.numpy_array_alignment_bytes = None
    return ("wrapper", wrapper, raw)


def nested(rng: random.Random) -> Any:
    value: Any = [rng.randint(0, 9)]
    for _ in range(rng.randint(1, 80)):
        value = [value, value] if rng.random() < 0.8 else {"k": value}
    return value


def crafted_payload(rng: random.Random, payload: dict[str, Any]) -> bytes:
    """A real payload with one entry replaced (or dropped), pickled like joblib or like numpy."""
    items = dict(payload)
    key = rng.choice(sorted(items))
    kind = rng.choice(["array", "array", "array", "nested", "value", "drop", "extra"])
    wrapper = None
    if kind == "array":
        value = crafted_array(rng, items[key])
        if isinstance(value, tuple):
            wrapper = value
            items.pop(key)
        else:
            items[key] = value
    elif kind == "nested":
        items[key] = nested(rng)
    elif kind == "value":
        items[key] = rng.choice([None, "text", 2**80, -1, 3.5, float("nan"), (1, 2), {"a": [1]}, b"bytes", {1, 2}])
    elif kind == "drop":
        items.pop(key)
    else:
        items[f"extra_{rng.randint(0, 9)}"] = nested(rng)
    if wrapper is None:
        return pickle.dumps(items, protocol=rng.choice([3, 4]))
    _, array_wrapper, raw = wrapper
    items[key] = array_wrapper  # last, so its BUILD is the last one in the stream
    stream = pickle.dumps(items, protocol=3)
    import pickletools

    cut = [pos for op, _, pos in pickletools.genops(stream) if op.name == "BUILD"][-1] + 1
    return stream[:cut] + raw + stream[cut:]


# --- mutations -----------------------------------------------------------------------------------------


def mutate_bytes(rng: random.Random, data: bytes, others: list[bytes]) -> tuple[str, bytes]:
    kind = rng.choice(["flip", "flip", "random-range", "truncate", "append", "splice", "random", "zero-range"])
    out = bytearray(data)
    if kind == "flip" and out:
        for _ in range(rng.randint(1, 16)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif kind in ("random-range", "zero-range") and out:
        start = rng.randrange(len(out))
        length = rng.randint(1, 64)
        fill = bytes(rng.getrandbits(8) for _ in range(length)) if kind == "random-range" else bytes(length)
        out[start : start + length] = fill[: len(out) - start]
    elif kind == "truncate":
        out = out[: rng.randrange(len(out) + 1)]
    elif kind == "append":
        out += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 256)))
    elif kind == "splice":
        donor = rng.choice([*others, data])
        start = rng.randrange(len(donor) + 1)
        piece = donor[start : start + rng.randint(1, 512)]
        at = rng.randrange(len(out) + 1)
        out[at:at] = piece
    else:
        out = bytearray(rng.getrandbits(8) for _ in range(rng.randint(0, 2048)))
    return kind, bytes(out)


def json_edit(rng: random.Random, manifest: Any) -> str:
    """Edit one random place of the manifest's JSON tree."""
    path: list[Any] = [rng.choice(sorted(manifest))]  # at least a top-level key
    node = manifest[path[0]]
    while isinstance(node, (dict, list)) and node and rng.random() < 0.75:
        key = rng.choice(sorted(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append(key)
        node = node[key]
    parent = manifest
    for key in path[:-1]:
        parent = parent[key]
    op = rng.choice(["drop", "replace", "replace", "replace"])
    if op == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(
            [None, True, -1, 0, 2**63, 10**30, 1.5, "x", "", "../../etc", [], [1, 2, 3], {}, {"a": None}, "data-0"]
        )
    return f"json-{op}:{'/'.join(map(str, path))}"


def record(index_dir: Path, name: str, data: bytes) -> None:
    manifest = json.loads((index_dir / MANIFEST).read_text())
    manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (index_dir / MANIFEST).write_text(json.dumps(manifest))


def make_case(rng: random.Random, index_dir: Path, originals: dict[str, bytes], reals: dict[str, Any]) -> str:
    """Apply one mutation to the copy of the index in `index_dir`; its description."""
    generation = json.loads(originals[MANIFEST])["generation"]
    target_name = rng.choice([*PAYLOADS, *PAYLOADS, MANIFEST, MANIFEST])
    recorded = rng.random() < 0.5
    if target_name == MANIFEST:
        if rng.random() < 0.6:
            manifest = json.loads(originals[MANIFEST])
            kind = json_edit(rng, manifest)
            (index_dir / MANIFEST).write_text(json.dumps(manifest))
        else:
            kind, data = mutate_bytes(rng, originals[MANIFEST], [])
            (index_dir / MANIFEST).write_bytes(data)
        return f"{MANIFEST} {kind}"
    target = index_dir / generation / target_name
    structural = rng.random() < 0.04
    if structural:
        kind = rng.choice(["fifo", "folder", "link-devzero", "link-other"])
        target.unlink()
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "folder":
            target.mkdir()
        elif kind == "link-devzero":
            target.symlink_to("/dev/zero")
        else:
            target.symlink_to(index_dir / generation / rng.choice(PAYLOADS))
        manifest = json.loads(originals[MANIFEST])
        manifest["files"][target_name]["bytes"] = 0 if recorded else manifest["files"][target_name]["bytes"]
        (index_dir / MANIFEST).write_text(json.dumps(manifest))
        return f"{target_name} {kind} recorded={recorded}"
    if rng.random() < 0.35:
        kind, data = "crafted-pickle", crafted_payload(rng, reals[target_name])
    else:
        others = [originals[p] for p in PAYLOADS if p != target_name]
        kind, data = mutate_bytes(rng, originals[target_name], others)
    target.write_bytes(data)
    if recorded:
        record(index_dir, target_name, data)
    return f"{target_name} {kind} recorded={recorded}"


# --- running a case --------------------------------------------------------------------------------


def run_cli(args: list[str]) -> int:
    try:
        app(args, prog_name="ragcli")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def child(
    index_dir: Path, corpus: Path, query: str, retriever: str, with_index: bool, memory: int, timeout: int
) -> None:
    """In the forked child: limits, then the commands; exit codes into result.json."""
    resource.setrlimit(resource.RLIMIT_AS, (memory << 20, memory << 20))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(timeout)
    log = open(index_dir.parent / "log.txt", "w")  # noqa: SIM115 - lives until os._exit
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
    codes = {
        "query": run_cli(["query", query, "--no-generate", "--json", "-r", retriever, "--index", str(index_dir)]),
        "query --where": run_cli(
            ["query", query, "--no-generate", "--where", "size>=1", "--path", "**/*.md", "--index", str(index_dir)]
        ),
        "info --verify": run_cli(["info", "--verify", "--json", "--index", str(index_dir)]),
    }
    if with_index:
        codes["index"] = run_cli(["index", str(corpus), "--index", str(index_dir), "-q"])
    (index_dir.parent / "result.json").write_text(json.dumps(codes))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--memory", type=int, default=1024, help="address-space limit per case, MB")
    parser.add_argument("--timeout", type=int, default=20, help="seconds per case before it counts as a hang")
    parser.add_argument("--with-index", action="store_true", help="also an incremental `index` per case")
    parser.add_argument("--replay", type=int, help="run only case N (with the same --seed), keep its folder")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ragcli-fuzz-"))
    corpus = work / "corpus"
    shutil.copytree(ROOT / "sample_corpus", corpus)
    pristine = work / "pristine"
    with contextlib.redirect_stdout(io.StringIO()):
        build_index([corpus], pristine)
    (corpus / "added-by-fuzz.txt").write_text("a new file, so an `index` run is incremental")
    generation = read_manifest(pristine)["generation"]
    originals = {p: (pristine / generation / p).read_bytes() for p in PAYLOADS}
    originals[MANIFEST] = (pristine / MANIFEST).read_bytes()
    reals = {p: dict(load_payload(pristine / generation / p, mmap=False)) for p in PAYLOADS}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for retriever in ("bm25", "tfidf"):  # imports everything a case needs once, before the forks
            run_cli(["query", QUERIES[0], "--no-generate", "--json", "-r", retriever, "--index", str(pristine)])
        run_cli(["info", "--verify", "--json", "--index", str(pristine)])
    outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    failures: list[tuple[int, str, str, str]] = []
    kinds: collections.Counter[str] = collections.Counter()
    running: dict[int, tuple[int, Path, str, float]] = {}
    numbers = [options.replay] if options.replay is not None else list(range(options.cases))
    started = time.perf_counter()

    def reap(block: bool) -> None:
        while running:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            if pid == 0:
                return
            number, case_dir, description, _ = running.pop(pid)
            result = case_dir / "result.json"
            if os.WIFSIGNALED(status):
                what = "hang" if os.WTERMSIG(status) == signal.SIGALRM else f"signal {os.WTERMSIG(status)}"
                outcomes["case"][what] += 1
                failures.append((number, description, what, (case_dir / "log.txt").read_text()[-400:]))
            else:
                codes = json.loads(result.read_text())
                outcomes["case"]["completed"] += 1
                for command, code in codes.items():
                    outcomes[command][str(code)] += 1
                    if code == 1:
                        failures.append(
                            (number, description, f"{command} exit 1", (case_dir / "log.txt").read_text()[-400:])
                        )
            if options.replay is None:
                shutil.rmtree(case_dir, ignore_errors=True)
            block = False

    for number in numbers:
        rng = random.Random(f"{options.seed}-{number}")
        case_dir = work / f"case-{number}"
        index_dir = case_dir / "index"
        shutil.copytree(pristine, index_dir, symlinks=True)
        description = make_case(rng, index_dir, originals, reals)
        kinds[description.split(" ")[1].split(":")[0]] += 1
        query, retriever = rng.choice(QUERIES), rng.choice(["bm25", "bm25", "tfidf"])
        while len(running) >= options.jobs:
            reap(block=True)
        pid = os.fork()
        if pid == 0:
            try:
                child(index_dir, corpus, query, retriever, options.with_index, options.memory, options.timeout)
            finally:
                os._exit(70)
        running[pid] = (number, case_dir, description, time.perf_counter())
    while running:
        reap(block=True)
    seconds = time.perf_counter() - started
    print(
        f"{len(numbers)} cases in {seconds:.0f} s, {options.jobs} jobs, seed {options.seed}, "
        f"RLIMIT_AS {options.memory} MB, alarm {options.timeout} s, load average {os.getloadavg()[0]:.1f}"
    )
    print("mutations:", ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    for command, counter in outcomes.items():
        print(f"{command:>14}:", ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())))
    crashes = sum(v for k, v in outcomes["case"].items() if k.startswith("signal"))
    hangs = outcomes["case"]["hang"]
    exit1 = sum(counter["1"] for command, counter in outcomes.items() if command != "case")
    print(f"crashes (signals): {crashes}, hangs: {hangs}, exit 1: {exit1}")
    for number, description, what, log in failures[:30]:
        print(f"  case {number}: {description}: {what}\n    {log.strip()[-300:]}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "cases": len(numbers),
        "seconds": round(seconds, 1),
        "seed": options.seed,
        "outcomes": {k: dict(v) for k, v in outcomes.items()},
        "mutations": dict(kinds),
        "failures": [f[:3] for f in failures],
    }
    (out / "fuzz_index.json").write_text(json.dumps(summary, indent=1))
    if options.replay is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"case folder kept: {work / f'case-{options.replay}'}")
    sys.exit(1 if crashes or hangs or exit1 else 0)


if __name__ == "__main__":
    main()
