"""Source code cut at its definitions (ragcli/readers/definitions.py, the chunker's code packing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_files

from ragcli.chunking import ChunkSettings, split_document
from ragcli.indexing.build import build_index
from ragcli.readers.definitions import definition_headings
from ragcli.readers.walk import CorpusReader
from ragcli.retrieval.index import load_index


def lines(text: str, suffix: str) -> list[tuple[int, int, str]]:
    """(line the section starts on, level, heading) of each definition."""
    found = definition_headings(text, suffix)
    assert found is not None
    return [(text.count("\n", 0, offset) + 1, level, heading) for offset, level, heading in found]


PYTHON = '''"""A module."""
import os

# helpers
@cache
def top(x):
    return x


class Response:
    """A response."""

    @property
    def ok(self) -> bool:
        return True

    async def read(self) -> bytes:
        return b""


def later():
    pass
'''


def test_python_definitions_with_their_decorators_comments_and_nesting() -> None:
    assert lines(PYTHON, ".py") == [
        (4, 1, "def top(x)"),  # from "# helpers", over "@cache"
        (10, 1, "class Response"),
        (13, 2, "def ok(self) -> bool"),  # from "@property", one level below its class
        (17, 2, "async def read(self) -> bytes"),
        (21, 1, "def later()"),
    ]


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        (
            ".rs",
            "use std::fmt;\n\n#[derive(Debug)]\npub struct Foo { x: u32 }\n\nimpl<T> Bar for Foo {\n"
            "    /// Makes one.\n    pub(crate) fn new() -> Self { todo!() }\n    fn fnord() {}\n}\n"
            "macro_rules! m { () => {} }\n",
            [
                (3, 1, "pub struct Foo { x: u32 }"),
                (6, 1, "impl<T> Bar for Foo"),
                (7, 2, "pub(crate) fn new() -> Self { todo!() }"),
                (9, 2, "fn fnord() {}"),
                (11, 1, "macro_rules! m { () => {} }"),
            ],
        ),
        (
            ".go",
            "package main\n\ntype Client struct {\n}\n\n// Run runs.\nfunc (c *Client) Run() error {\n\treturn nil\n}\n",
            [(3, 1, "type Client struct"), (6, 1, "func (c *Client) Run() error")],
        ),
        (
            ".ts",
            "import x from 'y';\nexport default class App {\n  render() { return 1; }\n}\n"
            "export const handler = async (event: E): Promise<void> => {\n};\nconst five = 5;\n"
            "function plain(a, b) {\n  return a + b;\n}\nexport interface Shape {}\n",
            [
                (2, 1, "export default class App"),
                (5, 1, "export const handler = async (event: E): Promise<void> =>"),
                (8, 1, "function plain(a, b)"),
                (11, 1, "export interface Shape {}"),
            ],
        ),
        (
            ".c",
            "#include <stdio.h>\n\n/**\n * Frees it.\n */\nstatic void\nfree_buf(struct buf *b)\n{\n"
            "    if (b) free(b);\n}\nstruct buf {\n    int n;\n};\nstruct buf;\nint main(void) {\n"
            '    printf("x");\n    return 0;\n}\n',
            [(3, 1, "free_buf(struct buf *b)"), (11, 1, "struct buf"), (15, 1, "int main(void)")],
        ),
        (
            ".ts",
            "class Store {\n  static #count = 0;\n  constructor(items) {\n    this.items = items;\n  }\n"
            "  async load(id: string): Promise<Item> {\n    if (id) {\n      return fetch(id);\n    } else {\n"
            "    }\n  }\n}\nconst api = {\n  handler(event) {\n  },\n};\n"
            "describe('x', () => {\n  it('works', async function () {\n  });\n});\n",
            [
                (1, 1, "class Store"),
                (3, 2, "constructor(items)"),
                (6, 2, "async load(id: string): Promise<Item>"),
                (14, 2, "handler(event)"),
            ],
        ),
        (
            ".java",
            "package p;\n\n@Entity\npublic class User {\n    private final int id = 1;\n\n    @Override\n"
            "    public String toString() {\n        return call(x);\n    }\n"
            "    List<String> names(int n) throws IOException {\n        if (n > 0) {\n        } else if (n < 0) {\n"
            "        }\n        synchronized (lock) {\n        }\n        return null;\n    }\n}\n",
            [
                (3, 1, "public class User"),
                (7, 2, "public String toString()"),
                (11, 2, "List<String> names(int n) throws IOException"),
            ],
        ),
        (
            ".sql",
            "-- users\nCREATE TABLE users (id int);\nINSERT INTO users VALUES (1);\ncreate or replace view v as select 1;\n",
            [(1, 1, "CREATE TABLE users (id int);"), (4, 1, "create or replace view v as select 1;")],
        ),
        (
            ".yaml",
            '# compose\nservices:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n'
            "volumes:\n  data: {}\n---\napiVersion: v1\nmetadata:\n  name: web\n",
            [(1, 1, "services"), (3, 2, "web"), (5, 3, "ports"), (7, 1, "volumes"), (9, 1, "---"), (11, 1, "metadata")],
        ),
        (
            ".toml",
            '# config\n[server]\nhost = "a"\n\n[[db.replicas]]\nname = "b"\n',
            [(1, 1, "[server]"), (5, 1, "[[db.replicas]]")],
        ),
        (
            ".sh",
            "#!/bin/sh\nset -e\nbuild() {\n  make\n}\nfunction clean {\n  rm -r out\n}\n",
            [(3, 1, "build()"), (6, 1, "function clean")],
        ),
        (
            ".rb",
            "module Shop\n  class Cart\n    def total\n    end\n  end\nend\n",
            [(1, 1, "module Shop"), (2, 2, "class Cart"), (3, 3, "def total")],
        ),
    ],
)
def test_definitions_of_other_languages(suffix: str, text: str, expected: list[tuple[int, int, str]]) -> None:
    assert lines(text, suffix) == expected


PLATFORM_BLOCKS = """class Walrus:
    def bark(self):
        sql = \"\"\"
if any rows
\"\"\"
        return sql

    def swim(self):
        if deep:
            def dive():
                return 1
        return 2


if sys.platform == "win32":
    def open_console():
        return 2
else:
    def open_console():
        return 3
"""


def test_a_block_at_a_lower_indentation_closes_the_definitions_above_it() -> None:
    """A def inside a module-level `if` was taken as a method of the class above it; a string's line at
    column 0 opens no block, and closes nothing."""
    assert lines(PLATFORM_BLOCKS, ".py") == [
        (1, 1, "class Walrus"),
        (2, 2, "def bark(self)"),
        (8, 2, "def swim(self)"),
        (10, 3, "def dive()"),
        (16, 1, "def open_console()"),
        (19, 1, "def open_console()"),
    ]


def test_a_language_without_definitions_is_windowed_as_any_text() -> None:
    assert definition_headings("body { color: red }\n", ".css") is None
    assert definition_headings("no definitions here\n", ".py") == ()


def test_a_python_file_is_cut_at_its_definitions_and_a_method_window_knows_its_class(tmp_path: Path) -> None:
    body = "\n".join(f"        total += {n}" for n in range(150))  # a long method: windowed on its own
    small = "".join(f"\n\ndef helper_{n}(x):\n    return x + {n}\n" for n in range(12))
    source = f"class Ledger:\n    def add(self):\n        total = 0\n{body}\n        return total\n{small}"
    root = write_files(tmp_path / "src", {"ledger.py": source})
    document = next(CorpusReader([root]).documents())
    passages = split_document(document, ChunkSettings(size=60, overlap=10))
    starts = [p.text.splitlines()[0] for p in passages]
    assert starts[0] == "class Ledger:"  # its short lead-in opens the method's first window
    later = [p for p in passages if p.text.startswith("total +=")]
    assert later and all("class Ledger" in p.index_text and "def add(self)" in p.index_text for p in later)
    helpers = [p for p in passages if p.text.startswith("def helper_")]
    # the short helpers share passages of at most half a window (30 words), each opening at a def
    assert len(helpers) >= 3 and all(len(p.text.split()) <= 30 for p in helpers)
    assert all(p.line == source.count("\n", 0, source.index(p.text)) + 1 for p in passages)


def test_an_index_cites_the_function_asked_about(tmp_path: Path) -> None:
    functions = "".join(
        f'\n\ndef {name}(value):\n    """{doc}"""\n' + "".join(f"    step_{n}(value)\n" for n in range(40))
        for name, doc in [
            ("parse", "Parse the header of a message."),
            ("render", "Render the page as HTML for a browser."),
            ("store", "Store the record in the database."),
        ]
    )
    root = write_files(tmp_path / "src", {"app.py": '"""App."""\nimport os' + functions})
    build_index([root], tmp_path / "idx")
    hit = load_index(tmp_path / "idx").search("render page html browser", k=1)[0]
    assert hit.text.startswith("def render(value):")
    assert (tmp_path / "src" / "app.py").read_text().splitlines()[hit.line - 1] == "def render(value):"


def test_short_functions_before_a_long_one_are_not_its_lead_in(tmp_path: Path) -> None:
    """A heading with a line or two opens the next section's window in prose; in code a few short
    functions would make the long one after them cited at the first of them."""
    body = "".join(f"    log('{' '.join(f'step{n}' for n in range(i, i + 10))}')\n" for i in range(0, 150, 10))
    small = "".join(f'def tiny_{n}(x):\n    """Return x plus {n}."""\n    return x + {n}\n\n\n' for n in range(3))
    source = f'{small}def rebuild_search_index(corpus):\n    """Rebuild the search index."""\n{body}    return corpus\n'
    root = write_files(tmp_path / "src", {"jobs.py": source})
    build_index([root], tmp_path / "idx")
    hit = load_index(tmp_path / "idx").search("rebuild_search_index", k=1)[0]
    assert hit.line == 16 and hit.text.startswith("def rebuild_search_index(corpus):")


def test_crafted_lines_are_matched_in_linear_time() -> None:
    """Python's backtracking `re` took a second on a 21 KB line of "public public …" (quadratic: this
    400 KB one would stall the suite for minutes); RE2 answers at once."""
    crafted = "    " + "public " * 60_000 + "x\n" + "a " * 200_000 + "\nstatic void\nok(void)\n{\n}\n"
    assert definition_headings(crafted, ".java") == ()
    found = definition_headings(crafted, ".c")
    assert found is not None and [heading for _, _, heading in found] == ["ok(void)"]
