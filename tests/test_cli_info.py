from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import invoke, run

from ragcli.errors import ExitCode
from ragcli.render import human_bytes

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_info_json(sample_index: Path) -> None:
    data = json.loads(invoke("info", "--index", str(sample_index), "--json").stdout)
    assert data["documents"] == 28
    assert data["passages"] >= 28
    assert data["retrievers"] == ["bm25", "tfidf"]
    assert data["analyzer"]["language"] == "en"
    assert data["size_bytes"] > 0


def test_info_table_and_verify(sample_index: Path) -> None:
    result = invoke("info", "--index", str(sample_index), "--verify")
    assert result.exit_code == 0
    assert "passages" in result.stdout and "verified" in result.stdout


def test_info_shows_the_size_limit_in_binary_units_as_skip_reasons_do(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("bees")
    index_dir = str(tmp_path / "idx")
    assert invoke("index", str(tmp_path / "docs"), "--index", index_dir, "--max-expanded-size", "64K").exit_code == 0
    assert "│ max expanded size │ 64 KiB" in invoke("info", "--index", index_dir).stdout


def test_info_shows_the_folder_hit_paths_are_relative_to(tmp_path: Path) -> None:
    for folder in ("docs/a", "docs/b"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "bees.txt").write_text("bees")
    index_dir = str(tmp_path / "idx")
    assert invoke("index", str(tmp_path / "docs/a"), str(tmp_path / "docs/b"), "--index", index_dir).exit_code == 0
    base = str((tmp_path / "docs").resolve())
    assert json.loads(invoke("info", "--index", index_dir, "--json").stdout)["base"] == base
    table = invoke("info", "--index", index_dir, env={"COLUMNS": "400"}).stdout
    assert re.search(rf"│ base +│ {re.escape(base)} +│", table)


def test_info_on_a_damaged_index(sample_index: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sample_index, copy)
    (copy / "manifest.json").write_text("garbage")
    result = run("info", "--index", str(copy))
    assert result.returncode == ExitCode.INDEX_DAMAGED
    assert "rebuild" in result.stderr


def test_version() -> None:
    from ragcli import __version__

    assert invoke("--version").stdout.strip() == f"ragcli {__version__}"


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_no_index_code(flag: str) -> None:
    """`ragcli --version` / `--help` (and each Tab a shell's completion asks) choose no index and load
    none: importing ragcli.collections there, or numpy and joblib (through the file helpers the state
    file uses), only made the answer slower (~85 ms of numpy and joblib on an idle machine)."""
    probe = (
        "import sys\n"
        "from ragcli.cli import app\n"
        "try:\n"
        "    app([sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('LOADED=' + ' '.join(sorted(m for m in sys.modules if not m.startswith('_'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True, text=True, timeout=60)
    loaded = result.stderr.rpartition("LOADED=")[2].split()
    assert "ragcli.cli" in loaded, result.stderr[-500:]
    assert not {"ragcli.collections", "numpy", "joblib"} & set(loaded), result.stderr[-500:]


def test_info_lists_the_metadata_keys_with_document_counts(sample_index: Path) -> None:
    data = json.loads(invoke("info", "--index", str(sample_index), "--json").stdout)
    assert data["metadata_keys"] == {"path": 28, "format": 28, "size": 28, "mtime": 28}
    table = invoke("info", "--index", str(sample_index)).stdout
    assert "metadata keys" in table and "format 28" in table


def test_info_shows_the_commonest_metadata_keys_and_counts_the_rest(tmp_path: Path) -> None:
    """A corpus of records with a field each (3,000 keys) printed a table thousands of lines long."""
    (tmp_path / "docs").mkdir()
    lines = [json.dumps({"id": f"r{n}", "text": f"record {n}", f"field{n}": n}) for n in range(3000)]
    (tmp_path / "docs" / "records.jsonl").write_text("\n".join(lines) + "\n")
    index_dir = str(tmp_path / "idx")
    assert invoke("index", str(tmp_path / "docs"), "--index", index_dir).exit_code == 0
    table = invoke("info", "--index", index_dir).stdout
    assert len(table.splitlines()) < 60
    assert "path 3,000, format 3,000" in table and "field4" not in table
    assert "2,996 more keys" in table
    data = json.loads(invoke("info", "--index", index_dir, "--json").stdout)
    assert len(data["metadata_keys"]) == 3004


def test_info_size_counts_the_manifest_as_well_as_the_payloads(tmp_path: Path) -> None:
    """The manifest records every source file: on 20,000 small files it was a third of the folder, left
    out of the size `info`, the build's summary and `collections` show."""
    (tmp_path / "docs").mkdir()
    for n in range(300):
        (tmp_path / "docs" / f"note-{n:04d}-{'x' * 100}.txt").write_text(f"note {n}")
    index_dir = tmp_path / "idx"
    built = invoke("index", str(tmp_path / "docs"), "--index", str(index_dir))
    data = json.loads(invoke("info", "--index", str(index_dir), "--json").stdout)
    payloads = sum(
        int(meta["bytes"]) for meta in json.loads((index_dir / "manifest.json").read_text())["files"].values()
    )
    assert data["size_bytes"] == payloads + (index_dir / "manifest.json").stat().st_size
    assert f"({human_bytes(data['size_bytes'])})" in built.output
