"""A new reader, retriever and generator are one module each: a toy plugin package, registered through
the same entry points as ragcli's built-ins (nothing installed: a dist-info folder on PYTHONPATH is
what importlib.metadata reads), driven through the real `ragcli` command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import run, run_in_terminal

TOY_MODULE = '''
"""A toy plugin: a reader for .toy files, a coordination-match retriever, an echoing generator."""
from __future__ import annotations

import numpy as np

from ragcli.generation.base import Generation
from ragcli.readers.base import SuffixReader
from ragcli.records import Document
from ragcli.retrieval.base import Built, Retriever
from ragcli.retrieval.sparse import SparseScorer, TermMatrix


class ToyReader(SuffixReader):
    """Each line 'title: text' is a document."""

    name = "toy"
    suffixes = frozenset({".toy"})

    def read(self, source):
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            title, _, text = line.partition(":")
            yield Document(f"{source.rel}#{number}", text.strip(), title.strip(), source.rel, line=number)


class CoordinationScorer(SparseScorer):
    name = "coord"


class Coordination(Retriever):
    """Scores a passage by how many distinct query terms it holds (coordination-level match)."""

    name = "coord"
    payload = "coord.joblib"

    def default_settings(self):
        return {"binary": True}

    def settings_from(self, recorded):
        return dict(recorded)

    def identity(self, settings):
        return dict(settings)

    def build(self, settings, data):
        counts = data.counts.copy()
        counts.data = np.ones_like(counts.data, dtype=np.float32)
        return Built(TermMatrix.from_passage_weights(counts, counts.data).to_payload(), dict(settings))

    def open(self, index, options):
        return CoordinationScorer(index, TermMatrix.from_payload(index.payload(self.payload)))


class FakeBM25(Coordination):
    name = "bm25"


class EchoGenerator:
    name = "echo"
    model = None

    def generate(self, question, sources):
        if not sources:
            return Generation("nothing to echo", [], 0)
        return Generation(f"{sources[0].title} [1]", [1], len(sources))

    def generate_many(self, requests):
        return [self.generate(q, s) for q, s in requests]


class EchoFactory:
    name = "echo"

    def create(self, model, options, index):
        return EchoGenerator()


class TerseGenerator(EchoGenerator):
    """Says nothing of how many sources its prompt held (no third argument)."""

    name = "terse"

    def generate(self, question, sources):
        return Generation(f"{sources[0].title} [1]", [1]) if sources else Generation("", [])


class TerseFactory:
    name = "terse"

    def create(self, model, options, index):
        return TerseGenerator()


READER = ToyReader()
RETRIEVER = Coordination()
IMPOSTOR = FakeBM25()
GENERATOR = EchoFactory()
TERSE = TerseFactory()
'''

ENTRY_POINTS = """[ragcli.readers]
toy = ragcli_toy:READER

[ragcli.retrievers]
coord = ragcli_toy:RETRIEVER
bm25 = ragcli_toy:IMPOSTOR

[ragcli.generators]
echo = ragcli_toy:GENERATOR
terse = ragcli_toy:TERSE
"""


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which the toy plugin is registered (PYTHONPATH holds it and its dist-info)."""
    site = tmp_path / "site"
    (site / "ragcli_toy-0.1.dist-info").mkdir(parents=True)
    (site / "ragcli_toy.py").write_text(TOY_MODULE)
    (site / "ragcli_toy-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ragcli-toy\nVersion: 0.1\n"
    )
    (site / "ragcli_toy-0.1.dist-info" / "entry_points.txt").write_text(ENTRY_POINTS)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


@pytest.fixture
def toy_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "animals.toy").write_text(
        "Bees: bees dance to tell where the flowers are\n"
        "Ants: ants leave scent trails to food\n"
        "Wasps: wasps hunt other insects and also visit flowers\n"
    )
    (root / "notes.md").write_text("# Hives\n\nA hive holds one queen and many workers.\n")
    return root


def test_plugins_lists_the_toy_parts_as_third_party(plugin_env: dict[str, str]) -> None:
    result = run("plugins", "--json", env=plugin_env)
    assert result.returncode == 0, result.stderr
    listed = {(p["kind"], p["name"], p["distribution"]): p for p in json.loads(result.stdout)}
    for kind, name in (("reader", "toy"), ("retriever", "coord"), ("generator", "echo")):
        entry = listed[(kind, name, "ragcli-toy")]
        assert entry == {
            "kind": kind,
            "name": name,
            "module": "ragcli_toy",
            "distribution": "ragcli-toy",
            "builtin": False,
            "shadowed": False,
            "error": None,
        }
    impostor = listed[("retriever", "bm25", "ragcli-toy")]
    assert impostor["shadowed"] is True and listed[("retriever", "bm25", "ragcli")]["shadowed"] is False
    human = run("plugins", env=plugin_env)
    assert "ragcli-toy" in human.stdout and "coord" in human.stdout and "shadowed" in human.stdout


def test_toy_reader_retriever_and_generator_through_the_cli(
    plugin_env: dict[str, str], toy_corpus: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    built = run("index", str(toy_corpus), "--index", str(index_dir), "--json", env=plugin_env)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["documents"] == 4 and report["skipped"] == []  # three .toy lines and one Markdown file
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert "coord.joblib" in manifest["files"] and manifest["coord"] == {"binary": True}

    found = run(
        *["query", "flowers dance", "-r", "coord", "--no-generate", "--json", "--index", str(index_dir)], env=plugin_env
    )
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert [(h["title"], h["score"]) for h in hits] == [("Bees", 2.0), ("Wasps", 1.0)]
    assert hits[0]["path"] == "animals.toy" and hits[0]["line"] == 1

    answered = run("query", "who visits flowers", "-g", "echo", "--json", "--index", str(index_dir), env=plugin_env)
    assert answered.returncode == 0, answered.stderr
    answer = json.loads(answered.stdout)
    assert answer["generator"] == "echo" and answer["answer"] == f"{answer['sources'][0]['title']} [1]"
    assert answer["citations"] == [1]

    lexical = run("query", "flowers dance", "--no-generate", "--json", "--index", str(index_dir), env=plugin_env)
    scores = [h["score"] for h in json.loads(lexical.stdout)["hits"]]
    assert scores and all(s != round(s) for s in scores)  # the built-in BM25, not the impostor's whole counts


def test_a_generator_that_does_not_say_what_its_prompt_held_gets_no_closed_book_note(
    plugin_env: dict[str, str], toy_corpus: Path, tmp_path: Path
) -> None:
    """`Generation(text, citations)` leaves `sources_in_prompt` unknown: no note that the model saw no
    passage (its answer cites one), and null in the JSON."""
    index_dir = tmp_path / "index"
    assert run("index", str(toy_corpus), "--index", str(index_dir), "-q", env=plugin_env).returncode == 0
    answered = run("query", "who visits flowers", "-g", "terse", "--json", "--index", str(index_dir), env=plugin_env)
    assert answered.returncode == 0, answered.stderr
    answer = json.loads(answered.stdout)
    assert answer["citations"] == [1] and answer["sources_in_prompt"] is None
    assert "closed-book" not in answered.stderr
    shown = run("query", "who visits flowers", "-g", "terse", "--index", str(index_dir), env=plugin_env)
    assert shown.returncode == 0 and "closed-book" not in shown.stderr


def test_without_the_plugin_its_parts_are_unknown(toy_corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    built = run("index", str(toy_corpus), "--index", str(index_dir), "--json")
    # without the toy reader, animals.toy is plain text to the fallback reader: one document, not three
    report = json.loads(built.stdout)
    assert report["skipped"] == [] and report["documents"] == 2
    unknown = run("query", "flowers", "-r", "coord", "--no-generate", "--index", str(index_dir))
    assert unknown.returncode == 2 and "unknown retriever 'coord'" in unknown.stderr


def plugin_site(tmp_path: Path, dist: str, module: str, source: str, entry_points: str) -> dict[str, str]:
    """An environment with one hand-made plugin distribution (`dist` 0.1, one module) on PYTHONPATH."""
    site = tmp_path / f"site-{dist}"
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (site / f"{module}.py").write_text(source)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


BAD_MODULE = """
from ragcli.readers.base import SuffixReader
from ragcli.records import Document


class NoText(SuffixReader):
    name = "bad"
    suffixes = frozenset({".bad"})

    def read(self, source):
        yield Document(source.rel, None, "t", source.rel)


class Down:
    name, model = "down", None

    def generate(self, question, sources):
        raise RuntimeError("backend down")

    def generate_many(self, requests):
        return [self.generate(q, s) for q, s in requests]


class Words(Down):
    name = "words"

    def generate(self, question, sources):
        return "an answer that is no Generation"


class Factory:
    def __init__(self, make):
        self.make = make

    def create(self, model, options, index):
        return self.make()


READER = NoText()
DOWN = Factory(Down)
WORDS = Factory(Words)
"""


def test_a_plugins_exception_or_wrong_result_names_the_plugin_not_ragcli(tmp_path: Path, toy_corpus: Path) -> None:
    env = plugin_site(
        tmp_path,
        "ragcli-bad",
        "ragcli_bad",
        BAD_MODULE,
        "[ragcli.readers]\nbad = ragcli_bad:READER\n[ragcli.generators]\n"
        "down = ragcli_bad:DOWN\nwords = ragcli_bad:WORDS\n",
    )
    (toy_corpus / "x.bad").write_text("hi\n")
    built = run("index", str(toy_corpus), "--index", str(tmp_path / "bad-index"), "-q", env=env)
    assert built.returncode == 15, built.stderr
    assert "plugin reader 'bad' from distribution 'ragcli-bad 0.1' on x.bad yielded a Document whose text is" in (
        built.stderr
    )
    assert "internal error" not in built.stderr and "report it to the plugin's author" in built.stderr
    index_dir = tmp_path / "index"
    assert run("index", str(toy_corpus / "notes.md"), "--index", str(index_dir), "-q").returncode == 0
    for generator, said in (("down", "raised RuntimeError: backend down"), ("words", "returned str, not a Generation")):
        answered = run("query", "hive", "-g", generator, "--index", str(index_dir), env=env)
        assert answered.returncode == 15, answered.stderr
        assert f"plugin generator {generator!r} from distribution 'ragcli-bad 0.1' {said}" in answered.stderr
    builtin = run("query", "hive", "-g", "extractive", "--index", str(index_dir), env=env)
    assert builtin.returncode == 0, builtin.stderr


SCORER_MODULE = """
import numpy as np
from ragcli.retrieval.base import Retriever


class Scorer:
    def __init__(self, name, result):
        self.name, self.result = name, result

    def score(self, query):
        return self.result

    def score_many(self, queries):
        return [self.result for _ in queries]


class Scoring(Retriever):
    def __init__(self, name, result):
        self.name, self.result = name, result

    def open(self, index, options):
        return Scorer(self.name, self.result)


FAR = Scoring("far", (np.array([0, 10**9]), np.array([1.0, 2.0])))
LISTS = Scoring("lists", ([0], [1.0]))
"""


def test_a_plugin_scorers_bad_output_is_the_plugins_fault_not_a_damaged_index(tmp_path: Path, toy_corpus: Path) -> None:
    env = plugin_site(
        tmp_path,
        "ragcli-ret",
        "ragcli_ret",
        SCORER_MODULE,
        "[ragcli.retrievers]\nfar = ragcli_ret:FAR\nlists = ragcli_ret:LISTS\n",
    )
    index_dir = tmp_path / "index"
    assert run("index", str(toy_corpus / "notes.md"), "--index", str(index_dir), "-q").returncode == 0
    for name, said in (("far", "scored passage numbers outside 0…0"), ("lists", "scored tuple, not (passage")):
        found = run("query", "hive", "-r", name, "--no-generate", "--index", str(index_dir), env=env)
        assert found.returncode == 15, found.stderr
        assert f"plugin retriever {name!r} from distribution 'ragcli-ret 0.1' {said}" in found.stderr
        assert "damaged" not in found.stderr and "rebuild" not in found.stderr


NESTED_MODULE = """
import numpy as np
from ragcli.retrieval.base import Built, Retriever


class Nested(Retriever):
    name = "nest"
    payload = "nest.joblib"

    def default_settings(self):
        return {}

    def settings_from(self, recorded):
        return dict(recorded)

    def build(self, settings, data):
        return Built({"x": [1, [2, 3]], "o": np.array([object()], dtype=object)}, {})

    def open(self, index, options):
        index.payload(self.payload)


RETRIEVER = Nested()
"""


def test_a_plugin_payload_query_would_refuse_is_never_published(tmp_path: Path, toy_corpus: Path) -> None:
    env = plugin_site(
        tmp_path, "ragcli-nest", "ragcli_nest", NESTED_MODULE, "[ragcli.retrievers]\nnest = ragcli_nest:RETRIEVER\n"
    )
    index_dir = tmp_path / "index"
    assert run("index", str(toy_corpus), "--index", str(index_dir), "-q").returncode == 0
    before = (index_dir / "manifest.json").read_text()
    built = run("index", str(toy_corpus), "--index", str(index_dir), "--rebuild", "-q", env=env)
    assert built.returncode == 15, built.stderr
    assert "plugin retriever 'nest' from distribution 'ragcli-nest 0.1' built a payload that query would refuse" in (
        built.stderr
    )
    assert (index_dir / "manifest.json").read_text() == before


def test_a_plugin_that_exits_at_import_is_a_broken_plugin_not_a_silent_success(tmp_path: Path) -> None:
    env = plugin_site(
        tmp_path, "ragcli-bye", "ragcli_bye", "import sys\nsys.exit(0)\n", "[ragcli.generators]\nbye = ragcli_bye:G\n"
    )
    index_dir = tmp_path / "index"
    (tmp_path / "a.md").write_text("honeybees do a waggle dance\n")
    assert run("index", str(tmp_path / "a.md"), "--index", str(index_dir), "-q").returncode == 0
    answered = run("query", "waggle", "-g", "bye", "--json", "--index", str(index_dir), env=env)
    assert answered.returncode == 15, answered.stderr  # was 0, with nothing written anywhere
    assert "generator 'bye' from ragcli-bye cannot be loaded (SystemExit: 0)" in answered.stderr


FOLDER_MODULE = """
from ragcli.readers.base import SuffixReader


class Dataset(SuffixReader):
    name = "ds"
    suffixes = frozenset({".dsx"})

    def folder_files(self, folder):
        (folder / "dataset.yaml").read_text()  # assumes the file is there

    def read(self, source):
        return iter(())


READER = Dataset()
"""


def test_a_plugin_readers_folder_files_error_is_not_an_unreadable_folder(tmp_path: Path, toy_corpus: Path) -> None:
    env = plugin_site(tmp_path, "ragcli-ds", "ragcli_ds", FOLDER_MODULE, "[ragcli.readers]\nds = ragcli_ds:READER\n")
    built = run("index", str(toy_corpus), "--index", str(tmp_path / "index"), "-q", env=env)
    assert built.returncode == 15, built.stderr  # was exit 5: "unreadable folder: No such file or directory"
    assert "plugin reader 'ds' from distribution 'ragcli-ds 0.1' raised FileNotFoundError" in built.stderr
    assert "unreadable folder" not in built.stderr


SPARSE_MODULE = """
from ragcli.retrieval.tfidf import Tfidf


class Cosine(Tfidf):
    name = "cosine"
    payload = "cosine.joblib"


RETRIEVER = Cosine()
"""


def test_a_plugin_sparse_retriever_is_built_from_the_counts_like_a_built_in(tmp_path: Path, toy_corpus: Path) -> None:
    """A plugin subclassing a built-in sparse retriever is handed out guarded; the build asked
    `type(part).build`, which the guard's own class lacks ("internal error: AttributeError")."""
    entry_points = "[ragcli.retrievers]\ncosine = ragcli_cosine:RETRIEVER\n"
    env = plugin_site(tmp_path, "ragcli-cosine", "ragcli_cosine", SPARSE_MODULE, entry_points)
    index_dir = tmp_path / "index"
    built = run("index", str(toy_corpus), "--index", str(index_dir), "-q", env=env)
    assert built.returncode == 0, built.stderr
    found = run("query", "hive queen", "-r", "cosine", "--no-generate", "--json", "--index", str(index_dir), env=env)
    assert found.returncode == 0, found.stderr
    tfidf = run("query", "hive queen", "-r", "tfidf", "--no-generate", "--json", "--index", str(index_dir), env=env)
    assert json.loads(found.stdout)["hits"] == json.loads(tfidf.stdout)["hits"] != []


BROKEN_ENTRY_POINTS = """[ragcli.readers]
toy = ragcli_broken:READER

[ragcli.retrievers]
broken = ragcli_broken:RETRIEVER
odd = ragcli_broken:READER:extra
"""


def test_a_plugin_that_cannot_be_loaded_matters_only_where_it_is_needed(tmp_path: Path, toy_corpus: Path) -> None:
    env = plugin_site(
        tmp_path, "ragcli-broken", "ragcli_broken", "raise ImportError('no orgparse')\n", BROKEN_ENTRY_POINTS
    )
    markdown = tmp_path / "markdown"
    markdown.mkdir()
    (markdown / "notes.md").write_text("# Hives\n\nA hive holds one queen.\n")
    index_dir = tmp_path / "index"
    built = run("index", str(markdown), "--index", str(index_dir), "-q", env=env)
    assert built.returncode == 0, built.stderr  # was 1: no .toy file, no plugin retriever asked for
    said = "reader 'toy' from ragcli-broken cannot be loaded (ImportError: no orgparse); left out"
    assert built.stderr.count(said) == 1, built.stderr
    assert "retriever 'odd' from ragcli-broken cannot be loaded (its entry point value" in built.stderr
    assert (
        "'ragcli_broken:READER:extra' is malformed (write module:attribute)" in built.stderr
    )  # was AttributeError on None
    assert run("info", "--index", str(index_dir), env=env).returncode == 0
    assert run("query", "queen", "--no-generate", "--index", str(index_dir), env=env).returncode == 0

    named = run("query", "queen", "-r", "broken", "--no-generate", "--index", str(index_dir), env=env)
    assert named.returncode == 15 and "retriever 'broken' from ragcli-broken cannot be loaded" in named.stderr
    toy = run("index", str(toy_corpus), "--index", str(tmp_path / "toy"), env=env)  # not read as plain text
    assert toy.returncode == 15 and "it is needed for animals.toy" in toy.stderr, toy.stderr

    listed = run("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    errors = {(p["kind"], p["name"]): p["error"] for p in json.loads(listed.stdout) if not p["builtin"]}
    assert errors[("reader", "toy")] == "ImportError: no orgparse"
    assert errors[("retriever", "odd")].startswith("its entry point value")
    assert all(p["error"] is None for p in json.loads(listed.stdout) if p["builtin"])
    assert "cannot be loaded: ImportError: no orgparse" in run("plugins", env={**env, "COLUMNS": "200"}).stdout


def test_a_plugin_raising_keyboardinterrupt_at_import_is_broken_not_interrupted(tmp_path: Path) -> None:
    env = plugin_site(
        tmp_path, "ragcli-kb", "ragcli_kb", "raise KeyboardInterrupt\n", "[ragcli.generators]\nkb = ragcli_kb:G\n"
    )
    (tmp_path / "a.md").write_text("honeybees do a waggle dance\n")
    index_dir = tmp_path / "index"
    assert run("index", str(tmp_path / "a.md"), "--index", str(index_dir), "-q").returncode == 0
    answered = run("query", "waggle", "-g", "kb", "--json", "--index", str(index_dir), env=env)
    assert answered.returncode == 15, answered.stderr  # was 130, "interrupted"
    assert "generator 'kb' from ragcli-kb cannot be loaded (KeyboardInterrupt" in answered.stderr


def test_a_reindex_never_drops_the_data_of_a_retriever_whose_plugin_is_broken(
    plugin_env: dict[str, str], toy_corpus: Path, tmp_path: Path
) -> None:
    (toy_corpus / "animals.toy").unlink()
    index_dir = tmp_path / "index"
    assert run("index", str(toy_corpus), "--index", str(index_dir), "-q", env=plugin_env).returncode == 0
    broken = plugin_site(tmp_path, "ragcli-toy", "ragcli_toy", "raise ImportError('gone')\n", ENTRY_POINTS)
    again = run("index", "--index", str(index_dir), env=broken)
    assert again.returncode == 15, again.stderr  # was 0, coord.joblib dropped with one warning
    assert "retriever 'coord' from ragcli-toy cannot be loaded" in again.stderr and "would drop" in again.stderr
    assert "coord.joblib" in json.loads((index_dir / "manifest.json").read_text())["files"]
    rebuilt = run("index", str(toy_corpus), "--index", str(index_dir), "--rebuild", "-q", env=broken)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "coord.joblib" not in json.loads((index_dir / "manifest.json").read_text())["files"]


def test_a_reindex_never_drops_the_data_of_a_retriever_whose_plugin_was_uninstalled(
    plugin_env: dict[str, str], toy_corpus: Path, tmp_path: Path
) -> None:
    """Without its entry point nothing said the plugin was broken: a re-index dropped coord.joblib and
    its manifest section without a word. It is exit 15 now, until --rebuild or the package is back."""
    (toy_corpus / "animals.toy").unlink()
    index_dir = tmp_path / "index"
    assert run("index", str(toy_corpus), "--index", str(index_dir), "-q", env=plugin_env).returncode == 0
    (toy_corpus / "extra.txt").write_text("Bees dance to show where the flowers are.")
    again = run("index", "--index", str(index_dir))  # the toy plugin is not on PYTHONPATH any more
    assert again.returncode == 15 and again.stdout == "", again.stderr
    assert "coord.joblib, the data of retriever 'coord', which is no longer registered" in again.stderr
    assert "reinstall that package, or rebuild without it" in again.stderr
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert "coord.joblib" in manifest["files"] and manifest["coord"]
    assert run("index", "--index", str(index_dir), "-q", env=plugin_env).returncode == 0  # reinstalled
    rebuilt = run("index", "--index", str(index_dir), "--rebuild", "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert "coord.joblib" not in manifest["files"] and "coord" not in manifest


CITING_MODULE = """
from ragcli.generation.base import Generation


class Citing:
    name, model = "cite", None

    def generate(self, question, sources):
        return Generation("see [99]", [99, -1, 1], len(sources))

    def generate_many(self, requests):
        return [self.generate(q, s) for q, s in requests]


class Factory:
    name = "cite"

    def create(self, model, options, index):
        return Citing()


F = Factory()
"""


def test_a_plugin_generators_citations_must_number_its_sources(tmp_path: Path) -> None:
    env = plugin_site(
        tmp_path, "ragcli-cite", "ragcli_cite", CITING_MODULE, "[ragcli.generators]\ncite = ragcli_cite:F\n"
    )
    (tmp_path / "a.md").write_text("honeybees do a waggle dance\n")
    index_dir = tmp_path / "index"
    assert run("index", str(tmp_path / "a.md"), "--index", str(index_dir), "-q").returncode == 0
    answered = run("query", "waggle", "-g", "cite", "--json", "--index", str(index_dir), env=env)
    assert answered.returncode == 15, answered.stdout  # was 0, "citations": [99, -1, 1] beside one source
    assert (
        "plugin generator 'cite' from distribution 'ragcli-cite 0.1' cited 99, not a source's number" in answered.stderr
    )


def test_a_reindex_says_which_files_lost_their_plugin_reader(toy_corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    # the reader alone: data of an uninstalled retriever would stop the re-index (exit 15)
    reader_only = plugin_site(
        tmp_path, "ragcli-toy", "ragcli_toy", TOY_MODULE, "[ragcli.readers]\ntoy = ragcli_toy:READER\n"
    )
    assert run("index", str(toy_corpus), "--index", str(index_dir), "-q", env=reader_only).returncode == 0
    again = run("index", "--index", str(index_dir), "--json")  # the plugin is not installed now
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["files_newer_reader"] == 0  # was 1: "ragcli reads their format better now"
    assert report["warnings"] == [
        "1 file read by reader 'toy', which is not installed now (or cannot be loaded): read again by another"
        " reader, or skipped"
    ]


SHORT_MODULE = """
from ragcli.generation.base import Generation


class Short:
    name, model = "short", None

    def generate(self, question, sources):
        return Generation("x", [1], len(sources))

    def generate_many(self, requests):
        return []


class Factory:
    def create(self, model, options, index):
        return Short()


SHORT = Factory()
"""


def test_a_generator_returning_too_few_generations_is_the_plugins_fault(tmp_path: Path, toy_corpus: Path) -> None:
    """`generate_many` returning [] for one request was "internal error: generator raised StopIteration"."""
    env = plugin_site(tmp_path, "short", "short_gen", SHORT_MODULE, "[ragcli.generators]\nshort = short_gen:SHORT\n")
    index_dir = tmp_path / "index"
    assert run("index", str(toy_corpus / "notes.md"), "--index", str(index_dir), "-q").returncode == 0
    answered = run("query", "hive", "-g", "short", "--index", str(index_dir), "--json", env=env)
    assert answered.returncode == 15, answered.stderr
    assert "plugin generator 'short' from distribution 'short 0.1' returned 0 generations for 1 requests" in (
        answered.stderr
    )


STREAMING_MODULE = """
from ragcli.generation.base import Generation


class Streaming:
    name, model = "stream", None

    def __init__(self, finish):
        self.finish = finish

    def generate(self, question, sources):
        return Generation("x", [1], len(sources))

    def generate_many(self, requests):
        return [self.generate(q, s) for q, s in requests]

    def stream(self, question, sources):
        return iter(["see ", "[99]"]), self.finish


def cites_99():
    return Generation("see [99]", [99], 1)


def fails():
    raise RuntimeError("stream cut off")


class Factory:
    def __init__(self, finish):
        self.finish = finish

    def create(self, model, options, index):
        return Streaming(self.finish)


CITES = Factory(cites_99)
FAILS = Factory(fails)
WORDS = Factory(lambda: "no Generation")
"""


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("cites", "cited 99, not a source's number (1 to 1)"),
        ("fails", "raised RuntimeError: stream cut off"),
        ("words", "returned str, not a Generation"),
    ],
)
def test_a_streamed_answer_is_checked_as_a_generated_one(tmp_path: Path, name: str, said: str) -> None:
    """On a terminal `query` streams: `finish()` citing a source that is not there reached the answer
    panel unchecked (exit 0), what it raised was ragcli's internal error."""
    env = plugin_site(
        tmp_path,
        "ragcli-stream",
        "ragcli_stream",
        STREAMING_MODULE,
        "[ragcli.generators]\ncites = ragcli_stream:CITES\nfails = ragcli_stream:FAILS\nwords = ragcli_stream:WORDS\n",
    )
    (tmp_path / "a.md").write_text("honeybees do a waggle dance\n")
    index_dir = tmp_path / "index"
    assert run("index", str(tmp_path / "a.md"), "--index", str(index_dir), "-q").returncode == 0
    code, _, stderr = run_in_terminal("query", "waggle", "-g", name, "--index", str(index_dir), env=env)
    assert code == 15, stderr
    assert f"plugin generator '{name}' from distribution 'ragcli-stream 0.1' {said}" in " ".join(stderr.split())
