"""Building on a real two-node Ray cluster (`ragcli index --ray ADDRESS`) against a local build.

The cluster is two `ray start` processes on loopback (a head and a second node, one CPU each, their own
temporary folder), started for this module and stopped by killing their process groups (never
`ray stop`, which stops every Ray on the machine). Builds go through the real `ragcli` command.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from clihelpers import RAGCLI, run
from conftest import write_files

from ragcli.errors import ExitCode
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.retrieval.embedder import EmbeddingSettings
from ragcli.retrieval.index import load_index

pytest.importorskip("ray")

RAY = str(Path(sys.executable).parent / "ray")
START_TIMEOUT = 120  # seconds for a node to join (the machine may be busy)
BUILD_TIMEOUT = 240
MARKER = "RAGCLI_TEST_RAY_CLUSTER"  # Ray workers lead their own process groups: they are found by this

WORDS = [
    *("honey", "bees", "forage", "nectar", "pollen", "hive", "queen", "drone", "worker", "comb", "wax"),
    *("brood", "swarm", "colony", "flower", "meadow", "clover", "orchard", "apple", "blossom", "summer"),
    *("winter", "cluster", "dance", "waggle", "distance", "direction", "sun"),
]


def corpus_files(documents: int, seed: int = 7, prefix: str = "d") -> dict[str, str | bytes]:
    """`documents` JSON Lines records of 60-120 words (one passage each at the default chunk size),
    in a few files, with a few words made rare so that BM25's idf varies."""
    rng = np.random.default_rng(seed)
    files: dict[str, list[str]] = {}
    for i in range(documents):
        words = [WORDS[j] for j in rng.integers(0, len(WORDS), int(rng.integers(60, 120)))]
        words.append(f"rare{i % 37}")
        record = {"id": f"{prefix}{i:04d}", "title": f"Note {i}", "text": " ".join(words)}
        files.setdefault(f"part{i % 4}.jsonl", []).append(json.dumps(record))
    return {name: "\n".join(lines) + "\n" for name, lines in files.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """Two `ray start --block` processes, each the leader of its own process group."""

    def __init__(self, root: Path, nodes: int = 2, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "RAY_USAGE_STATS_ENABLED": "0",
            # a head turns token authentication on when ~/.ray/auth_token exists (a local `ray.init()`
            # writes one), and a second node started without the token is then refused: off on loopback
            "RAY_AUTH_MODE": "disabled",
            "RAY_DEDUP_LOGS": "0",
            "RAY_BACKEND_LOG_LEVEL": "error",
            MARKER: str(self.port),  # inherited by every process of this cluster, workers included
            "RAY_ADDRESS": "",  # never another cluster's
        }
        self.env.pop("RAY_ADDRESS")
        self.env.update(env or {})
        self.nodes: list[subprocess.Popen[bytes]] = []
        common = ["--block", "--num-cpus=1", "--num-gpus=0", "--object-store-memory=200000000"]
        common += ["--node-ip-address=127.0.0.1", "--disable-usage-stats"]
        try:
            self._start(["--head", f"--port={self.port}", "--include-dashboard=false", f"--temp-dir={root}", *common])
            self._wait_for(1)
            if nodes == 2:
                self._start([f"--address={self.address}", *common])
                self._wait_for(2)
        except BaseException:
            self.stop()  # a node that started is not left running
            raise

    def _start(self, args: list[str]) -> None:
        log = open(self.root.parent / f"node{len(self.nodes)}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.nodes.append(
            subprocess.Popen([RAY, "start", *args], env=self.env, stdout=log, stderr=log, start_new_session=True)
        )

    def _wait_for(self, nodes: int) -> None:
        """Until the node started last says it runs (`ray start` prints that once it joined)."""
        log = self.root.parent / f"node{nodes - 1}.log"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.nodes):
                raise RuntimeError(f"a ray node exited: see {log}")
            if b"Ray runtime started" in log.read_bytes():
                return
            time.sleep(0.5)
        raise TimeoutError(f"the Ray cluster did not reach {nodes} nodes in {START_TIMEOUT} s")

    def processes(self, title: bytes = b"") -> list[int]:
        """Pids of this cluster's processes (whose environment holds its marker), with a process title
        starting with `title` (`ray::_call`: a worker running a ragcli task right now)."""
        marker = f"{MARKER}={self.port}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if (entry / "cmdline").read_bytes().startswith(title) and marker in (
                    entry / "environ"
                ).read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def stop(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
        for pid in self.processes():  # workers, each in its own process group
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for node in self.nodes:
            node.wait(timeout=20)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def started_cluster(nodes: int = 2, env: dict[str, str] | None = None) -> Iterator[Cluster]:
    # its own short folder (Ray's socket paths must fit in 107 bytes), outside pytest's numbered ones,
    # which a concurrent pytest run may prune while the cluster still uses it
    top = Path(tempfile.mkdtemp(prefix="ragcli-ray-"))
    (top / "r").mkdir()
    try:
        started = Cluster(top / "r", nodes, env)
        try:
            yield started
        finally:
            started.stop()
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with started_cluster() as running:
        yield running


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_dense import build_tiny_embedder

    return build_tiny_embedder(tmp_path_factory.mktemp("tiny-bert"))


def build(corpus: Path, index: Path, *extra: str) -> dict[str, object]:
    done = run("index", str(corpus), "--index", str(index), "--json", *extra, timeout=BUILD_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # Ray prints nothing: no log lines, no control sequences
    report: dict[str, object] = json.loads(done.stdout)
    return report


def build_here(corpus: Path, index: Path, model: Path | None = None) -> None:
    """The local build to compare with, in this process: what `ragcli index` without `--ray` does."""
    retrievers = {"dense": EmbeddingSettings(model=str(model), precision="fp32")} if model else {}
    build_index([corpus], index, BuildSettings(retrievers=retrievers))


def assert_same_index(local: Path, distributed: Path, dense: bool = True) -> None:
    """Same ids, terms, counts and BM25 scores byte for byte; vectors within 1e-3 cosine."""
    a, b = load_index(local), load_index(distributed)
    assert list(a.passages.doc_ids) == list(b.passages.doc_ids)
    for name in ("terms.joblib", "counts.joblib", "bm25.joblib", "tfidf.joblib"):
        pa, pb = a.payload(name), b.payload(name)
        assert sorted(pa) == sorted(pb), name
        for key in pa:
            if isinstance(pa[key], np.ndarray):
                assert pa[key].dtype == pb[key].dtype and np.array_equal(pa[key], pb[key]), (name, key)
            else:
                assert pa[key] == pb[key], (name, key)
    for question in ("waggle dance direction", "rare5 clover", "winter cluster of the queen"):
        ids_a, scores_a = a.scores(question)
        ids_b, scores_b = b.scores(question)
        assert np.array_equal(ids_a, ids_b) and scores_a.tobytes() == scores_b.tobytes()
    if dense:
        va = np.asarray(a.payload("dense.joblib")["vectors"], dtype=np.float32)
        vb = np.asarray(b.payload("dense.joblib")["vectors"], dtype=np.float32)
        assert va.shape == vb.shape and va.shape[0] == len(a.passages.doc_ids)
        cosine = (va * vb).sum(axis=1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
        assert cosine.min() >= 1 - 1e-3


def test_a_two_node_build_is_the_local_build(cluster: Cluster, tiny_model: Path, tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", corpus_files(300))
    dense = ("--dense", "--embedding-model", str(tiny_model), "--embedding-precision", "fp32")
    build_here(corpus, tmp_path / "local", tiny_model)
    spread = build(corpus, tmp_path / "ray", *dense, "--ray", cluster.address)
    assert spread["passages"] == 300
    assert_same_index(tmp_path / "local", tmp_path / "ray")
    assert load_index(tmp_path / "ray").search("waggle dance", retriever="dense", k=3)

    # incremental: one file changed, one added; only their passages are counted and embedded again
    (corpus / "part1.jsonl").write_text(corpus_files(40, seed=8)["part1.jsonl"], encoding="utf-8")
    (corpus / "extra.jsonl").write_text(corpus_files(8, seed=9, prefix="x")["part0.jsonl"], encoding="utf-8")
    build_here(corpus, tmp_path / "local")
    spread = build(corpus, tmp_path / "ray", "--ray", cluster.address)
    assert (spread["files_changed"], spread["files_new"], spread["files_unchanged"]) == (1, 1, 3)
    dense_stats = load_index(tmp_path / "ray").manifest["dense"]
    assert dense_stats["embedded"] == 10 + 2 and dense_stats["reused"] == 225  # 10 changed, 2 new passages
    assert_same_index(tmp_path / "local", tmp_path / "ray")


def watch_tasks(cluster: Cluster, process: subprocess.Popen[str]) -> int:
    """Until `process` ends: how many distinct workers were seen running a ragcli task."""
    seen: set[int] = set()
    deadline = time.monotonic() + BUILD_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        seen.update(cluster.processes(b"ray::_call"))
        time.sleep(0.01)
    return len(seen)


def test_vectors_added_to_a_built_index_are_embedded_on_the_cluster(
    cluster: Cluster, tiny_model: Path, tmp_path: Path
) -> None:
    """The files did not change, only the retrievers did (`--dense` on an index built without it):
    the passages are embedded again from the stored ones, and that work goes to the cluster too."""
    corpus = write_files(tmp_path / "corpus", corpus_files(600, seed=5))
    build_here(corpus, tmp_path / "local", tiny_model)
    build(corpus, tmp_path / "ray", "--ray", cluster.address)
    dense = ("--dense", "--embedding-model", str(tiny_model), "--embedding-precision", "fp32")
    args = ["index", str(corpus), "--index", str(tmp_path / "ray"), "--json", *dense, "--ray", cluster.address]
    process = subprocess.Popen([RAGCLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = watch_tasks(cluster, process)
    out, err = process.communicate(timeout=BUILD_TIMEOUT)
    assert process.returncode == 0, err
    report = json.loads(out)
    assert (report["files_changed"], report["files_new"], report["files_unchanged"]) == (0, 0, 4)
    assert {"retriever": "dense", "action": "added", "embedded": 600, "from_checkpoint": 0} in report["updated"]
    assert workers >= 1, "no embedding task was seen on the cluster"
    assert_same_index(tmp_path / "local", tmp_path / "ray")


@pytest.mark.slow  # ~30 s more on a quiet machine (a second build, a worker restarted): RAGCLI_SLOW=1
def test_a_worker_killed_mid_build_is_retried(cluster: Cluster, tiny_model: Path, tmp_path: Path) -> None:
    """SIGKILL the first worker process seen running a task (a worker's first task, which loads the
    model, is the easiest to catch): Ray runs the task again on a new worker, the index is still the
    local build's, and nothing but the JSON report reaches stdout."""
    corpus = write_files(tmp_path / "corpus", corpus_files(600, seed=3))
    dense = ("--dense", "--embedding-model", str(tiny_model), "--embedding-precision", "fp32")
    build_here(corpus, tmp_path / "local", tiny_model)
    args = ["index", str(corpus), "--index", str(tmp_path / "ray"), "--json", *dense, "--ray", cluster.address]
    process = subprocess.Popen([RAGCLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed: list[int] = []
    deadline = time.monotonic() + BUILD_TIMEOUT
    while process.poll() is None and not killed and time.monotonic() < deadline:
        for pid in cluster.processes(b"ray::_call")[:1]:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.01)
    out, err = process.communicate(timeout=BUILD_TIMEOUT)
    assert killed, "no task was seen running: the corpus is too small to catch one"
    assert process.returncode == 0, err
    assert json.loads(out)["passages"] == 600
    assert_same_index(tmp_path / "local", tmp_path / "ray")


def test_an_unreachable_cluster_fails_cleanly_and_keeps_the_index(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run("index", str(small_corpus), "--index", str(index), "-q").returncode == 0
    before = (index / "manifest.json").read_bytes()
    (small_corpus / "new.txt").write_text("Tidal power uses the moon's pull on the sea.\n", encoding="utf-8")
    done = run("index", str(small_corpus), "--index", str(index), "--ray", f"127.0.0.1:{free_port()}", timeout=180)
    assert done.returncode == ExitCode.CLUSTER_FAILED == 13
    lines = done.stderr.strip().splitlines()
    assert "cannot join the Ray cluster" in lines[0] and "Traceback" not in done.stderr
    assert (index / "manifest.json").read_bytes() == before


def test_an_open_port_that_is_no_ray_gcs_fails_in_seconds(small_corpus: Path, tmp_path: Path) -> None:
    """An HTTP server (as the dashboard's port 8265 is) accepts the connection but never answers as a
    GCS: `ray.init` waited there for minutes, its C++ core logging each try on stderr."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"127.0.0.1:{server.server_address[1]}"
        done = run("index", str(small_corpus), "--index", str(tmp_path / "index"), "--ray", address, timeout=60)
    finally:
        server.shutdown()
    assert done.returncode == ExitCode.CLUSTER_FAILED, done.stderr
    assert done.stderr.startswith(f"ragcli: error: cannot join the Ray cluster at {address}: it did not answer as")
    assert "not the dashboard's?" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "index").exists()


def test_cuda_without_a_gpu_is_refused_before_a_private_ray_starts(small_corpus: Path, tmp_path: Path) -> None:
    """`--ray auto` with no Ray running starts one on this machine, whose GPUs are this machine's: it was
    started (~40 s) only to say "the Ray cluster has no GPU"; now this machine's check comes first."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    index = tmp_path / "index"
    done = run("index", str(small_corpus), "--index", str(index), "--dense", "--device", "cuda", "--ray", "auto")
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert done.stderr.strip() == "ragcli: error: --device cuda: no CUDA device is available", done.stderr
    assert not index.exists()


def deep_folder(tmp_path: Path) -> Path:
    """A temporary folder 80 bytes deep, as macOS's TMPDIR (/var/folders/…/T/) and HPC systems' are."""
    folder = tmp_path / ("t" * max(1, 80 - len(str(tmp_path)) - 1))
    folder.mkdir()
    return folder


def test_a_private_ray_leaves_no_session_folder(small_corpus: Path, tmp_path: Path) -> None:
    """`--ray auto` with no Ray running starts one for the build: its session folder (logs, sockets)
    stayed in the shared temporary folder's `ray/` after every build; then, in a deep TMPDIR, Ray's
    socket paths (107 bytes at most) did not fit: "internal error", and the folder was left behind."""
    temp = deep_folder(tmp_path)
    index = str(temp / "index")
    done = run("index", str(small_corpus), "--index", index, "-q", "--ray", "auto", env={"TMPDIR": str(temp)})
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in temp.iterdir()) == ["index"]


def test_a_ray_tmpdir_too_deep_is_a_cluster_error(small_corpus: Path, tmp_path: Path) -> None:
    """An explicit RAY_TMPDIR is where a private Ray goes; too deep for its sockets, that is one line and
    exit 13, not "internal error", and the session folder made there is removed."""
    temp = deep_folder(tmp_path)
    index = tmp_path / "index"
    done = run("index", str(small_corpus), "--index", str(index), "--ray", "auto", env={"RAY_TMPDIR": str(temp)})
    assert done.returncode == ExitCode.CLUSTER_FAILED, done.stderr
    assert done.stderr.startswith("ragcli: error: cannot start a private Ray: "), done.stderr
    assert "set RAY_TMPDIR to a short folder" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert list(temp.iterdir()) == [] and not index.exists()


def test_auto_names_the_stale_address_it_found(small_corpus: Path, tmp_path: Path) -> None:
    """A Ray killed without `ray stop` leaves its address in `ray/ray_current_cluster`: `--ray auto`
    asked whether "auto" was the dashboard's port, never naming the address it had tried."""
    (tmp_path / "ray").mkdir()
    port = free_port()
    (tmp_path / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{port}", encoding="utf-8")
    env = {"TMPDIR": str(tmp_path)}
    done = run("index", str(small_corpus), "--index", str(tmp_path / "index"), "--ray", "auto", env=env, timeout=60)
    assert done.returncode == ExitCode.CLUSTER_FAILED, done.stderr
    assert done.stderr.startswith("ragcli: error: cannot join the Ray cluster at auto (found "), done.stderr
    assert f":{port}): it did not answer as a Ray GCS" in done.stderr, done.stderr  # Ray names this host's IP
    assert "run `ray stop`" in done.stderr and "dashboard" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "index").exists()


@pytest.mark.parametrize(
    "address", ["127.0.0.1:99999", "127.0.0.1:0", "nohost", "127.0.0.1:x", "http://127.0.0.1:6379", "a:1:2", "::1:6379"]
)
def test_an_address_that_is_no_address_is_a_usage_error(small_corpus: Path, tmp_path: Path, address: str) -> None:
    """Port 99999 was tried and 'refused' (exit 13): no port can be it, so it is exit 2 before any work."""
    done = run("index", str(small_corpus), "--index", str(tmp_path / "index"), "--ray", address)
    assert done.returncode == ExitCode.USAGE and "not auto or a host:port address" in done.stderr, done.stderr


def test_a_cluster_with_token_authentication_is_joined_with_this_machines_token(
    small_corpus: Path, tmp_path: Path
) -> None:
    """`ray start --head` turns token authentication on when ~/.ray/auth_token exists (a `--ray auto`
    build used to leave one): the driver presents that token, where it used to fail after 25 s."""
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    (home / ".ray" / "auth_token").write_text("5f1e9a0c4b7d2e8f6a3c1b0d9e7f5a2c", encoding="utf-8")
    with started_cluster(nodes=1, env={"HOME": str(home), "RAY_AUTH_MODE": "token"}) as secured:
        index = str(tmp_path / "index")
        done = run(
            "index", str(small_corpus), "--index", index, "-q", "--ray", secured.address, env={"HOME": str(home)}
        )
        assert done.returncode == 0, done.stderr


def test_a_ray_client_address_is_refused_before_any_work(small_corpus: Path, tmp_path: Path) -> None:
    """`ray://` needs `ray[client]`, which the extra does not install: it used to fail as a cluster that
    cannot be reached, with a hint to start one."""
    done = run("index", str(small_corpus), "--index", str(tmp_path / "index"), "--ray", "ray://127.0.0.1:6379")
    assert done.returncode == ExitCode.USAGE and "Ray Client addresses (ray://) are not supported" in done.stderr
    assert not (tmp_path / "index").exists()
