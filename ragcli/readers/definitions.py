"""Where a source file's definitions start (functions, classes, types, impls, config sections), as the
headings the chunker cuts a document at.

A passage of code that starts in the middle of one function and ends in the middle of the next cites a
line that is nobody's start, and a window of the body of `raise_for_status` is not found by the name of
the class it belongs to. Cut at definitions, short ones share a passage while they fit, a long one is
windowed alone, and each passage is indexed with the definitions around it that its text lacks (the
`class Response` a method's later window is part of): what LangChain's `RecursiveCharacterTextSplitter.
from_language` does with its per-language separators ("\\nclass ", "\\ndef "), and LlamaIndex's
`CodeSplitter` with a full parser. No parser here: a line that opens a definition is found by a pattern
per language family, which is what a splitter needs (a miss only leaves a plain window, as before), and
costs one regular-expression pass over the file. Nesting comes from indentation: a method indented
under its class is a level below it.

The cut is moved up over the decorators, attributes and comments written right above a definition, at
its indentation (`@property`, `#[derive(Debug)]`, `/// Docs`), so they stay with what they describe.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from ragcli.records import MAX_HEADING_LEVEL, Heading

_H = r"[ \t]*"  # indentation: nesting is read from its width
# the words a definition's line may open with before its keyword or name, in every language ragcli
# knows (Python `re` syntax too: the extractive generator finds the definition a question names with it)
DEFINITION_MODIFIERS = (
    r"(?:(?:public|private|protected|internal|static|final|abstract|sealed|open|data|inline|override|partial"
    r"|async|virtual|export|default|suspend|synchronized|native|strictfp|unsafe|extern|const|pub(?:\([^)\n]*\))?"
    r"|declare|readonly|local)[ \t]+)*"
)
# per language family: the lines that open a definition, one pattern each, matched by RE2 (linear
# time: Python's backtracking `re` took a second on one crafted 21 KB line of "public public …")
_FAMILIES: dict[str, str] = {
    "python": rf"^{_H}(?:async[ \t]+)?(?:def|class)[ \t]+\w",
    "javascript": (
        rf"^{_H}{DEFINITION_MODIFIERS}(?:function\*?|class|interface|enum|namespace|module|type)[ \t]+[\w$]"
        rf"|^{DEFINITION_MODIFIERS}(?:const|let|var)[ \t]+[\w$]+[ \t]*(?::[^=\n]+)?=[ \t]*(?:async[ \t]*)?"
        r"(?:function\b|\([^)\n]*\)[ \t]*(?::[^=\n]+)?=>|[\w$]+[ \t]*=>)"
        # a class's (or an object's) method: a name, its parameters and "{" ending the line
        r"|^[ \t]+(?:(?:static|async|get|set|public|private|protected|readonly|override|abstract)[ \t]+)*\*?"
        r"#?[\w$]+[ \t]*(?:<[^>\n]*>)?\([^()\n]*\)[ \t]*(?::[^{;\n]+)?\{[ \t]*$"
    ),
    "go": r"^(?:func|type)[ \t]+[\w(]",
    "rust": (
        rf"^{_H}{DEFINITION_MODIFIERS}(?:extern[ \t]+\"[^\"\n]*\"[ \t]+)?(?:(?:fn|struct|enum|trait|union|mod|impl)\b|macro_rules!)"
    ),
    "jvm": (  # Java, Kotlin, Scala, C#, Swift, Dart, Groovy: types by keyword, methods by keyword or modifiers
        rf"^{_H}{DEFINITION_MODIFIERS}(?:class|interface|enum|record|struct|object|trait|fun|func|def|extension|protocol)"
        r"[ \t]+\w"
        rf"|^{_H}(?:(?:public|private|protected|internal|static|final|abstract|synchronized|override|virtual"
        r"|async)[ \t]+)+[\w<>\[\],.? \t]+?[ \t]\w+[ \t]*\([^;\n]*$"
        # a method without modifiers: a type, a name, its parameters and "{" ending the line
        r"|^[ \t]+[\w<>\[\],.?]+[ \t]+\w+[ \t]*\([^;\n]*\)[ \t]*(?:throws[^{;\n]+)?\{[ \t]*$"
    ),
    "c": (  # types at the margin, and function definitions: a name and "(" at the margin, no ";" after
        r"^(?:template[ \t]*<[^>\n]*>[ \t]*)?(?:typedef[ \t]+)?(?:class|struct|union|enum|namespace)[ \t]+\w[^;\n]*$"
        r"|^(?:[A-Za-z_][\w \t*&:<>,]*?[ \t*&])?[A-Za-z_][\w:~]*[ \t]*\([^;\n]*$"
    ),
    "ruby": rf"^{_H}(?:def|class|module)[ \t]+\S",
    "php": rf"^{_H}{DEFINITION_MODIFIERS}(?:function|class|interface|trait|enum)[ \t]+&?\w",
    "lua": rf"^{_H}(?:local[ \t]+)?function[ \t]+[\w.:]",
    "shell": rf"^{_H}(?:function[ \t]+[\w:.-]+|[\w:.-]+[ \t]*\(\)[ \t]*(?:\{{|$))",
    "elixir": rf"^{_H}(?:defmodule|defp?|defmacrop?|defprotocol|defimpl|defstruct)\b",
    "julia": rf"^{_H}(?:function|(?:mutable[ \t]+)?struct|module|macro|abstract[ \t]+type)[ \t]+\w",
    "r": r"^[\w.]+[ \t]*(?:<-|=)[ \t]*function\b",
    "sql": r"(?i)(?m)^[ \t]*create[ \t]+(?:or[ \t]+replace[ \t]+)?(?:temp(?:orary)?[ \t]+)?"
    r"(?:table|view|materialized[ \t]+view|function|procedure|trigger|index|unique[ \t]+index|type|schema)\b",
    "sections": r"^[ \t]*\[\[?[^\]\n]+\]\]?[ \t]*(?:[#;].*)?$",  # TOML and INI: [section], [[array]]
    # YAML: a document's "---", and a key that opens a block ("services:", "  web:"), in the first three
    # levels; a key with its value on its line ("image: nginx") is no section
    "yaml": r"^(?:---(?:[ \t].*)?|[ ]{0,4}(?:[A-Za-z_][\w.\-/]*|\"[^\"\n]+\"|'[^'\n]+')[ \t]*:[ \t]*(?:#.*)?)$",
}
_SUFFIXES: dict[str, str] = {
    **dict.fromkeys((".py", ".pyi", ".pyx"), "python"),
    **dict.fromkeys((".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"), "javascript"),
    ".go": "go",
    ".rs": "rust",
    **dict.fromkeys((".java", ".kt", ".kts", ".scala", ".sc", ".cs", ".swift", ".dart", ".groovy"), "jvm"),
    **dict.fromkeys((".c", ".h", ".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".cu", ".cuh"), "c"),
    **dict.fromkeys((".rb", ".rake", ".gemspec"), "ruby"),
    ".php": "php",
    ".lua": "lua",
    **dict.fromkeys((".sh", ".bash", ".zsh", ".ksh"), "shell"),
    **dict.fromkeys((".ex", ".exs"), "elixir"),
    ".jl": "julia",
    ".r": "r",
    ".sql": "sql",
    **dict.fromkeys((".toml", ".ini", ".cfg", ".conf"), "sections"),
    **dict.fromkeys((".yaml", ".yml"), "yaml"),
}
# statements the patterns take for a definition, by the word they open with: "if (x)" at the margin of
# a C macro's body, "  if (ready) {" and "  } catch (e) {" in a JavaScript or Java method
_STATEMENTS = {
    family: re.compile(rf"[ \t]*(?:{words})\b")
    for family, words in {
        "c": "if|for|while|switch|return|else|do|case|goto|sizeof",
        "javascript": "if|for|while|switch|catch|with|return|else|do|await|yield|new|typeof",
        "jvm": "if|for|while|switch|catch|return|else|do|new|throw|case|try|synchronized|using|lock|foreach",
    }.items()
}
# written right above a definition, at its indentation, and part of it: decorators and annotations,
# attributes, doc comments and comments
_ATTACHED_RE = re.compile(r"@|#|//|/\*|--")
# C's return type on the line above the name ("static PyObject *" over "newXxoObject(PyObject *arg)"); the
# extractive answer steps over it to the comment above (generation/docstrings.py)
RETURN_TYPE_RE = re.compile(r"[A-Za-z_][\w \t*&:<>,]*$")
MAX_HEADING_CHARS = 120  # of a definition's line, as the heading a passage is indexed with
# a compound statement's first word (`if sys.platform == "win32":`, `try {`): its block, at a lower
# indentation than the definitions open above it, closes them (a def inside it is no method of the class)
_BLOCK_RE = re.compile(r"(?m)^[ \t]*(?:if|elif|else|try|except|finally|for|while|with|match|switch)\b")


def definition_headings(text: str, suffix: str) -> tuple[Heading, ...] | None:
    """(offset, level, the definition's line) of each definition of `text`, a file with `suffix`; None
    when ragcli knows no definitions of that language (its text is windowed as any text is)."""
    family = _SUFFIXES.get(suffix)
    if family is None:
        return None
    starts = (match.start() for match in _pattern(family).finditer(text))
    statement = _STATEMENTS.get(family)
    if statement is not None:
        starts = (start for start in starts if not statement.match(text, start))
    return tuple(_nested(text, starts, RETURN_TYPE_RE if family == "c" else None))


@functools.cache
def _pattern(family: str) -> Any:  # google-re2 has no type information
    """A family's pattern, compiled by RE2 on first use (imported then too: the extractive generator
    imports this module for `DEFINITION_MODIFIERS` alone)."""
    import re2

    return re2.compile("(?m)" + _FAMILIES[family])


def _nested(text: str, starts: Iterable[int], above_name: re.Pattern[str] | None) -> Iterable[Heading]:
    """Each definition line as a heading, its level from its indentation among those open above it."""
    open_indents: list[int] = []  # the indentation of each enclosing definition, outermost first
    previous_cut = after = 0
    for start in starts:
        for block in _BLOCK_RE.finditer(text, after, start):
            statement = _line_at(text, block.start())
            if statement.rstrip().endswith((":", "{")):  # it opens a block: not a string's line ("if any")
                _close(open_indents, statement)
        line = _line_at(text, start)
        after = start + len(line)
        body = line.lstrip(" \t")
        indent = _close(open_indents, line)
        level = min(len(open_indents) + 1, MAX_HEADING_LEVEL)
        open_indents.append(indent)
        cut = previous_cut = _attached_start(text, start, line[: len(line) - len(body)], above_name, previous_cut)
        heading = body.rstrip().removesuffix("{").rstrip().removesuffix(":").rstrip()
        yield cut, level, heading[:MAX_HEADING_CHARS]


def _line_at(text: str, start: int) -> str:
    """The line of `text` that starts at `start`, without its line break."""
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)]


def _close(open_indents: list[int], line: str) -> int:
    """Close the definitions open above `line` that it is not inside (indented as deep or deeper), and
    return its indentation."""
    body = line.lstrip(" \t")
    indent = len(line.expandtabs(4)) - len(body.expandtabs(4))
    while open_indents and open_indents[-1] >= indent:
        open_indents.pop()
    return indent


def _attached_start(text: str, start: int, indent: str, above_name: re.Pattern[str] | None, floor: int) -> int:
    """Where a definition's section starts: the first of the decorator, attribute and comment lines
    right above it at its indentation (no blank line between), else its own line; `above_name` matches
    a line that opens it as well, once, right above its name (C's return type). Never above `floor`,
    the start of the definition before it (so the lines are walked once in all)."""
    cut = start
    if above_name is not None and cut > floor:
        above = text.rfind("\n", 0, cut - 1) + 1
        if above >= floor and above_name.fullmatch(text[above : cut - 1].rstrip("\r")):
            cut = above
    while cut > floor:
        above = text.rfind("\n", 0, cut - 1) + 1
        if above < floor:
            break
        line = text[above : cut - 1].rstrip("\r")
        own = line.removeprefix(indent)
        at_its_indent = own is not line or not indent
        if at_its_indent and own[:1] not in (" ", "\t", "") and _ATTACHED_RE.match(own):
            cut = above  # "@property", "#[derive(Debug)]", "/// Docs", "# why", "/**"
        elif at_its_indent and own.lstrip(" \t").startswith("*"):
            cut = above  # " * Frees the buffer." and " */" of a block comment opened above
        else:
            break
    return cut
