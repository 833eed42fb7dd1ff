"""The state file in ragcli's cache folder (`RAGCLI_CACHE`): what ragcli remembers between runs, written
so that nothing planted in that folder can redirect the write."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest
from clihelpers import run

from ragcli.models import STATE_FILE, once_a_day, read_state


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RAGCLI_CACHE", str(folder))
    return folder


def test_a_notice_is_remembered_and_no_temporary_file_is_left(cache: Path) -> None:
    assert once_a_day("fallback:x", now=1000.0)
    assert not once_a_day("fallback:x", now=2000.0)
    assert read_state() == {"notices": {"fallback:x": 1000.0}}
    assert sorted(p.name for p in cache.iterdir()) == [STATE_FILE]


def test_a_link_planted_under_the_temporary_name_is_never_written_through(cache: Path, tmp_path: Path) -> None:
    """The state was written with a plain open() to `.state.json.<pid>.tmp`: a link of that name (whoever
    can write the cache folder can guess a process id) had ragcli overwrite the file it points to. The
    temporary file is created anew now (O_EXCL, O_NOFOLLOW) under a fresh name, then renamed."""
    cache.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious notes\n")
    planted = cache / f".{STATE_FILE}.{os.getpid()}.tmp"
    planted.symlink_to(victim)
    assert once_a_day("fallback:x", now=1000.0)
    assert victim.read_text() == "precious notes\n"
    assert json.loads((cache / STATE_FILE).read_text()) == {"notices": {"fallback:x": 1000.0}}
    assert not (cache / STATE_FILE).is_symlink()
    assert sorted(p.name for p in cache.iterdir()) == sorted([STATE_FILE, planted.name])  # the link kept


def test_a_link_in_the_state_file_s_place_is_replaced_not_followed(cache: Path, tmp_path: Path) -> None:
    cache.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious notes\n")
    (cache / STATE_FILE).symlink_to(victim)
    assert once_a_day("fallback:x", now=1000.0)
    assert victim.read_text() == "precious notes\n"
    assert not (cache / STATE_FILE).is_symlink()


def test_a_cache_folder_that_cannot_be_written_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    monkeypatch.setenv("RAGCLI_CACHE", str(a_file))
    assert once_a_day("fallback:x", now=1000.0)  # shown, though it cannot be remembered
    assert a_file.read_text() == ""


def test_a_state_write_a_kill_left_goes_with_the_next_write_and_only_it(sample_index: Path, tmp_path: Path) -> None:
    """SIGKILL while the state file is written leaves `.ragcli-state.json.<32 hex digits>.tmp` in the cache
    folder, which no build sweeps (it is no index folder); the next command that writes the state removes
    it. A temporary file another process is still writing (it holds a flock on it until it is renamed), a
    name that only resembles ragcli's, and a link of ragcli's very name stay."""
    cache = tmp_path / "cache"
    cache.mkdir()
    hub_cache = tmp_path / "hf-cache"
    hub_cache.mkdir()
    left = cache / f".ragcli-{STATE_FILE}.{'a' * 32}.tmp"
    left.write_text('{"notices": {"fall')  # cut off mid-write
    busy = cache / f".ragcli-{STATE_FILE}.{'b' * 32}.tmp"
    busy.write_text("being written")
    kept = {
        f".ragcli-{STATE_FILE}.{'c' * 31}.tmp": "not a fresh name ragcli makes",
        f"{STATE_FILE}.{'d' * 32}.tmp": "no ragcli prefix: someone's",
        f".ragcli-notes.json.{'e' * 32}.tmp": "not the state file's",
    }
    for name, text in kept.items():
        (cache / name).write_text(text)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = cache / f".ragcli-{STATE_FILE}.{'f' * 32}.tmp"
    link.symlink_to(victim)
    env = {"RAGCLI_CACHE": str(cache), "HF_HUB_CACHE": str(hub_cache), "HF_HUB_OFFLINE": "1"}
    with busy.open() as writing:
        fcntl.flock(writing, fcntl.LOCK_EX)
        result = run("query", "varroa mites", "--index", str(sample_index), env=env)
    assert result.returncode == 0 and "ragcli: note:" in result.stderr, result.stderr  # remembered: state written
    assert "notices" in json.loads((cache / STATE_FILE).read_text())
    assert not left.exists()
    assert busy.read_text() == "being written"
    assert {name: (cache / name).read_text() for name in kept} == kept
    assert link.is_symlink() and victim.read_text() == "precious"
