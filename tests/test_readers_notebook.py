"""The Jupyter notebook reader: cells and their text outputs, in sections cited by cell, never the JSON."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from clihelpers import invoke
from conftest import write_files
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ragcli.readers.notebook import MAX_OUTPUT_CHARS
from ragcli.readers.walk import CorpusReader
from ragcli.records import Document

PNG = base64.b64encode(bytes(range(256)) * 40).decode()


def cell(kind: str, source: str, outputs: list[dict] | None = None) -> dict:
    lines = source.splitlines(keepends=True)
    found: dict = {"cell_type": kind, "metadata": {}, "source": lines}
    if kind == "code":
        found |= {"execution_count": 1, "outputs": outputs or []}
    return found


NOTEBOOK_V4 = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3"}, "title": "ignored: the heading wins"},
    "cells": [
        cell("markdown", "# Hive survey\nCounting colonies in spring."),
        cell(
            "code",
            "colonies = survey()\nprint(len(colonies))",
            [
                {"output_type": "stream", "name": "stdout", "text": ["412 colonies\n"]},
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"image/png": PNG, "text/plain": ["<Figure size 640x480>"], "text/html": ["<b>x</b>"]},
                },
            ],
        ),
        cell("markdown", ""),  # blank: counted, not read
        cell("markdown", "## Losses\nWinter losses by region."),
        cell(
            "code",
            "losses.mean()",
            [
                {"output_type": "execute_result", "execution_count": 2, "metadata": {}, "data": {"text/plain": "0.23"}},
                {
                    "output_type": "error",
                    "ename": "KeyError",
                    "evalue": "'north'",
                    "traceback": ["\x1b[0;31mKeyError\x1b[0m Traceback (most recent call last)", "secret frame"],
                },
                {"output_type": "stream", "name": "stderr", "text": "x" * (MAX_OUTPUT_CHARS + 500)},
            ],
        ),
    ],
}

NOTEBOOK_V3 = {
    "nbformat": 3,
    "metadata": {"name": "old"},
    "worksheets": [
        {
            "cells": [
                {"cell_type": "heading", "level": 1, "source": ["Legacy apiary notes"], "metadata": {}},
                {
                    "cell_type": "code",
                    "input": ["queens = 7"],
                    "language": "python",
                    "outputs": [{"output_type": "pyout", "text": ["7 queens"], "metadata": {}}],
                },
            ]
        }
    ],
}


def read(root: Path) -> tuple[list[Document], dict[str, str]]:
    reader = CorpusReader([root])
    documents = list(reader.documents())
    return documents, {s.path: s.reason for s in reader.report.skipped}


def test_cells_and_text_outputs_in_sections_cited_by_the_cell_they_start_at(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"survey.ipynb": json.dumps(NOTEBOOK_V4, indent=1)})
    documents, skipped = read(root)
    assert skipped == {}
    assert [(d.page, d.continuation) for d in documents] == [(1, False), (4, True)]
    assert {d.title for d in documents} == {"Hive survey"} and documents[0].metadata["pages"] == 5
    first, second = (d.text for d in documents)
    assert first == (
        "# Hive survey\nCounting colonies in spring.\n\ncolonies = survey()\nprint(len(colonies))\n\n412 colonies"
    )  # the figure's name beside its image and HTML is not shown
    assert second.startswith("## Losses\nWinter losses by region.\n\nlosses.mean()\n\n0.23\n\nKeyError: 'north'\n\n")
    assert second.endswith("x" * MAX_OUTPUT_CHARS)  # a flood of output, cut
    everything = first + second
    for left_out in (PNG[:40], "<b>", "cell_type", "Traceback", "secret frame", "\x1b"):
        assert left_out not in everything


def test_an_nbformat_3_notebook_is_read(tmp_path: Path) -> None:
    root = write_files(tmp_path / "c", {"old.ipynb": json.dumps(NOTEBOOK_V3)})
    documents, skipped = read(root)
    assert skipped == {}
    assert [(d.title, d.page, d.text) for d in documents] == [
        ("Legacy apiary notes", 1, "# Legacy apiary notes\n\nqueens = 7\n\n7 queens")
    ]


def test_a_cell_is_cited_through_the_cli_and_what_is_no_notebook_is_skipped(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "c",
        {
            "survey.ipynb": json.dumps(NOTEBOOK_V4, indent=1),
            "cut.ipynb": json.dumps(NOTEBOOK_V4)[:300],
            "list.ipynb": "[1, 2]",
            "nocells.ipynb": json.dumps({"metadata": {}}),
        },
    )
    index = str(tmp_path / "idx")
    result = invoke("index", str(root), "--index", index, "--json")
    assert result.exit_code == 0, result.output
    reasons = {s["path"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert reasons.pop("cut.ipynb").startswith("not a Jupyter notebook: invalid JSON at line 1 (")
    assert reasons == {
        "list.ipynb": "not a Jupyter notebook: the file is not a JSON object",
        "nocells.ipynb": "not a Jupyter notebook: no list of cells",
    }
    result = invoke("query", "winter losses north", "--index", index, "--no-generate", "--json")
    hits = json.loads(result.stdout)["hits"]
    assert (hits[0]["path"], hits[0]["page"]) == ("survey.ipynb", 4)
    result = invoke("info", "--index", index, "--json")
    assert json.loads(result.stdout)["terms"] < 60  # the cells' words, not the image's base64


KEYS = ["cells", "worksheets", "cell_type", "source", "input", "outputs", "output_type", "text", "data"]
KEYS += ["text/plain", "level", "metadata", "title", "ename", "evalue", "markdown", "code", "stream", "heading"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(KEYS) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(notebook=JSON)
@example(notebook={"worksheets": [{"cells": 1}]})  # a worksheet whose cells are no list (found by this test)
def test_any_json_under_a_notebook_name_is_read_or_skipped_never_a_crash(tmp_path: Path, notebook: object) -> None:
    """Whatever a .ipynb holds (cells of the wrong types, outputs that are not objects, levels that
    are strings), the reader yields documents or skips the file with a reason: no traceback."""
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(notebook))
    reader = CorpusReader([path])
    documents = list(reader.documents())
    reasons = [s.reason for s in reader.report.skipped]
    assert all(reason.startswith("not a Jupyter notebook") or reason == "no text" for reason in reasons)
    if not isinstance(notebook, dict):
        assert not documents and reasons == ["not a Jupyter notebook: the file is not a JSON object"]


def notebook_of(*cells: dict) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)})


def test_a_notebook_is_titled_as_a_markdown_file_with_its_headings(tmp_path: Path) -> None:
    """A rule (`---`) in a cell is no front matter: only the first cell may hold that (a Markdown or a
    raw cell: Quarto's). Headings count as in a .md file: the first level-1 one, else the first; a
    setext heading opens a section as an ATX one does. Each cell is Markdown of its own: a fence left
    open in one does not hide the next cell's heading."""
    notebooks = {
        "rules.ipynb": notebook_of(
            cell("markdown", "---"),
            cell("markdown", "# Sales Analysis"),
            cell("markdown", "---"),
            cell("code", "x = 1"),
        ),
        "levels.ipynb": notebook_of(cell("markdown", "## Setup"), cell("code", "pass"), cell("markdown", "# Results")),
        "quarto.ipynb": notebook_of(cell("raw", "---\ntitle: From Quarto\n---"), cell("markdown", "# Heading")),
        "late.ipynb": notebook_of(cell("markdown", "Intro"), cell("markdown", "---\ntitle: Not this\n---\n## Real")),
        "open.ipynb": notebook_of(cell("markdown", "```\nunclosed"), cell("markdown", "# After the fence")),
        "setext.ipynb": notebook_of(
            cell("markdown", "Intro\n==="), cell("code", "a = 1"), cell("markdown", "Method\n------"), cell("code", "b")
        ),
    }
    documents, skipped = read(write_files(tmp_path / "c", notebooks))
    assert skipped == {}
    titles = {d.path: d.title for d in documents}
    assert titles == {
        "rules.ipynb": "Sales Analysis",
        "levels.ipynb": "Results",
        "quarto.ipynb": "From Quarto",
        "late.ipynb": "Real",
        "open.ipynb": "After the fence",
        "setext.ipynb": "Intro",
    }
    md = write_files(tmp_path / "md", {"levels.md": "## Setup\n\n# Results\n"})
    assert read(md)[0][0].title == titles["levels.ipynb"]  # as the Markdown reader titles the same headings
    assert [(d.page, d.text) for d in documents if d.path == "setext.ipynb"] == [
        (1, "Intro\n===\n\na = 1"),
        (3, "Method\n------\n\nb"),
    ]


def test_a_markdown_cell_is_read_as_a_markdown_file_without_what_it_never_shows(tmp_path: Path) -> None:
    source = (
        "# Results\n\n<!-- internal note -->\n![plot](data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==)\nRevenue grew.\n"
    )
    write_files(tmp_path, {"r.ipynb": notebook_of(cell("markdown", source))})
    (document,), _ = read(tmp_path)
    assert document.text.split() == ["#", "Results", "![plot](", ")", "Revenue", "grew."]


def test_a_progress_bar_in_a_stream_is_read_as_jupyter_shows_it(tmp_path: Path) -> None:
    """A tqdm bar rewrites its line with "\\r" a hundred times: only its last frame is shown, so the
    output printed after it is within the 2,000 characters kept."""
    frames = "".join(f"\r{p:3d}%|{'#' * (p // 10):10s}| {p}/100 [00:01<00:00, 90.00it/s]" for p in range(101))
    output = {"output_type": "stream", "name": "stdout", "text": frames + "\nfinal accuracy 0.93\n"}
    write_files(tmp_path, {"t.ipynb": notebook_of(cell("code", "train()", [output]))})
    (document,), _ = read(tmp_path)
    assert document.text == "train()\n\n100%|##########| 100/100 [00:01<00:00, 90.00it/s]\nfinal accuracy 0.93"


def test_a_display_is_read_as_jupyter_shows_it_markdown_not_the_object_name(tmp_path: Path) -> None:
    """A plot's `<Figure …>` beside its image and `<… Markdown object>` beside its Markdown are never
    shown: the Markdown is read, the names are not; a plain result alone is kept."""
    outputs = [
        {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "<Figure size 640x480 with 1 Axes>", "image/png": "iVBORw0KGgo="}},
        {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "<IPython.core.display.Markdown object>", "text/markdown": "**Revenue grew 12%** in Q3"}},
        {"output_type": "execute_result", "execution_count": 2, "metadata": {}, "data": {"text/plain": "<Axes: at 0x7f3a>"}},
    ]  # fmt: skip
    write_files(tmp_path, {"t.ipynb": notebook_of(cell("code", "plot()", outputs))})
    (document,), _ = read(tmp_path)
    assert document.text == "plot()\n\n**Revenue grew 12%** in Q3\n\n<Axes: at 0x7f3a>"
