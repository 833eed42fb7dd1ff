"""Issue 13's bar, end to end: a folder of the files a person really has indexes with exit 0, every
text document found, every skip with its reason, and the PDF hit cited to its page."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from clihelpers import run
from conftest import write_files
from test_readers_docx import make_docx
from test_readers_pdf import make_pdf

PDF_PAGES = [
    "Annual report of the harbour board\n\nBoats moored along the breakwater were counted in spring.",
    "The quokka lives on Rottnest Island and is famous for its smiling face.",
    "Appendix: tide tables.",
]


def mixed_folder(root: Path) -> Path:
    return write_files(
        root,
        {
            "report.pdf": make_pdf(PDF_PAGES, title="Harbour board report"),
            "scanned.pdf": make_pdf(["", ""], blank={1, 2}),
            "review.docx": make_docx(),
            "README": "Project notes\n\nThe lighthouse keeper logs every passing freighter.\n",
            "changelog.Debian.gz": gzip.compress(b"pkg (1.2) unstable\n\n  * Fixed the albatross counter.\n"),
            "package.json": json.dumps({"name": "site", "version": "1.0.0", "scripts": {"build": "vite"}}),
            "records.jsonl": '{"id": "t1", "title": "Aerodynamic heating of slender cones", "text": ""}\n'
            '{"id": "r1", "text": "Glaciers carve valleys over millennia.", "region": "alps", "year": 1998}\n',
            "src/tool.py": "def parse():\n    return 'zebrafish genome parser'\n",
            "notes/guide.md": "---\ntitle: Field guide\n---\n\n```sh\n# not a title\n```\n\nOwls hunt at dusk.\n",
            "photo.png": b"\x89PNG\r\n\x1a\n" + bytes(64),
            "blob": b"\x7fELF\x02\x01" + bytes(64),
        },
    )


def query(index: Path, text: str, *extra: str) -> list[dict]:  # type: ignore[type-arg]
    result = run("query", text, "--index", str(index), "--no-generate", "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["hits"]


def test_a_real_world_mixed_folder_indexes_everything_that_is_text(tmp_path: Path) -> None:
    corpus = mixed_folder(tmp_path / "docs")
    index = tmp_path / "index"
    built = run("index", str(corpus), "--index", str(index), "--json")
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped.keys() == {"scanned.pdf", "package.json", "photo.png", "blob"}
    assert skipped["scanned.pdf"] == "no text layer — scanned?"
    assert skipped["package.json"].startswith("not a list of records")
    assert skipped["blob"] == "binary content"
    assert all(reason for reason in skipped.values())
    # every text document: the PDF, the DOCX, README, the .gz, two records, the code and the Markdown file
    assert report["documents"] == 8

    (pdf_hit,) = query(index, "quokka Rottnest", "-k", "1")
    assert (pdf_hit["path"], pdf_hit["page"], pdf_hit["title"]) == ("report.pdf", 2, "Harbour board report")
    table = run("query", "quokka Rottnest", "--index", str(index), "--no-generate", "-k", "1")
    assert "report.pdf:p2" in table.stdout
    assert query(index, "lighthouse freighter", "-k", "1")[0]["path"] == "README"
    assert query(index, "albatross counter", "-k", "1")[0]["path"] == "changelog.Debian.gz"
    assert query(index, "aerodynamic slender cones", "-k", "1")[0]["doc_id"] == "t1"  # title-only record
    (code,) = query(index, "zebrafish", "-k", "1")
    assert (code["path"], code["line"], code["title"]) == ("src/tool.py", 1, "tool.py")
    (guide,) = query(index, "owls dusk", "-k", "1")
    assert guide["title"] == "Field guide"
    # metadata and filters over the same folder
    (glacier,) = query(index, "glaciers valleys", "--where", "year>=1990", "--where", "region=alps")
    assert glacier["doc_id"] == "r1" and glacier["metadata"]["year"] == 1998
    assert query(index, "glaciers valleys", "--where", "year<1990") == []
    assert {h["path"] for h in query(index, "the", "--path", "**/*.md", "-k", "20")} <= {"notes/guide.md"}
