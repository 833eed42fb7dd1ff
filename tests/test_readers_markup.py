"""Markup titles (ragcli.readers.markup): Markdown front matter, headings outside fenced code, rst."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import write_files

from ragcli.chunking import ChunkSettings, split_document
from ragcli.markdown import MAX_TITLE_CHARS, markdown_headings, rendered_title
from ragcli.readers import markup
from ragcli.readers.markup import front_matter, markdown_title, rst_headings, rst_title
from ragcli.readers.walk import CorpusReader

FRONT_MATTER_DOC = """---
title: "Deploying: the real title"
tags: [ops, docs]
---
Some intro.

```sh
# install the tool first
pip install tool
```

# A heading in the body

The word zebra is on line 13.
"""


DEPLOYMENT_GUIDE = "<!--\n# TODO: pick a title\n-->\n\n# Deployment Guide\n\nRun the zebra deploy script.\n"


def test_the_front_matter_title_wins_and_the_text_keeps_its_lines(tmp_path: Path) -> None:
    write_files(tmp_path, {"guide.md": FRONT_MATTER_DOC})
    [doc] = CorpusReader([tmp_path]).documents()
    assert doc.title == "Deploying: the real title"
    assert doc.text.startswith("Some intro.") and "tags:" not in doc.text  # the front matter is not indexed
    assert doc.line == 5 and not doc.title_in_text  # the title is indexed with the first passage
    [passage] = split_document(doc, ChunkSettings(size=200, overlap=0))
    assert passage.line == 5 and passage.index_text.startswith("Deploying: the real title\n")
    assert (
        doc.line_at(doc.text.index("zebra")) == FRONT_MATTER_DOC.splitlines().index("The word zebra is on line 13.") + 1
    )


@pytest.mark.parametrize(
    "text",
    [
        "---\nThis opening paragraph about pangolins sits between rules.\n---\n\n# Real heading\n\nBody.\n",
        "---\n- a list of pangolins\n---\n",
        "---\n\n> a quote about pangolins\n---\n",
    ],
)
def test_a_block_that_is_not_yaml_between_rules_is_indexed(tmp_path: Path, text: str) -> None:
    """Front matter is a YAML mapping: a paragraph between two `---` rules was left out without a word."""
    write_files(tmp_path, {"rules.md": text})
    [doc] = CorpusReader([tmp_path]).documents()
    assert doc.text == text and front_matter(text) is None
    [passage] = split_document(doc, ChunkSettings(size=200, overlap=0))
    assert "pangolins" in passage.index_text and passage.line == 1


def test_without_front_matter_the_first_real_heading_is_the_title(tmp_path: Path) -> None:
    text = FRONT_MATTER_DOC.split("---\n", 2)[2]
    write_files(tmp_path, {"guide.md": text})
    [doc] = CorpusReader([tmp_path]).documents()
    assert doc.title == "A heading in the body" and doc.title_in_text and doc.line == 1
    assert doc.text == text


@pytest.mark.parametrize(
    "text, title",
    [
        ("~~~\n# not this\n~~~\nReal\n====\n", "Real"),  # tilde fences; a setext heading
        ("````md\n```\n# still code\n```\n````\n# Out\n", "Out"),  # a longer fence holds shorter ones
        ("    # indented code\n# Yes\n", "Yes"),
        ("## Section\n\ntext\n\n# Later level one\n", "Later level one"),  # level 1 first
        ("## Only a section\n", "Only a section"),
        ("- item\n---\n", None),  # a list and a rule, not a heading
        ("Paragraph\nover two lines\n---\n", None),  # a one-line paragraph only (conservative)
        ("# Closed #\n", "Closed"),
        ("#hashtag\n", None),
        ("# C#\n", "C#"),  # a closing sequence only after a blank
        ("### ###\n\n## Yes\n", "Yes"),  # an empty heading: its `#`s all close it
        ("+++\ntitle = 'From TOML'\n+++\n# body\n", "From TOML"),
        ("---\nlayout: post\n---\n# After front matter\n", "After front matter"),
        ("---\ntitle: [unclosed\n---\n# Fallback\n", "Fallback"),  # bad YAML: the heading still counts
        ("---\nno closing line\n# Heading\n", "Heading"),
        ("---\n# comment\n\nlayout: post\n---\n# After\n", "After"),  # a comment, then a key
        ("---\n---\n# After an empty block\n", "After an empty block"),
        # a title is what the user wrote, whatever YAML or TOML would read it as
        ("---\ntitle: 2024-03-15\n---\n# Heading\n", "2024-03-15"),
        ("---\ntitle: No\n---\n", "No"),
        ("---\ntitle: 0x1F\n---\n", "0x1F"),
        ("---\ntitle: 'It''s  here'\ntitle_case: yes\n---\n", "It's here"),
        ("---\ntitle: ~\n---\n# Heading\n", "Heading"),  # null: no title
        ("---\ntitle: [a, b]\n---\n# Heading\n", "Heading"),
        ("+++\ntitle = 2024-03-15\n+++\n", "2024-03-15"),
        ("+++\ntitle = false\n+++\n", "false"),
        # a title as Markdown renders it: no inline markup, no link targets, no tags, no images
        (
            "# Using `ragcli` with **Docker** and [Compose](https://docs.docker.com/compose/)\n",
            "Using ragcli with Docker and Compose",
        ),
        ("# Title With <em>HTML</em>\n", "Title With HTML"),
        ("# Line one<br/>line two\n", "Line one line two"),  # a line break keeps words apart
        ("Setext *emphasis* &amp; \\*escapes\\*\n===\n", "Setext emphasis & *escapes*"),
        ("# ![build](badge.svg) Project\n", "Project"),
        ("# ![logo](logo.png)\n\n## Real heading\n", "Real heading"),  # a heading of nothing shown is none
        ("# snake_case_name and 2*3*4\n", "snake_case_name and 234"),  # as rendered: 2<em>3</em>4
        # HTML blocks Markdown shows nothing of as Markdown: a comment, <pre>, <script>, <style>, <textarea>
        (DEPLOYMENT_GUIDE, "Deployment Guide"),
        ("<pre>\n# not a title\n</pre>\n# Yes\n", "Yes"),
        ("  <Script type='module'>\n# x = 1\n</SCRIPT> trailing\n# Yes\n", "Yes"),
        ("<style>h1 { }\n# id { }\n</style>\n\n<textarea>\n# note\n</textarea>\nYes\n===\n", "Yes"),
        ("<!-- one line -->\n# Yes\n", "Yes"),  # the comment ends on its own line
        ("Text\n<!--\n# hidden\n-->\n## Yes\n", "Yes"),  # a comment interrupts a paragraph
        ("```\n<!--\n```\n# Yes\n", "Yes"),  # no comment inside fenced code …
        ("<!--\n```\n-->\n# Yes\n", "Yes"),  # … and no fence inside a comment
        ("<preface>\n\n# Yes\n", "Yes"),  # not <pre>
        ("    <!--\n# Yes\n", "Yes"),  # indented code, not a comment
        # a block-level tag's HTML block runs to a blank line: a heading after the blank line is one
        ('<div align="center">\n# Not a heading\n</div>\n\n# Yes\n', "Yes"),
        ("Text\n</TABLE>\n# hidden\n\n## Yes\n", "Yes"),  # it interrupts a paragraph, a closing tag too
        ("<div>\n\n# Yes\n\n</div>\n", "Yes"),  # GitHub's centred heading: blank lines around it
        ("<divider>\n# Yes\n", "Yes"),  # no block-level tag
    ],
)
def test_markdown_titles(text: str, title: str | None) -> None:
    assert markdown_title(text) == title


def test_a_heading_padded_with_blanks_is_read_in_linear_time() -> None:
    """A lazy `(.*?)` ahead of optional blanks backtracked: 8,000 " \\t" pairs took 17 s, four times as
    long each time the line doubled (this line would stall the suite for ten minutes)."""
    padding = " \t" * 50_000
    lines = ["intro", "", f"# Padded{padding}heading #"]
    assert list(markdown_headings(lines)) == [(2, 1, f"Padded{padding}heading")]


def test_a_heading_inside_an_html_comment_is_no_section(tmp_path: Path) -> None:
    write_files(tmp_path, {"deploy.md": DEPLOYMENT_GUIDE})
    [document] = CorpusReader([tmp_path]).documents()
    assert document.title == "Deployment Guide"
    [passage] = split_document(document, ChunkSettings(size=200, overlap=0))
    assert "TODO" not in passage.text and "zebra" in passage.text  # the comment is not shown: not indexed


def test_what_markdown_never_shows_is_blanked_lines_kept(tmp_path: Path) -> None:
    """Comments (a block, inline), a <script> or <style> block and an image embedded as a data: URI are
    never shown: blanked out, every later word still citing its own line; fenced code is kept as written."""
    image = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    text = (
        "# Report\n\n<!-- internal: staging host db7 -->\n\n"
        f"![chart](data:image/png;base64,{image})\n\n"
        "<script>\nvar tracker = 1;\n</script>\n<style>\n.secretstyle { }\n</style>\n"
        "Sales <!-- draft\nnote --> grew.\n\n```html\n<!-- keptcomment -->\n```\nlast word\n"
    )
    write_files(tmp_path, {"r.md": text})
    [document] = CorpusReader([tmp_path]).documents()
    shown = ["#", "Report", "![chart](", ")", "Sales", "grew.", "```html", "<!--", "keptcomment", "-->", "```"]
    assert document.text.split() == [*shown, "last", "word"]
    assert len(document.text) == len(text)
    for word in ("grew.", "keptcomment", "last"):
        line = next(n for n, row in enumerate(text.split("\n"), 1) if word in row)
        assert document.line_at(document.text.index(word)) == line


@pytest.mark.parametrize(
    ("text", "shown", "hidden"),
    [
        (  # a "<!--" in prose closes nothing: the next paragraphs and heading are shown, the real comment not
            "In HTML the characters <!-- open a comment.\n\n## Section two\n\nThe capybara paragraph.\n\n"
            "<!-- TODO: review -->\n",
            ["<!--", "Section", "capybara"],
            ["TODO"],
        ),
        ("Type `<!--` to open one.\n\nThe ocelot paragraph.\n\n<!-- draft -->\n", ["`<!--`", "ocelot"], ["draft"]),
        ("Code `<!-- zebranote -->` and `data:text/plain,hello` here.\n", ["zebranote", "data:text/plain,hello`"], []),
        ("    <!-- indented\n    code -->\n\nText <!-- inline -->.\n", ["indented", "code"], ["inline"]),
        ("Empty <!--> kept <!---> words\n\nlynx\n\n<!-- gone -->\n", ["kept", "words", "lynx"], ["gone"]),
        ("<style>p{}</style>Important text\n", ["Important"], ["p{}"]),
    ],
)
def test_only_what_commonmark_hides_is_blanked(tmp_path: Path, text: str, shown: list[str], hidden: list[str]) -> None:
    """A comment is hidden only where CommonMark reads one (an HTML block, or inline closed in its own
    paragraph); code spans and indented code are shown as written, data: URIs in them too."""
    write_files(tmp_path, {"d.md": text})
    [document] = CorpusReader([tmp_path]).documents()
    assert len(document.text) == len(text)
    assert all(word in document.text for word in shown), document.text
    assert not any(word in document.text for word in hidden), document.text


def test_a_streamed_markdown_file_shows_what_the_file_read_whole_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Markdown file read in segments (over 16 MiB, or --max-expanded-size) kept its comments, data:
    URIs and link definitions; it is now cut where a block starts (no comment or fenced code cut in two)
    and each segment is read as the whole file is."""
    import ragcli.readers.text as text_module

    paragraphs = "".join(f"Paragraph {n} about honeybees and their hives.\n\n" for n in range(12))
    text = (
        f"# Big\n\n{paragraphs}<!-- secretwombat\n{'x ' * 150}\n-->\n\n{paragraphs}"
        f"```html\n<!-- keptcomment\n{'y ' * 150}\n```\n\n![img](data:image/png;base64,{'QUJD' * 100})\n\n"
        f"[ref]: https://example.com/hiddenlink\n\n{paragraphs}<!-- the end -->\n"
    )
    write_files(tmp_path, {"b.md": text})
    [whole] = CorpusReader([tmp_path]).documents()
    monkeypatch.setattr(text_module, "STREAM_TEXT_BYTES", 1 << 10)
    monkeypatch.setattr(text_module, "SEGMENT_CHARS", 1 << 9)
    segments = list(CorpusReader([tmp_path]).documents())
    assert len(segments) > 3
    assert "".join(segment.text for segment in segments) == whole.text
    assert "keptcomment" in whole.text
    assert not any(word in whole.text for word in ("secretwombat", "QUJD", "hiddenlink", "the end"))


def test_a_crafted_markdown_title_is_rendered_in_bounded_time() -> None:
    """Inline Markdown is rendered for the first MAX_TITLE_CHARS of a heading only: markdown-it takes
    about 150 µs a character on nested brackets, a second for 10,000 of them."""
    started = time.perf_counter()
    title = markdown_title("# " + "![" * 500_000 + "\n")
    assert title is not None and len(title) <= MAX_TITLE_CHARS
    assert time.perf_counter() - started < 1


def test_only_the_headings_that_can_still_be_the_title_are_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering costs: 2,000 crafted `## [ [ [ …` headings took ten times as long as reading the file."""
    rendered: list[str] = []

    def counted(heading: str) -> str | None:
        rendered.append(heading)
        return rendered_title(heading)

    monkeypatch.setattr(markup, "rendered_title", counted)
    sections = "".join(f"## [ [ section {n}\n\ntext\n\n" for n in range(2000))
    assert markdown_title("## ![logo](logo.png)\n" + sections + "# Level one\n## After\n") == "Level one"
    assert rendered == ["![logo](logo.png)", "[ [ section 0", "Level one"]
    rendered.clear()
    assert markdown_title(sections) == "[ [ section 0" and len(rendered) == 1


def test_front_matter_is_only_at_the_very_start() -> None:
    assert front_matter("intro\n---\ntitle: x\n---\n") is None
    found = front_matter("---\ntitle: x\n---\nbody")
    assert found is not None and (found.end, found.lines, found.title) == (len("---\ntitle: x\n---\n"), 3, "x")


@pytest.mark.parametrize(
    "text, title",
    [
        ("Title\n=====\n\ntext\n", "Title"),
        ("=======\n Over \n=======\n\ntext\n", "Over"),  # over- and underlined
        ("Example::\n\n    Not a title\n    -----------\n\nReal\n----\n", "Real"),  # a literal block
        ("Too long a title\n===\n", None),  # the underline must be as long
        ("plain text only\n", None),
    ],
)
def test_rst_titles(text: str, title: str | None) -> None:
    assert rst_title(text) == title


RST = """=========
 Guide
=========

Intro text.

Install
=======

Run it.

From source
-----------

Build it::

    Not a title
    -----------

Configure
=========

|   a line block
----

Settings.
"""


def test_rst_section_titles_get_levels_in_the_order_their_styles_appear() -> None:
    found = [(RST.count("\n", 0, offset) + 1, level, title) for offset, level, title in rst_headings(RST)]
    # the overlined title starts at its overline; a literal block's underline and a transition are no titles
    assert found == [(1, 1, "Guide"), (7, 2, "Install"), (12, 3, "From source"), (20, 2, "Configure")]


def test_an_rst_file_is_cut_at_its_section_titles(tmp_path: Path) -> None:
    body = " ".join(f"word{n}" for n in range(120))
    text = f"Guide\n=====\n\n{body}\n\nLimits\n------\n\nThe bandwidth limit is set here.\n"
    write_files(tmp_path, {"guide.rst": text})
    document = next(CorpusReader([tmp_path]).documents())
    passages = split_document(document, ChunkSettings(size=100, overlap=10))
    limits = next(p for p in passages if "bandwidth" in p.text)
    assert limits.text.startswith("Limits\n------") and limits.line == text[: text.index("Limits")].count("\n") + 1
    assert "Guide" in limits.index_text  # the title above it, which its text lacks
