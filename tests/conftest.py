"""Shared fixtures: small corpora written on the fly, and indexes built from them."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pgfixture
import pytest
from pgfixture import Postgres

from ragcli.chunking import ChunkSettings
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = REPO / "sample_corpus"
DATASETS = REPO.parent / "shared" / "datasets"
# CUDA tests run where a GPU is and are skipped elsewhere (never faked); the conditions are strings, so
# torch is imported only when a test so marked is about to run
NEEDS_CUDA = pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="no CUDA device")
WITHOUT_CUDA = pytest.mark.skipif("__import__('torch').cuda.is_available()", reason="a GPU is present")


def pytest_configure(config: pytest.Config) -> None:
    """The Ctrl-C tests need SIGINT as an interactive start has it. A suite started in the background by
    a non-interactive shell (`make test &`) inherits SIGINT ignored, so Python installs no handler, and
    the processes the tests start inherit the ignoring: restored here (they then get the default)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests (real datasets) run only with RAGCLI_SLOW=1."""
    if os.environ.get("RAGCLI_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set RAGCLI_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Built int8 models and dataset indexes go to a temporary cache, never the user's."""
    patch = pytest.MonkeyPatch()
    patch.setenv("RAGCLI_CACHE", str(tmp_path_factory.mktemp("ragcli-cache")))
    yield
    patch.undo()


SMALL_FILES = {
    "solar.md": "# Solar panels\n\nSolar panels turn sunlight into electricity with photovoltaic cells.\n"
    "Each cell is made of silicon.\n",
    "wind.txt": "Wind turbines\n\nA wind turbine converts the kinetic energy of wind into electricity.\n",
    "notes/hydro.rst": "Hydropower\n==========\n\nDams store water; turbines in the dam generate electricity.\n",
    "notes/page.html": "<html><head><title>Geothermal</title><script>var secret = 'scripttext';</script></head>"
    "<body><h1>Geothermal</h1><p>Heat from deep underground drives steam turbines.</p></body></html>",
    "records.jsonl": '{"id": "r1", "title": "Batteries", "text": "Lithium batteries store electricity for the night."}\n'
    '{"id": "r2", "title": "Grid", "text": "The grid moves electricity from plants to homes."}\n',
    ".hidden/secret.txt": "hidden file that must never be indexed\n",
}


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    return write_files(tmp_path / "corpus", SMALL_FILES)


@pytest.fixture
def small_index(small_corpus: Path, tmp_path: Path) -> Path:
    index_dir = tmp_path / "index"
    build_index([small_corpus], index_dir, BuildSettings())
    return index_dir


# A corpus where BM25's k1 and b change the ranking: over the tuning grid below the judged queries'
# mean MRR@10 takes seven different values, with one best cell inside the grid (not a corner, not the
# default k1=1.0 b=0.6) and one worst cell.
TUNING_FILES = {
    "apple.txt": "apple apple apple orchard",
    "apple-long.txt": "apple orchard harvest "
    + "ladder basket crate barn tractor field fence gate " * 3
    + "apple apple",
    "apple-pie.txt": "apple pie with cinnamon",
    "pear.txt": "pear pear pear pear",
    "pear-plum.txt": "pear plum jam",
    "plum-long.txt": "plum tree " + "garden soil water shade sun rain wind " * 4 + "pear",
    "cherry.txt": "cherry orchard cherry blossom",
    "cherry-long.txt": "cherry " + "market stall price buyer seller coin " * 3 + "cherry cherry orchard",
    "fig.txt": "fig",
    "fig-apple.txt": "fig apple plum cherry pear orchard market garden",
}
TUNING_QA = [
    {"id": "a", "question": "pear orchard", "relevant": ["pear.txt"]},
    {"id": "b", "question": "cherry orchard", "relevant": ["cherry.txt"]},
    {"id": "c", "question": "plum garden", "relevant": ["plum-long.txt"]},
    {"id": "d", "question": "pear plum", "relevant": ["fig-apple.txt"]},
]
TUNING_K1 = (0.4, 1.2, 3.0)
TUNING_B = (0.1, 0.5, 0.9)
# mean MRR@10 of TUNING_QA (queries a, b, c, d: 1 / rank of the relevant document) for each (k1, b),
# as `ragcli tune --metric mrr@10` printed it
TUNING_GRID = {
    (0.4, 0.1): (1 / 2 + 1 + 1 + 1 / 3) / 4,
    (0.4, 0.5): (1 / 2 + 1 + 1 + 1 / 2) / 4,
    (0.4, 0.9): (1 / 2 + 1 + 1 / 2 + 1 / 2) / 4,
    (1.2, 0.1): (1 / 2 + 1 / 2 + 1 + 1 / 3) / 4,
    (1.2, 0.5): (1 + 1 + 1 + 1 / 2) / 4,
    (1.2, 0.9): (1 + 1 + 1 / 2 + 1 / 2) / 4,
    (3.0, 0.1): (1 + 1 / 2 + 1 + 1 / 4) / 4,
    (3.0, 0.5): (1 + 1 + 1 + 1 / 3) / 4,
    (3.0, 0.9): (1 + 1 + 1 + 1 / 3) / 4,
}
TUNING_BEST = (1.2, 0.5)
TUNING_WORST = (1.2, 0.1)


@pytest.fixture
def tuning_corpus(tmp_path: Path) -> Path:
    return write_files(tmp_path / "fruit", TUNING_FILES)


@pytest.fixture
def tuning_index(tuning_corpus: Path, tmp_path: Path) -> Path:
    build_index([tuning_corpus], tmp_path / "fruit-index")
    return tmp_path / "fruit-index"


@pytest.fixture
def tuning_qa(tmp_path: Path) -> Path:
    path = tmp_path / "tuning-qa.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in TUNING_QA))
    return path


# Documents with many passages: ranking `depth` documents needs more than `depth` passages.
REPEATED_FILES = {
    "big.txt": "honey " * 40,  # a dozen passages, each better than any passage of another document
    "a.txt": "honey honey bread toast with butter and jam",
    "b.txt": "honey on bread is sweet",
    "c.txt": "a spoon of honey in tea",
    "d.txt": "nothing sweet here at all",
}


@pytest.fixture
def repeated_index(tmp_path: Path) -> Path:
    """Passages of 4 words: "honey" ranks a dozen passages of big.txt before any other document's."""
    corpus = write_files(tmp_path / "repeated", REPEATED_FILES)
    build_index([corpus], tmp_path / "repeated-index", BuildSettings(chunking=ChunkSettings(size=4, overlap=1)))
    return tmp_path / "repeated-index"


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's sample corpus, indexed once per test session."""
    index_dir = tmp_path_factory.mktemp("sample") / "index"
    build_index([SAMPLE_CORPUS], index_dir)
    return index_dir


# Tests never reach for the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# No plain progress line on a piped stderr unless a test asks for them (tests/test_progress.py sets 0):
# a slow machine would otherwise put one among the lines a test reads.
os.environ.setdefault("RAGCLI_PROGRESS_INTERVAL", "600")
os.environ.pop("RAGCLI_MODEL", None)
# Nor for the user's configuration, collections or exported index (set before ragcli.cli is imported:
# its --help names the configuration file). platformdirs follows XDG_* on Linux; the folder goes at exit.
_HOME = tempfile.mkdtemp(prefix="ragcli-tests-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
for _name in ("RAGCLI_CONFIG", "RAGCLI_INDEX", "RAGCLI_BASE_URL"):
    os.environ.pop(_name, None)
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["RAGCLI_DATA_DIR"] = os.path.join(_HOME, "data")


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tinymodels import build_tiny_t5

    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tinymodels import build_tiny_gpt2

    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL server on a temporary folder and a loopback port (tests/pgfixture.py), started
    once per session when a test asks for it and stopped by its own pid at the end."""
    server = pgfixture.start()
    try:
        yield server
    finally:
        server.stop()
