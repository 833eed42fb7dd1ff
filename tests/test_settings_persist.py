"""Settings that stick: a re-index keeps every setting the index was built with unless its option is given,
says what it changed, and changes the roots only when asked (`--add`, `--remove`, `--replace-roots`)."""

from __future__ import annotations

import functools
import json
import sqlite3
from pathlib import Path

import pytest
import typer
from clihelpers import invoke
from conftest import SMALL_FILES, write_files

from ragcli.analysis import AnalyzerSettings
from ragcli.cli import app
from ragcli.errors import InvalidOptionError
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.indexing.stored import PER_RUN, STORED, choose_roots, recorded_settings, reindex_settings
from ragcli.store import MANIFEST

# every stored setting, given a value other than its default (checked below), as `ragcli index` options;
# sql and the dense ones need a database or a model and have tests of their own
NON_DEFAULT: dict[str, tuple[list[str], object]] = {
    "language": (["--language", "es"], "es"),
    "stopwords": (["--no-stopwords"], False),
    "stem": (["--no-stem"], False),
    "chunk_size": (["--chunk-size", "30"], 30),
    "chunk_overlap": (["--chunk-overlap", "3"], 3),
    "id_field": (["--id-field", "key"], "key"),
    "text_field": (["--text-field", "body"], "body"),
    "title_field": (["--title-field", "name"], "name"),
    "max_expanded_size": (["--max-expanded-size", "1M"], 1 << 20),
    "generated": (["--generated"], True),
    "include": (["--include", "*.md", "--include", "*.jsonl"], ["*.md", "*.jsonl"]),
    "exclude": (["--exclude", "notes/"], ["notes/"]),
    "ignore": (["--no-ignore"], False),
    "bm25_variant": (["--bm25-variant", "bm25l"], "bm25l"),
    "k1": (["--k1", "1.7"], 1.7),
    "b": (["--b", "0.35"], 0.35),
    "delta": (["--delta", "0.3"], 0.3),
}
ELSEWHERE = {"sql", "dense", "embedding_model", "embedding_precision"}
RECORDS = '{"key": "k1", "name": "Batteries", "body": "Lithium batteries store electricity for the night."}\n'


def manifest(index_dir: Path) -> dict:
    return json.loads((index_dir / MANIFEST).read_text())


def index_json(*args: str) -> dict:
    result = invoke("index", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_option_of_index_is_a_stored_setting_or_one_of_this_run() -> None:
    command = typer.main.get_command(app).commands["index"]  # type: ignore[attr-defined]
    names = {param.name for param in command.params}
    assert not set(STORED) & set(PER_RUN)
    assert names == set(STORED) | set(PER_RUN), "a new option of `ragcli index`: add it to STORED or PER_RUN"
    assert set(NON_DEFAULT) | ELSEWHERE == set(STORED), "a new stored setting: give it a value in NON_DEFAULT"


def test_the_library_defaults_are_the_options_defaults() -> None:
    command = typer.main.get_command(app).commands["index"]  # type: ignore[attr-defined]
    defaults = {param.name: param.default for param in command.params}
    recorded = recorded_settings(None)
    for name in STORED:
        if defaults[name] is not None:  # None: "as the index recorded, else the library's default"
            assert defaults[name] == recorded[name], name
    assert all(recorded[name] != value for name, (_, value) in NON_DEFAULT.items())


def test_every_setting_survives_a_plain_re_index(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", {**SMALL_FILES, "records.jsonl": RECORDS})
    index_dir = tmp_path / "idx"
    options = [arg for args, _ in NON_DEFAULT.values() for arg in args]
    first = index_json(str(corpus), "--index", str(index_dir), *options)
    built = recorded_settings(manifest(index_dir))
    assert {name: built[name] for name in NON_DEFAULT} == {name: value for name, (_, value) in NON_DEFAULT.items()}
    assert first["passages"] > 0

    again = index_json("--index", str(index_dir))  # no paths, no options
    assert again["up_to_date"] is True and again["settings_changed"] == [] and again["updated"] == []
    assert recorded_settings(manifest(index_dir)) == built
    same_roots = index_json(str(corpus), "--index", str(index_dir))  # its own roots given again
    assert same_roots["up_to_date"] is True
    assert recorded_settings(manifest(index_dir)) == built
    # the records were read with the recorded field names: the id, title and text fields still hold
    hits = json.loads(invoke("query", "batteries", "--no-generate", "--index", str(index_dir), "--json").stdout)
    assert [h["doc_id"] for h in hits["hits"]] == ["k1"] and hits["hits"][0]["title"] == "Batteries"


def test_a_re_index_changes_only_the_options_given_and_says_so(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    index_dir = tmp_path / "idx"
    index_json(str(corpus), "--index", str(index_dir), "-l", "es", "--chunk-size", "80", "--k1", "1.4")
    result = invoke("index", "--index", str(index_dir), "--chunk-size", "50")
    assert result.exit_code == 0, result.output
    assert "settings: chunk size 80 → 50" in result.stderr
    assert "Up to date" not in result.stderr and "Indexed" in result.stderr
    settings = recorded_settings(manifest(index_dir))
    assert (settings["language"], settings["chunk_size"], settings["k1"]) == ("es", 50, 1.4)


def test_tuned_bm25_values_survive_and_a_new_weighting_is_not_up_to_date(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    index_dir = tmp_path / "idx"
    index_json(str(corpus), "--index", str(index_dir))
    from ragcli.indexing.build import reweight
    from ragcli.retrieval.bm25 import BM25Params

    reweight(index_dir, {"bm25": BM25Params(k1=1.2, b=0.45)})  # what `tune --apply` stores
    assert index_json("--index", str(index_dir))["up_to_date"] is True
    assert manifest(index_dir)["bm25"]["k1"] == 1.2 and manifest(index_dir)["bm25"]["b"] == 0.45
    result = invoke("index", "--index", str(index_dir), "--k1", "0.9")
    assert "Up to date" not in result.stderr
    assert "re-weighted BM25 (k1 1.2 → 0.9)" in result.stderr, result.stderr
    report = index_json("--index", str(index_dir), "--b", "0.75")
    assert report["up_to_date"] is False
    assert report["settings_changed"] == [{"setting": "b", "from": 0.45, "to": 0.75}]
    assert report["updated"] == [{"retriever": "bm25", "action": "rebuilt", "changed": {"b": [0.45, 0.75]}}]
    # another variant starts from its own defaults, not from the other variant's tuned k1
    report = index_json("--index", str(index_dir), "--bm25-variant", "okapi")
    assert manifest(index_dir)["bm25"]["k1"] == 1.5


def test_the_sql_query_survives_a_plain_re_index(tmp_path: Path) -> None:
    database = tmp_path / "notes.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
        connection.execute("INSERT INTO notes VALUES (1, 'Bees', 'Bees dance to tell where flowers are.')")
    connection.close()
    index_dir = tmp_path / "idx"
    query = "SELECT id, title, body FROM notes"
    index_json(f"sqlite:///{database}", "--sql", query, "--index", str(index_dir))
    report = index_json("--index", str(index_dir))
    assert report["settings_changed"] == [] and recorded_settings(manifest(index_dir))["sql"] == query
    changed = index_json("--index", str(index_dir), "--sql", query + " WHERE id >= 1")
    assert [c["setting"] for c in changed["settings_changed"]] == ["sql"]


def test_adding_and_removing_roots(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    extra = write_files(corpus / "extra", {"tidal.md": "# Tidal\n\nTidal power comes from the sea."})
    (corpus / ".ignore").write_text("extra/\n")  # the root folder's walk leaves extra/ out
    index_dir = tmp_path / "idx"
    first = index_json(str(corpus), "--index", str(index_dir))
    added = index_json("--index", str(index_dir), "--add", str(extra))
    assert added["roots_added"] == [str(extra.resolve())] and added["up_to_date"] is False
    assert (added["files_new"], added["files_unchanged"]) == (1, first["files_read"])  # the others reused
    assert manifest(index_dir)["roots"] == [str(corpus.resolve()), str(extra.resolve())]
    hits = json.loads(invoke("query", "tidal sea", "--no-generate", "--index", str(index_dir), "--json").stdout)
    assert hits["hits"][0]["path"] == "extra/tidal.md"

    removed = index_json("--index", str(index_dir), "--remove", str(extra))
    assert removed["roots_removed"] == [str(extra.resolve())]
    assert (removed["files_removed"], removed["files_new"]) == (1, 0)
    hits = json.loads(invoke("query", "tidal sea", "--no-generate", "--index", str(index_dir), "--json").stdout)
    assert all(h["path"] != "extra/tidal.md" for h in hits["hits"])
    assert manifest(index_dir)["roots"] == [str(corpus.resolve())]


def test_other_roots_are_refused_unless_replaced(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    other = write_files(tmp_path / "other", {"tidal.md": "# Tidal\n\nTidal power comes from the sea."})
    index_dir = tmp_path / "idx"
    first = index_json(str(corpus), "--index", str(index_dir))
    refused = invoke("index", str(other), "--index", str(index_dir))
    assert refused.exit_code == 2
    assert "--add" in refused.stderr and "--replace-roots" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert manifest(index_dir)["counts"]["documents"] == first["documents"]  # nothing was touched
    replaced = index_json(str(other), "--index", str(index_dir), "--replace-roots")
    assert replaced["documents"] == 1 and replaced["roots_removed"] == [str(corpus.resolve())]


def test_a_mistyped_path_is_reported_missing_not_as_other_roots(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    index_dir = tmp_path / "idx"
    index_json(str(corpus), "--index", str(index_dir))
    before = manifest(index_dir)
    for paths in ([str(tmp_path / "corpsu")], [str(corpus), str(tmp_path / "corpsu")]):
        result = invoke("index", *paths, "--index", str(index_dir))
        assert result.exit_code == 4, result.output
        assert "corpsu: no such file or folder" in result.stderr and "built from" not in result.stderr
    assert manifest(index_dir) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--remove", "{tmp}/elsewhere"], "not a root of the index"),
        (["--remove", "{corpus}"], "no roots"),
        (["{corpus}", "--add", "{tmp}"], "not both"),
        (["--replace-roots"], "needs the PATHS"),
        (["--embedding-model", "x"], "add --dense"),
    ],
)
def test_root_and_option_mistakes_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    index_dir = tmp_path / "idx"
    index_json(str(corpus), "--index", str(index_dir))
    before = manifest(index_dir)
    result = invoke("index", "--index", str(index_dir), *[a.format(tmp=tmp_path, corpus=corpus) for a in args])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert manifest(index_dir) == before


def test_old_indexes_without_recorded_settings_read_as_the_defaults_they_were_built_with(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    index_dir = tmp_path / "idx"
    index_json(str(corpus), "--index", str(index_dir))
    old = manifest(index_dir)
    for key in ("selection", "reading", "fields"):
        old.pop(key, None)
    old["format_version"] = 1
    (index_dir / MANIFEST).write_text(json.dumps(old))
    assert recorded_settings(old) == recorded_settings(None)
    report = index_json("--index", str(index_dir))  # re-indexes, with the defaults
    assert report["settings_changed"] == [] and report["passages"] > 0
    assert manifest(index_dir)["format_version"] == 2


def test_an_index_that_split_words_at_format_characters_is_queried_so_until_a_re_index(tmp_path: Path) -> None:
    corpus = write_files(tmp_path / "corpus", {"fa.txt": "Many \u06a9\u062a\u0627\u0628\u200c\u0647\u0627 here.\n"})
    index_dir = tmp_path / "idx"
    build_index([corpus], index_dir, BuildSettings(analyzer=AnalyzerSettings(drop_format_characters=False)))
    old = manifest(index_dir)
    del old["analyzer"]["drop_format_characters"]  # as a build before the setting existed wrote it
    (index_dir / MANIFEST).write_text(json.dumps(old))
    word = "\u06a9\u062a\u0627\u0628\u200c\u0647\u0627"  # typed with its ZWNJ, as the file holds it

    def found() -> list[str]:
        hits = json.loads(invoke("query", word, "--no-generate", "--index", str(index_dir), "--json").stdout)
        return [hit["doc_id"] for hit in hits["hits"]]

    assert found() == ["fa.txt"]
    report = index_json("--index", str(index_dir))  # a re-index reads the file again, analysed the new way
    assert report["up_to_date"] is False and report["files_unchanged"] == 0
    assert manifest(index_dir)["analyzer"]["drop_format_characters"] is True
    assert found() == ["fa.txt"]


def index_before(setting: str, tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    """An index of `files` built as before the analyzer recorded `setting` (its behaviour off, the key
    missing from the manifest, as such a build wrote it)."""
    corpus = write_files(tmp_path / "corpus", files)
    index_dir = tmp_path / "idx"
    build_index([corpus], index_dir, BuildSettings(analyzer=AnalyzerSettings(**{setting: False})))
    old = manifest(index_dir)
    del old["analyzer"][setting]
    (index_dir / MANIFEST).write_text(json.dumps(old))
    return index_dir


def documents_found(index_dir: Path, question: str) -> list[str]:
    hits = json.loads(invoke("query", question, "--no-generate", "--index", str(index_dir), "--json").stdout)
    return [hit["doc_id"] for hit in hits["hits"]]


def test_an_index_that_split_words_at_combining_marks_is_queried_so_until_a_re_index(tmp_path: Path) -> None:
    files = {"hi.txt": "हिन्दी की किताबें\n", "ar.txt": "\u0643\u064e\u062a\u064e\u0628\u064e\n"}
    index_dir = index_before("words_keep_marks", tmp_path, files)
    found = functools.partial(documents_found, index_dir)
    assert found("हिन्दी") == ["hi.txt"]  # split into letters, as its passages were
    assert found("\u0643\u062a\u0628") == []  # كتب: its letters, and the indexed ones, are stopped at the harakat
    report = index_json("--index", str(index_dir))  # a re-index reads every file again, analysed the new way
    assert report["up_to_date"] is False and report["files_unchanged"] == 0
    assert manifest(index_dir)["analyzer"]["words_keep_marks"] is True
    assert found("हिन्दी") == ["hi.txt"] and found("\u0643\u062a\u0628") == ["ar.txt"]


def test_an_index_without_cjk_unigrams_finds_one_character_questions_after_a_re_index(tmp_path: Path) -> None:
    index_dir = index_before("cjk_unigrams", tmp_path, {"cat.txt": "我的猫很可爱\n", "dog.txt": "我的狗很大\n"})
    found = functools.partial(documents_found, index_dir)
    assert found("猫") == [] and found("猫很") == ["cat.txt"]  # bigrams only, as it was built
    report = index_json("--index", str(index_dir))  # a re-index reads every file again, with unigrams
    assert report["up_to_date"] is False and report["files_unchanged"] == 0
    assert manifest(index_dir)["analyzer"]["cjk_unigrams"] is True
    assert found("猫") == ["cat.txt"] and found("狗") == ["dog.txt"] and found("猫很") == ["cat.txt"]


def test_an_index_without_greek_folding_finds_unaccented_questions_after_a_re_index(tmp_path: Path) -> None:
    files = {"athens.txt": "Ο Παρθενώνας βρίσκεται στην Ακρόπολη.\n", "other.txt": "Η Θεσσαλονίκη.\n"}
    index_dir = index_before("fold_greek_accents", tmp_path, files)
    found = functools.partial(documents_found, index_dir)
    assert found("παρθενωνας") == [] and found("Παρθενώνας") == ["athens.txt"]  # accents kept, as it was built
    report = index_json("--index", str(index_dir))  # a re-index reads every file again, folding them
    assert report["up_to_date"] is False and report["files_unchanged"] == 0
    assert manifest(index_dir)["analyzer"]["fold_greek_accents"] is True
    assert found("παρθενωνας") == ["athens.txt"] and found("ΘΕΣΣΑΛΟΝΙΚΗ") == ["other.txt"]


def test_reindex_settings_without_an_index_reports_no_changes() -> None:
    settings, changes = reindex_settings(None, {"chunk_size": 90})
    assert settings.chunking.size == 90 and changes == []
    with pytest.raises(ValueError, match="not a stored setting"):
        reindex_settings(None, {"jobs": 2})
    with pytest.raises(InvalidOptionError):
        choose_roots(None, None)


def test_dense_settings_survive_and_adding_vectors_is_not_up_to_date(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from test_dense import build_tiny_embedder

    model = str(build_tiny_embedder(tmp_path / "tiny-bert"))
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    index_dir = tmp_path / "idx"
    first = index_json(str(corpus), "--index", str(index_dir))
    dense = ["--dense", "--embedding-model", model, "--embedding-precision", "fp32"]
    result = invoke("index", "--index", str(index_dir), *dense)
    assert result.exit_code == 0, result.output
    assert f"added dense vectors for {first['passages']} passages" in result.stderr
    assert "Up to date" not in result.stderr
    settings = recorded_settings(manifest(index_dir))
    assert (settings["dense"], settings["embedding_model"], settings["embedding_precision"]) == (True, model, "fp32")

    again = index_json("--index", str(index_dir))
    assert again["up_to_date"] is True and recorded_settings(manifest(index_dir)) == settings
    dropped = invoke("index", "--index", str(index_dir), "--no-dense")
    assert "removed the dense vectors" in dropped.stderr and "settings: dense vectors on → off" in dropped.stderr


def test_a_root_given_several_times_is_one_root(tmp_path: Path) -> None:
    """`ragcli index r/b r/b/ ./r/b` recorded r/b three times: a later `ragcli index r/b` was refused
    ("built from r/b, r/b, not from r/b") and `--remove r/b` said it removed a root that stayed."""
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    extra = write_files(tmp_path / "extra", {"tidal.md": "# Tidal\n\nTidal power comes from the sea."})
    index_dir = tmp_path / "idx"
    index_json(str(corpus), f"{corpus}/", str(tmp_path / "." / "corpus"), "--index", str(index_dir))
    assert manifest(index_dir)["roots"] == [str(corpus.resolve())]
    assert index_json(str(corpus), "--index", str(index_dir))["up_to_date"] is True
    index_json("--index", str(index_dir), "--add", str(extra))
    index_json("--index", str(index_dir), "--remove", str(corpus))
    assert manifest(index_dir)["roots"] == [str(extra.resolve())]


def test_removing_a_root_keeps_the_other_roots_paths_and_where_they_are_shown(tmp_path: Path) -> None:
    """Paths are relative to the common folder of the roots the index was built from: after `--remove`
    of one of two sibling roots, the next plain re-index kept that folder (before, it moved to the
    remaining root: every path changed, every file counted new and read again, and `query --plain`
    showed `a/a/one.txt`, a path that is not there)."""
    project = tmp_path / "project"
    write_files(project / "a", {"one.md": "# Apples\n\nApples grow on trees in orchards."})
    write_files(project / "b", {"two.md": "# Bananas\n\nBananas grow in the tropics."})
    index_dir = tmp_path / "idx"
    index_json(str(project / "a"), str(project / "b"), "--index", str(index_dir))
    index_json("--index", str(index_dir), "--remove", str(project / "b"))
    again = index_json("--index", str(index_dir))
    assert again["up_to_date"] is True and again["files_new"] == 0
    assert manifest(index_dir)["base"] == str(project.resolve())
    shown = invoke("query", "apples orchards", "--no-generate", "--plain", "--index", str(index_dir))
    assert shown.stdout.splitlines()[0].startswith(f"{project / 'a' / 'one.md'}:")
    hits = json.loads(invoke("query", "apples", "--no-generate", "--index", str(index_dir), "--json").stdout)
    assert hits["hits"][0]["path"] == "a/one.md"
    # a root outside the recorded folder moves it, and the paths with it
    elsewhere = write_files(tmp_path / "elsewhere", {"three.md": "# Cherries\n\nCherries are red."})
    moved = index_json("--index", str(index_dir), "--add", str(elsewhere))
    assert manifest(index_dir)["base"] == str(tmp_path.resolve()) and moved["files_new"] == 2
    hits = json.loads(invoke("query", "apples", "--no-generate", "--index", str(index_dir), "--json").stdout)
    assert hits["hits"][0]["path"] == "project/a/one.md"


def test_delta_given_for_a_variant_without_one_is_said(tmp_path: Path) -> None:
    """Only bm25l and bm25+ use `--delta`: with lucene (the default, or the index's recorded variant) it
    was recorded and silently unused, where other options that do not apply warn."""
    corpus = write_files(tmp_path / "corpus", SMALL_FILES)
    index_dir = tmp_path / "idx"

    def warnings(*args: str) -> list[str]:
        result = invoke("index", str(corpus), "--index", str(index_dir), "-q", *args)
        assert result.exit_code == 0, result.output
        return [line for line in result.stderr.splitlines() if "warning" in line]

    said = "ragcli: warning: --delta is used by --bm25-variant bm25l and bm25+ only (this index's variant: {})"
    assert warnings("--delta", "7") == [said.format("lucene")]
    assert warnings("--delta", "7") == [said.format("lucene")]  # a re-index: the recorded variant
    assert warnings("--delta", "7", "--bm25-variant", "okapi") == [said.format("okapi")]
    assert warnings("--bm25-variant", "bm25l") == []  # no --delta given
    assert warnings("--delta", "0.7") == []  # the recorded variant is bm25l now
    assert warnings("--delta", "0.7", "--bm25-variant", "bm25+") == []
    assert manifest(index_dir)["bm25"]["delta"] == 0.7


def test_removing_a_root_given_through_a_link_keeps_the_other_files_passages_and_ids(tmp_path: Path) -> None:
    """Roots typed through a symbolic link to their folder: `--replace-roots` with one of them compared
    the path as typed with the folder the index recorded (resolved), so the paths' base moved and every
    file was read again under a new id (`x.txt#0` for `a/x.txt#0`)."""
    real = tmp_path / "real"
    write_files(real / "a", {"x.txt": "alpha bees"})
    write_files(real / "b", {"y.txt": "beta bees"})
    link = tmp_path / "link"
    link.symlink_to(real)
    index_dir = tmp_path / "idx"
    index_json(str(link / "a"), str(link / "b"), "--index", str(index_dir))
    replaced = index_json(str(link / "a"), "--index", str(index_dir), "--replace-roots")
    assert (replaced["files_removed"], replaced["files_unchanged"], replaced["files_new"]) == (1, 1, 0)
    hits = json.loads(invoke("query", "bees", "--no-generate", "--index", str(index_dir), "--json").stdout)
    assert [h["id"] for h in hits["hits"]] == ["a/x.txt#0"]
    assert index_json(str(real / "a"), "--index", str(index_dir))["up_to_date"] is True  # the same root


def test_replaced_roots_keep_the_selection_and_the_summary_says_so(tmp_path: Path) -> None:
    """--replace-roots changes the roots, not the settings: the recorded --exclude stays (README said the
    options given or the defaults applied), and the run names the globs it kept for the new roots."""
    write_files(tmp_path / "old", {"a.txt": "old notes"})
    new = write_files(tmp_path / "new", {"app.log": "server log bees", "b.txt": "new notes bees"})
    index_dir = tmp_path / "idx"
    index_json(str(tmp_path / "old"), "--index", str(index_dir), "--exclude", "*.log")
    replaced = invoke("index", str(new), "--index", str(index_dir), "--replace-roots")
    assert replaced.exit_code == 0, replaced.output
    assert replaced.stderr.splitlines()[0].endswith("; selection kept: exclude *.log")
    assert manifest(index_dir)["selection"]["exclude"] == ["*.log"]
    added = index_json("--index", str(index_dir), "--add", str(tmp_path / "old"))
    assert added["selection_kept"] == {"exclude": ["*.log"]}
    given = index_json("--index", str(index_dir), "--remove", str(tmp_path / "old"), "--exclude", "*.tmp")
    assert given["selection_kept"] == {} and [c["setting"] for c in given["settings_changed"]] == ["exclude"]
    assert index_json("--index", str(index_dir))["selection_kept"] == {}  # the same roots: nothing to say


def test_the_same_roots_in_another_order_are_up_to_date_and_adding_a_root_removed_is_refused(
    tmp_path: Path,
) -> None:
    """`ragcli index b a` after `ragcli index a b` was "Updated … 0 new, 0 changed, 0 removed" with no
    reason given, and `--add a --remove a` the same, reporting a root both added and removed."""
    a = write_files(tmp_path / "a", {"x.txt": "apples"})
    b = write_files(tmp_path / "b", {"y.txt": "bananas"})
    index_dir = tmp_path / "idx"
    index_json(str(a), str(b), "--index", str(index_dir))
    swapped = index_json(str(b), str(a), "--index", str(index_dir))
    assert swapped["up_to_date"] is True and (swapped["roots_added"], swapped["roots_removed"]) == ([], [])
    assert manifest(index_dir)["roots"] == [str(a.resolve()), str(b.resolve())]
    both = invoke("index", "--index", str(index_dir), "--add", str(a), "--remove", str(a))
    assert both.exit_code == 2 and "--add and --remove both name" in both.stderr


def test_a_small_chunk_size_alone_gets_an_overlap_that_fits_it(tmp_path: Path) -> None:
    """`--chunk-size 30` alone was refused: "--chunk-overlap (40) must be smaller than --chunk-size (30)",
    an overlap the user never gave. Without --chunk-overlap (now or recorded), the default overlap takes
    the defaults' ratio (40 of 200) where 40 would not fit; an overlap given that does not fit is still
    refused, naming the value that was not given as the default or the recorded one."""
    corpus = write_files(tmp_path / "c", {"x.txt": "apples and pears"})
    index_dir = tmp_path / "idx"
    index_json(str(corpus), "--index", str(index_dir), "--chunk-size", "30")
    assert manifest(index_dir)["chunking"]["overlap"] == 6
    grown = index_json("--index", str(index_dir), "--chunk-size", "100")  # the overlap still follows the size
    assert [(c["setting"], c["from"], c["to"]) for c in grown["settings_changed"]] == [
        ("chunk_size", 30, 100),
        ("chunk_overlap", 6, 40),
    ]
    index_json("--index", str(index_dir), "--chunk-size", "30", "--chunk-overlap", "10")
    refused = {
        ("--chunk-size", "8"): "--chunk-overlap (10, recorded) must be smaller than --chunk-size (8)",
        ("--chunk-overlap", "30"): "--chunk-overlap (30) must be smaller than --chunk-size (30, recorded)",
        ("--chunk-size", "30", "--chunk-overlap", "40"): "--chunk-overlap (40) must be smaller than --chunk-size (30)",
    }
    for args, message in refused.items():
        result = invoke("index", "--index", str(index_dir), *args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)
    fresh = invoke("index", str(corpus), "--index", str(tmp_path / "new"), "--chunk-overlap", "300")
    assert (
        fresh.exit_code == 2
        and "--chunk-overlap (300) must be smaller than --chunk-size (200, the default)" in fresh.stderr
    )


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_root_that_became_a_symbolic_link_is_refused_not_followed(tmp_path: Path, kind: str) -> None:
    """A recorded root swapped for a symbolic link: a re-index without PATHS recorded where the link led as
    the index's root, unasked and unsaid (exit 0), and read a file the user never named from then on."""
    elsewhere = write_files(tmp_path / "elsewhere", {"other.txt": "elsewhere lemur"})
    docs = write_files(tmp_path / "docs", {"one.txt": "single root kiwi"})
    root, target = (docs / "one.txt", elsewhere / "other.txt") if kind == "file" else (docs, elsewhere)
    index_dir = tmp_path / "idx"
    index_json(str(root), "--index", str(index_dir))
    before = manifest(index_dir)
    moved = tmp_path / "moved"
    root.rename(moved)
    root.symlink_to(target)
    refused = invoke("index", "--index", str(index_dir))
    assert refused.exit_code == 2, refused.output
    assert f"{root}, a root of the index, now leads to {target}" in refused.stderr
    assert f"ragcli index {target} --replace-roots" in refused.stderr
    assert manifest(index_dir) == before
    root.unlink()
    moved.rename(root)
    put_back = index_json("--index", str(index_dir))  # the file moved back: a new ctime, the same content
    assert put_back["files_changed"] == 0 and manifest(index_dir)["roots"] == before["roots"]


def test_a_vanished_root_says_how_to_drop_it(tmp_path: Path) -> None:
    """A re-index without PATHS whose recorded root is gone said "check the path" of a path not typed."""
    gone = write_files(tmp_path / "docs" / "a", {"x.txt": "alpha"})
    kept = write_files(tmp_path / "docs" / "b", {"y.txt": "beta"})
    index_dir = tmp_path / "idx"
    index_json(str(gone), str(kept), "--index", str(index_dir))
    (gone / "x.txt").unlink()
    gone.rmdir()
    missing = invoke("index", "--index", str(index_dir))
    assert missing.exit_code == 4, missing.output
    assert f"ragcli index --remove {gone}" in missing.stderr
    removed = index_json("--index", str(index_dir), "--remove", str(gone))
    assert removed["roots_removed"] == [str(gone)]
