"""`ragcli index --name`, `-c NAME` on the commands that take --index, `ragcli collections [remove]`."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import RAGCLI, invoke, run, without_root_powers
from conftest import REPO, SAMPLE_CORPUS, TUNING_QA, write_files

from ragcli.errors import ExitCode
from ragcli.indexdir import index_lock


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A data folder of the test's own, and an empty user configuration."""
    (tmp_path / "config.toml").write_text("")
    return {"RAGCLI_DATA_DIR": str(tmp_path / "data"), "RAGCLI_CONFIG": str(tmp_path / "config.toml")}


def test_index_a_collection_then_use_it_by_name(small_corpus: Path, tmp_path: Path, env: dict[str, str]) -> None:
    built = invoke("index", str(small_corpus), "--name", "energy", "--json", env=env)
    assert built.exit_code == 0, built.output
    folder = tmp_path / "data" / "collections" / "energy"
    assert (folder / "manifest.json").exists()
    hits = json.loads(invoke("query", "turbines", "-c", "energy", "--no-generate", "--json", env=env).stdout)["hits"]
    assert {h["path"] for h in hits} >= {"wind.txt"}
    info = json.loads(invoke("info", "--collection", "energy", "--json", env=env).stdout)
    assert info["path"] == str(folder)
    again = invoke("index", "-c", "energy", "--json", env=env)  # -c on index: the same collection, refreshed
    assert again.exit_code == 0 and json.loads(again.stdout)["up_to_date"] is True
    listed = json.loads(invoke("collections", "--json", env=env).stdout)
    assert [(c["name"], c["path"], c["documents"]) for c in listed] == [("energy", str(folder), info["documents"])]
    assert listed[0]["passages"] == info["passages"] and listed[0]["size_bytes"] == info["size_bytes"]
    table = invoke("collections", env=env).stdout
    assert "energy" in table and f"{info['passages']:,}" in table


def test_evaluate_and_tune_take_a_collection(tuning_corpus: Path, tmp_path: Path, env: dict[str, str]) -> None:
    assert invoke("index", str(tuning_corpus), "--name", "fruit", "-q", env=env).exit_code == 0
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps(q) + "\n" for q in TUNING_QA))
    evaluated = invoke("evaluate", str(qa), "-c", "fruit", "--no-generate", "--json", env=env)
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["index"] == str(tmp_path / "data" / "collections" / "fruit")
    tuned = invoke("tune", str(qa), "-c", "fruit", "--k1", "1.2", "--b", "0.5", "--json", env=env)
    assert tuned.exit_code == 0 and json.loads(tuned.stdout)["index"].endswith("fruit")


def test_a_missing_collection_is_exit_3_naming_it(tmp_path: Path, env: dict[str, str]) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps(TUNING_QA[0]) + "\n")
    trains = [
        ["train", "generator", str(qa), "-o", str(tmp_path / "g"), "--with-context"],
        ["train", "retriever", str(qa), "-o", str(tmp_path / "r")],
    ]
    for args in (["query", "x", "--no-generate"], ["info"], ["evaluate", str(qa)], ["tune", str(qa)], *trains):
        result = invoke(*args, "-c", "nothing", env=env)
        assert result.exit_code == ExitCode.NO_INDEX, (args, result.output)
        assert result.output.strip().splitlines() == [
            "ragcli: error: no collection named 'nothing' (in "
            f"{env['RAGCLI_DATA_DIR']}/collections) (build it with `ragcli index PATH --name nothing`; "
            "`ragcli collections` lists them)"
        ]


@pytest.mark.parametrize("name", ["../outside", "a/b", ".."])
def test_a_name_with_a_path_in_it_is_refused_before_any_work(
    small_corpus: Path, env: dict[str, str], name: str
) -> None:
    result = invoke("index", str(small_corpus), "--name", name, env=env)
    assert result.exit_code == ExitCode.USAGE and "is not a collection name" in result.output
    assert not Path(env["RAGCLI_DATA_DIR"]).exists()


def test_index_and_collection_together_are_refused(small_index: Path, env: dict[str, str]) -> None:
    result = invoke("query", "x", "-i", str(small_index), "-c", "energy", env=env)
    assert result.exit_code == ExitCode.USAGE and "--index and -c/--collection both name an index" in result.output


def test_remove(small_corpus: Path, tmp_path: Path, env: dict[str, str]) -> None:
    assert invoke("index", str(small_corpus), "--name", "energy", "-q", env=env).exit_code == 0
    folder = tmp_path / "data" / "collections" / "energy"
    removed = invoke("collections", "remove", "energy", "--json", env=env)
    assert removed.exit_code == 0 and json.loads(removed.stdout) == {"name": "energy", "path": str(folder), "left": []}
    assert not folder.exists()
    assert json.loads(invoke("collections", "--json", env=env).stdout) == []
    assert "no collections in" in invoke("collections", env=env).output
    again = invoke("collections", "remove", "energy", env=env)
    assert again.exit_code == ExitCode.NO_INDEX and "no collection named 'energy'" in again.output


def test_remove_during_a_build_fails_or_waits_with_wait(
    small_corpus: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """`collections remove` during a build said "pass --wait", an option it did not have."""
    assert invoke("index", str(small_corpus), "--name", "energy", "-q", env=env).exit_code == 0
    folder = tmp_path / "data" / "collections" / "energy"
    with index_lock(folder):
        busy = run("collections", "remove", "energy", env=env)
        assert busy.returncode == ExitCode.INDEX_LOCKED and "--wait" in busy.stderr, busy.stderr
        waiting = subprocess.Popen(
            [RAGCLI, "collections", "remove", "energy", "--wait"], env={**os.environ, **env}, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60  # until it holds the folder open, at the lock (or has ended)
        while waiting.poll() is None and time.monotonic() < deadline:
            if any(os.path.realpath(fd) == str(folder) for fd in Path(f"/proc/{waiting.pid}/fd").iterdir()):
                break
            time.sleep(0.05)
        assert waiting.poll() is None and (folder / "manifest.json").exists()  # waiting, nothing removed yet
    assert waiting.wait(timeout=60) == 0, waiting.stderr.read() if waiting.stderr else ""
    assert not folder.exists()


def test_a_linked_collection_is_listed_and_its_removal_refused(
    small_index: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """`-c linked` used a link in the data folder that `collections` did not list and `collections
    remove` said did not exist."""
    (tmp_path / "data" / "collections").mkdir(parents=True)
    link = tmp_path / "data" / "collections" / "linked"
    os.symlink(small_index, link)
    assert invoke("query", "turbines", "-c", "linked", "--no-generate", "--json", env=env).exit_code == 0
    listed = json.loads(invoke("collections", "--json", env=env).stdout)
    assert [(c["name"], c["link"]) for c in listed] == [("linked", str(small_index))]
    assert f"linked → {small_index}" in invoke("collections", env={**env, "COLUMNS": "300"}).stdout
    refused = invoke("collections", "remove", "linked", env=env)
    assert refused.exit_code == ExitCode.USAGE and len(refused.stderr.splitlines()) == 1
    assert "is a symbolic link" in refused.stderr and f"`rm {link}`" in refused.stderr
    assert link.is_symlink() and (small_index / "manifest.json").exists()


def test_remove_never_deletes_a_folder_that_is_not_an_index(tmp_path: Path, env: dict[str, str]) -> None:
    folder = write_files(tmp_path / "data" / "collections" / "papers", {"thesis.tex": "years of work"})
    result = run("collections", "remove", "papers", env=env)
    assert result.returncode == ExitCode.USAGE
    assert "not a ragcli index; refusing to delete it (nothing was changed)" in result.stderr
    assert (folder / "thesis.tex").read_text() == "years of work"
    outside = run("collections", "remove", "..", env=env)
    assert outside.returncode == ExitCode.USAGE and "is not a collection name" in outside.stderr


def test_remove_keeps_a_lock_file_that_holds_someone_elses_words(tmp_path: Path, env: dict[str, str]) -> None:
    """ragcli's lock is always empty: a `lock` that holds text, beside a 0.1.0-style manifest, is kept."""
    folder = write_files(
        tmp_path / "data" / "collections" / "old",
        {"manifest.json": '{"format": "ragcli-index"}', "lock": "my notes about the lock\n"},
    )
    removed = invoke("collections", "remove", "old", "--json", env=env)
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout)["left"] == ["lock"]
    assert (folder / "lock").read_text() == "my notes about the lock\n" and not (folder / "manifest.json").exists()


def test_a_folder_made_by_hand_under_a_collections_name_gets_a_hint_that_works(
    small_corpus: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """`-c mine` for a folder of someone's files said to build it with `index --name mine`, which
    refuses that folder: the hint says to choose another name or move the folder."""
    folder = write_files(tmp_path / "data" / "collections" / "mine", {"n.txt": "x"})
    result = invoke("query", "x", "-c", "mine", "--no-generate", env=env)
    assert result.exit_code == ExitCode.NO_INDEX
    assert result.output.strip().splitlines() == [
        f"ragcli: error: no collection named 'mine' (in {folder.parent}) ({folder} holds files and is not "
        "a ragcli index: choose another name, or move the folder; `ragcli collections` lists them)"
    ]
    built = invoke("index", str(small_corpus), "--name", "mine", "-q", env=env)
    assert built.exit_code == ExitCode.USAGE
    assert built.output.strip().splitlines() == [
        f"ragcli: error: {folder} holds files and is not a ragcli index; refusing to build collection 'mine' "
        "there (nothing in it was changed) (choose another name, or move the folder)"
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["n.txt"]


def test_the_exported_index_does_not_say_omit_index(small_index: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """Item 4: with RAGCLI_INDEX exported (no --index given), tune's hint says how to unset it."""
    beir = write_files(
        tmp_path / "mini",
        {
            "corpus.jsonl": '{"_id": "d1", "text": "x"}\n',
            "queries.jsonl": '{"_id": "1", "text": "x"}\n',
            "qrels/train.tsv": "query-id\tcorpus-id\tscore\n1\td1\t1\n",
        },
    )
    result = run("tune", str(beir), env={**env, "RAGCLI_INDEX": str(small_index)})
    assert result.returncode == ExitCode.USAGE and "holds another corpus" in result.stderr
    assert "omit --index" not in result.stderr and "unset RAGCLI_INDEX to use a cached index" in result.stderr
    named = run("tune", str(beir), "--index", str(small_index), env=env)
    assert "omit --index to use a cached index" in named.stderr


def test_the_training_commands_take_a_collection_named_or_configured(
    tiny_t5: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """`train retriever` and `train generator --with-context` read an index: -c names it, and without
    --index, -c or $RAGCLI_INDEX the configuration's `collection` does, as for every such command."""
    from tinymodels import build_tiny_embedder

    qa = REPO / "docs" / "bees-qa.jsonl"
    encoder = build_tiny_embedder(tmp_path / "tiny-bert")
    assert invoke("index", str(SAMPLE_CORPUS), "--name", "bees", "-q", env=env).exit_code == 0
    generator = ("train", "generator", str(qa), "--model", str(tiny_t5), "--with-context", "--epochs", "1")
    generator += ("--threads", "1", "--batch-size", "10", "--quiet")
    retriever = ("train", "retriever", str(qa), "--embedding-model", str(encoder), "--epochs", "1")
    retriever += ("--batch-size", "4", "--validation", "0", "--max-seq-length", "64")
    for named in (["-c", "bees"], []):
        if not named:
            Path(env["RAGCLI_CONFIG"]).write_text('collection = "bees"\n')
        for command in (generator, retriever):
            result = invoke(*command, "-o", str(tmp_path / f"{command[1]}-{len(named)}"), *named, env=env)
            assert result.exit_code == 0, (command[1], named, result.output)


def run_without_root_powers(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`ragcli ARGS` with permissions applied (as root too: setpriv drops the override)."""
    command = [*without_root_powers(), RAGCLI, *args]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, timeout=120)


@pytest.mark.parametrize("locked", ["data/collections/notes", "data"])  # the collection's folder; one above it
def test_a_folder_that_cannot_be_searched_is_one_line_not_an_internal_error(
    small_corpus: Path, tmp_path: Path, env: dict[str, str], locked: str
) -> None:
    """Asking whether the manifest (or the collection) exists raised PermissionError: "internal error",
    exit 1, and `collections` left the collection out. Each is one line naming what cannot be reached,
    with the exit code of what was being done: reading an index 7, writing or removing one 12."""
    assert invoke("index", str(small_corpus), "--name", "notes", "-q", env=env).exit_code == 0
    index = str(tmp_path / "locked" / "idx")
    (tmp_path / "locked" / "idx").mkdir(parents=True)
    expected = {
        ("query", "wind", "-c", "notes"): ExitCode.INDEX_DAMAGED,
        ("collections", "remove", "notes"): ExitCode.WRITE_FAILED,
        ("query", "wind", "-i", index): ExitCode.INDEX_DAMAGED,
        ("info", "-i", index): ExitCode.INDEX_DAMAGED,
        ("index", str(small_corpus), "-i", index): ExitCode.WRITE_FAILED,
    }
    if locked == "data":
        expected[("index", str(small_corpus), "--name", "new")] = ExitCode.WRITE_FAILED
    for folder in (locked, "locked"):
        (tmp_path / folder).chmod(0o000)
    try:
        results = {args: run_without_root_powers(*args, env=env) for args in expected}
        listed = run_without_root_powers("collections", "--json", env=env)
    finally:
        for folder in (locked, "locked"):
            (tmp_path / folder).chmod(0o755)
    for args, result in results.items():
        assert result.returncode == expected[args], (args, result.stderr)
        assert len(result.stderr.splitlines()) == 1 and "cannot be reached (Permission denied)" in result.stderr
    if locked != "data":  # listed with its error, as a damaged collection is
        error = f"{tmp_path / locked / 'manifest.json'}: cannot be reached (Permission denied)"
        assert [(c["name"], c["error"]) for c in json.loads(listed.stdout)] == [("notes", error)]


def test_a_tilde_is_the_home_folder_in_every_index_path(
    small_corpus: Path, tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--index=~/x` (which no shell expands) and a quoted `RAGCLI_INDEX='~/x'` built into a folder named
    `~` in the current folder, which `rm -rf ~` then cleans up with the home folder: `~` is expanded, as
    for $RAGCLI_CONFIG and $RAGCLI_DATA_DIR; for $RAGCLI_CACHE too."""
    from ragcli.models import cache_root

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(tmp_path)
    env = {**env, "HOME": str(home)}
    assert invoke("index", str(small_corpus), "--index=~/a", "-q", env=env).exit_code == 0
    assert invoke("index", str(small_corpus), "-q", env={**env, "RAGCLI_INDEX": "~/b"}).exit_code == 0
    assert sorted(path.name for path in home.iterdir()) == ["a", "b"] and not (tmp_path / "~").exists()
    assert invoke("info", "--index=~/a", env=env).exit_code == 0
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RAGCLI_CACHE", "~/cache")
    assert cache_root() == home / "cache"


@pytest.mark.parametrize("command", [["index", "."], ["query", "bees"], ["info"]])
def test_an_empty_index_path_is_refused_not_the_current_folder(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """`--index "$IDX"` with $IDX empty made the current folder an index (and read it as one), where
    -c '' is refused and an empty $RAGCLI_INDEX is unset."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    result = invoke(*command, "--index", "", env=env)
    assert result.exit_code == ExitCode.USAGE and "empty path" in result.output
    assert list(empty.iterdir()) == []


def test_a_data_folder_that_is_a_file_names_ragcli_data_dir(small_corpus: Path, tmp_path: Path) -> None:
    """$RAGCLI_DATA_DIR naming a file: `collections` was exit 4 ("a path to index does not exist") and
    `index --name` said "choose another --index"; each names the variable, exit 12."""
    (tmp_path / "f").write_text("hi\n")
    env = {"RAGCLI_DATA_DIR": str(tmp_path / "f"), "RAGCLI_CONFIG": os.devnull, "RAGCLI_INDEX": ""}
    for args in (["collections"], ["index", str(small_corpus), "--name", "x"], ["query", "wind", "-c", "x"]):
        result = invoke(*args, env=env)
        assert result.exit_code == ExitCode.WRITE_FAILED, (args, result.output)
        assert result.stderr.startswith(f"ragcli: error: {tmp_path / 'f'} ($RAGCLI_DATA_DIR) is not a folder"), args
        assert "--index" not in result.stderr


def test_a_build_sent_to_a_configured_index_says_which_and_why(
    small_corpus: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """`ragcli index` with no --index or --name builds the configuration's collection: a refusal says
    so (the user did not name it on this command line) and how to build another index instead."""
    (tmp_path / "config.toml").write_text('collection = "notes"\n')
    config = tmp_path / "config.toml"
    missing = invoke("index", env=env)
    assert missing.exit_code == ExitCode.USAGE
    assert f"collection 'notes' (key 'collection' of {config}) does not exist yet" in missing.stderr
    assert "--index DIR or --name NAME builds another index" in missing.stderr
    assert invoke("index", str(small_corpus), "-q", env=env).exit_code == 0
    other = write_files(tmp_path / "other", {"a.txt": "another folder"})
    refused = invoke("index", str(other), env=env)
    assert refused.exit_code == ExitCode.USAGE
    assert f"collection 'notes' (key 'collection' of {config}) was built from {small_corpus}" in refused.stderr
    assert "--add PATH adds a folder to it" in refused.stderr and "--name NAME builds another index" in refused.stderr
    from_env = invoke("index", env={**env, "RAGCLI_INDEX": str(tmp_path / "elsewhere")})
    assert f"the index {tmp_path / 'elsewhere'} ($RAGCLI_INDEX) does not exist yet" in from_env.stderr
    named = invoke("index", str(other), "--index", str(tmp_path / "data" / "collections" / "notes"), env=env)
    assert named.exit_code == ExitCode.USAGE  # named here: "the index", as before
    assert f"the index was built from {small_corpus}, not from {other}" in named.stderr


def test_the_listing_never_cuts_a_name(small_index: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """Names of 25 characters or more were cut with "…", in a pipe too: neither the name -c takes nor
    `ragcli collections | grep NAME` could be had. A pipe gets each name whole on its line; a narrow
    terminal folds it onto more lines."""
    from rich.console import Console

    from ragcli.render import collections_table

    name = "project-alpha-meeting-notes-2026-" + "x" * 31  # 64 characters: the longest name
    collections = tmp_path / "data" / "collections"
    collections.mkdir(parents=True)
    (collections / name).symlink_to(small_index)
    for columns in ("80", "40"):
        listed = invoke("collections", env={**env, "COLUMNS": columns}).stdout
        assert "…" not in listed and any(f"│ {name} → {small_index}" in line for line in listed.splitlines()), listed
    item = json.loads(invoke("collections", "--json", env=env).stdout)[0]
    console = Console(width=40, record=True, file=open(os.devnull, "w"))  # noqa: SIM115 - the console's file
    console.print(collections_table([item], str(collections)))
    lines = console.export_text().splitlines()
    shown = "".join(line.split("│")[1].strip() for line in lines if line.startswith("│"))
    assert shown.replace(" ", "") == f"{name}→{small_index}" and max(len(line) for line in lines) <= 40, lines


def test_a_file_under_a_collections_name_gets_the_same_hint(
    small_corpus: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """A file of someone's in the collections folder got "build it with `index --name budget`", which then
    refused it with an --index hint nobody typed: both say it is a file, to choose another name or move it."""
    mine = write_files(tmp_path / "data" / "collections", {"budget": "mine"}) / "budget"
    result = invoke("query", "x", "-c", "budget", "--no-generate", env=env)
    assert result.exit_code == ExitCode.NO_INDEX
    assert result.output.strip().splitlines() == [
        f"ragcli: error: no collection named 'budget' (in {mine.parent}) ({mine} is a file, not a ragcli "
        "index: choose another name, or move the file; `ragcli collections` lists them)"
    ]
    built = invoke("index", str(small_corpus), "--name", "budget", "-q", env=env)
    assert built.exit_code == ExitCode.USAGE
    assert built.output.strip().splitlines() == [
        f"ragcli: error: {mine} is a file, not a ragcli index; refusing to build collection 'budget' there "
        "(nothing in it was changed) (choose another name, or move the file)"
    ]
    assert mine.read_text() == "mine"


def test_config_show_warns_of_a_data_folder_that_is_a_file(tmp_path: Path) -> None:
    """$RAGCLI_DATA_DIR naming a file: `config show` warned only when the configuration set `collection`,
    and otherwise listed `<file>/collections` as if collections could be kept there."""
    (tmp_path / "f").write_text("hi\n")
    env = {"RAGCLI_DATA_DIR": str(tmp_path / "f"), "RAGCLI_CONFIG": os.devnull, "RAGCLI_INDEX": ""}
    for args in (["config", "show"], ["config", "show", "--json"], ["config", "show", "-i", str(tmp_path / "x")]):
        result = invoke(*args, env=env)
        assert result.exit_code == 0, (args, result.output)
        assert result.stderr.startswith(
            f"ragcli: warning: {tmp_path / 'f'} ($RAGCLI_DATA_DIR) is not a folder: the collections are kept there"
        ), args


def test_a_refused_or_missing_index_the_configuration_chose_says_what_chose_it(
    small_corpus: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """A folder of someone's files that the configuration's `collection` or $RAGCLI_INDEX named was
    refused, and a $RAGCLI_INDEX naming nothing was "no index found", without saying what chose it:
    a stale variable in a service's environment was hard to find."""
    config = tmp_path / "config.toml"
    write_files(tmp_path / "data" / "collections" / "photos", {"p.jpg": "x"})
    config.write_text('collection = "photos"\n')
    refused = invoke("index", str(small_corpus), env=env)
    assert refused.exit_code == ExitCode.USAGE
    assert f"collection 'photos' (key 'collection' of {config})" in refused.stderr
    assert "--name NAME builds another index" in refused.stderr
    config.write_text("")
    mine = write_files(tmp_path / "mine", {"k.txt": "keep"})
    refused = invoke("index", str(small_corpus), env={**env, "RAGCLI_INDEX": str(mine)})
    assert refused.exit_code == ExitCode.USAGE
    assert f"{mine} holds files and is not a ragcli index; refusing to build the index $RAGCLI_INDEX names" in (
        refused.stderr
    )
    assert "unset RAGCLI_INDEX" in refused.stderr and "pass --index" not in refused.stderr
    assert sorted(p.name for p in mine.iterdir()) == ["k.txt"]
    for args in (["query", "wind"], ["info"]):
        missing = invoke(*args, env={**env, "RAGCLI_INDEX": str(tmp_path / "typo")})
        assert missing.exit_code == ExitCode.NO_INDEX, args
        assert f"no index found in {tmp_path / 'typo'} ($RAGCLI_INDEX)" in missing.stderr
        assert "unset RAGCLI_INDEX" in missing.stderr


def test_a_relative_data_folder_is_shown_absolute(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative $RAGCLI_DATA_DIR is relative to the folder a command runs in: `collections --json` listed
    `rel/collections/r1` and a `-c r1` run elsewhere said "(in rel/collections)", naming no folder."""
    env = {"RAGCLI_DATA_DIR": "rel", "RAGCLI_CONFIG": os.devnull, "RAGCLI_INDEX": ""}
    monkeypatch.chdir(tmp_path)
    assert invoke("index", str(small_corpus), "--name", "r1", "-q", env=env).exit_code == 0
    listed = json.loads(invoke("collections", "--json", env=env).stdout)
    assert [entry["path"] for entry in listed] == [str(tmp_path / "rel" / "collections" / "r1")]
    monkeypatch.chdir(small_corpus)
    missing = invoke("query", "wind", "-c", "r1", env=env)
    assert missing.exit_code == ExitCode.NO_INDEX
    assert f"(in {small_corpus / 'rel' / 'collections'})" in missing.stderr
