"""Org, AsciiDoc, LaTeX and Texinfo (ragcli/readers/outline.py): titled by their own title, cut at
their section headings, never at a heading-like line inside a block shown as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_files

from ragcli.chunking import ChunkSettings, split_document
from ragcli.readers.base import reader_for
from ragcli.readers.outline import outline_headings
from ragcli.readers.walk import CorpusReader

ORG = """#+TITLE: My notes
* Projects                                                       :work:
** TODO Write the report
#+BEGIN_SRC python
* not a heading
#+END_SRC
** Done
* Reading list
"""
ADOC = "= Manual\n\n== Install\n\n----\n== not a heading\n----\n\n=== From source\n"
TEX = (
    "\\documentclass{article}\n\\title{A \\emph{new} Paper}\n\\section{Introduction \\label{sec:intro}}\n"
    "\\begin{verbatim}\n\\section{no}\n\\end{verbatim}\n  \\subsection*{Related {work}}\n"
)
TEXI = "@settitle GNU Foo\n@chapter Overview\n@example\n@section no\n@end example\n@section Details\n"


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        (".org", ORG, [(2, 1, "Projects"), (3, 2, "Write the report"), (7, 2, "Done"), (8, 1, "Reading list")]),
        (".adoc", ADOC, [(1, 1, "Manual"), (3, 2, "Install"), (9, 3, "From source")]),
        (".tex", TEX, [(3, 3, "Introduction"), (7, 4, "Related work")]),
        (".texi", TEXI, [(2, 1, "Overview"), (6, 2, "Details")]),
    ],
)
def test_section_headings_and_their_levels(suffix: str, text: str, expected: list[tuple[int, int, str]]) -> None:
    found = [
        (text.count("\n", 0, offset) + 1, level, heading) for offset, level, heading in outline_headings(text, suffix)
    ]
    assert found == expected


# A block ends only at its own closing line: another block's delimiter inside it is text
ADOC_BLOCKS = (
    "= Book\n\n== Dredging\n\n----\n....\n== in a listing\n----\n\n"
    "////\n== commented out\n////\n\n```sh\n----\n```\n\n== Budget\n"
)
TEX_BLOCKS = (
    "\\section{Intro}\n\\begin{lstlisting}\n\\end{verbatim}\n\\section{in a listing}\n\\end{lstlisting}\n"
    "\\section{Methods}\n\\begin{verbatim}x = 1\\end{verbatim}\n\\section*{Results}\n"
)
ORG_BLOCKS = "* Plan\n#+begin_example\n#+end_src\n* in an example\n#+END_EXAMPLE\n* Budget\n"
TEXI_BLOCKS = "@chapter Use\n@example\n@end lisp\n@example\n@section in an example\n@end example\n@section Options\n"


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        (".adoc", ADOC_BLOCKS, [(1, 1, "Book"), (3, 2, "Dredging"), (18, 2, "Budget")]),
        (".tex", TEX_BLOCKS, [(1, 3, "Intro"), (6, 3, "Methods"), (8, 3, "Results")]),
        (".org", ORG_BLOCKS, [(1, 1, "Plan"), (6, 1, "Budget")]),
        (".texi", TEXI_BLOCKS, [(1, 1, "Use"), (7, 2, "Options")]),
    ],
)
def test_a_block_ends_at_its_own_closing_line_only(
    suffix: str, text: str, expected: list[tuple[int, int, str]]
) -> None:
    test_section_headings_and_their_levels(suffix, text, expected)


def test_the_files_are_titled_by_their_own_title_and_read_as_outline(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"notes.org": ORG, "manual.adoc": ADOC, "paper.tex": TEX, "foo.texi": TEXI})
    readers = [reader_for(root / name) for name in ("notes.org", "manual.adoc", "paper.tex", "foo.texi")]
    assert all(reader is not None and reader.name == "outline" for reader in readers)
    docs = {d.path: d for d in CorpusReader([root]).documents()}
    assert {path: d.title for path, d in docs.items()} == {
        "foo.texi": "GNU Foo",
        "manual.adoc": "Manual",
        "notes.org": "My notes",
        "paper.tex": "A new Paper",
    }
    assert all(d.metadata["format"] == "outline" for d in docs.values())


def test_an_org_file_is_cut_at_its_headings(tmp_path: Path) -> None:
    filler = " ".join(f"word{n}" for n in range(150))
    text = f"* Garden\n{filler}\n** Tomatoes\nWater them every morning.\n* Kitchen\nBake bread.\n"
    root = write_files(tmp_path, {"notes.org": text})
    document = next(CorpusReader([root]).documents())
    passages = split_document(document, ChunkSettings(size=100, overlap=10))
    tomatoes = next(p for p in passages if "Water them" in p.text)
    assert tomatoes.text.startswith("** Tomatoes") and tomatoes.line == 3
    assert "Garden" in tomatoes.index_text  # the heading above it, which its text lacks


def test_org_headings_are_read_without_their_todo_keywords_and_priorities(tmp_path: Path) -> None:
    """A heading's TODO keyword, priority cookie and tags are Org's bookkeeping, not its words: TODO and
    DONE, and the keywords the file declares (`#+TODO:`, `#+SEQ_TODO:`, `#+TYP_TODO:`, with their
    fast-access keys and the `|` between open and done ones)."""
    text = (
        "#+SEQ_TODO: NEXT(n) WAITING(w@/!) | CANCELLED(c)\n"
        "* TODO [#A] Write report :work:\n** DONE Ship it\n** NEXT [#B] Call Anna\n"
        "** WAITING Reply from the bank :money:urgent:\n** CANCELLED [#10] Old plan\n"
        "* TODOS for the week\n* [#C] Read\n* STARTED Not a declared keyword\n* DONE\n"
    )
    assert [heading for _, _, heading in outline_headings(text, ".org")] == [
        "Write report",
        "Ship it",
        "Call Anna",
        "Reply from the bank",
        "Old plan",
        "TODOS for the week",  # a keyword is a word of its own
        "Read",
        "STARTED Not a declared keyword",
        "DONE",  # nothing else to call it
    ]
    root = write_files(tmp_path, {"tasks.org": "* TODO [#A] Write report :work:\nDraft the summary.\n"})
    (document,) = CorpusReader([root]).documents()
    assert document.title == "Write report"
    assert [heading for _, _, heading in document.headings] == ["Write report"]


def test_texinfo_markup_is_left_out_of_its_title_and_headings(tmp_path: Path) -> None:
    text = (
        "@settitle The @sc{GNU} Harbour Manual\n@chapter Invoking @command{dredge}\n"
        "@section The @code{--depth=@var{n}} option\n@section Mail @@ and @{braces@}\n"
    )
    assert [heading for _, _, heading in outline_headings(text, ".texi")] == [
        "Invoking dredge",
        "The --depth=n option",
        "Mail @ and {braces}",
    ]
    root = write_files(tmp_path, {"dredge.texi": text})
    (document,) = CorpusReader([root]).documents()
    assert document.title == "The GNU Harbour Manual"
