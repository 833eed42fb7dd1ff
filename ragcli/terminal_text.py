"""Terminal control sequences in text: what the renderer removes before printing, and what readers
remove from the text they index.

A file captured from a terminal (a build log, `script` output, `grep --color=always`, nroff's man
pages) holds colour codes and overstrikes around its words: indexed as they are, "\\x1b[31mred\\x1b[0m"
makes the word "red" unsearchable and puts "0m" into answers. Written by hand: the ECMA-48 grammar is
a few lines of regular expression, and no well-kept library strips sequences from arbitrary text
(rich parses only SGR, for its own rendering).
"""

from __future__ import annotations

import re

# ECMA-48 sequences, matched whole so that neither their effect nor their parameters remain: CSI
# (ESC [ or 8-bit 0x9b: colours, clear screen, cursor moves), strings ended by BEL or ST (ESC ] OSC:
# window titles, OSC 8 hyperlinks; ESC P/X/^/_ and 8-bit 0x90/0x98/0x9d-0x9f: DCS, SOS, PM, APC), and
# the other escapes (ESC, intermediates, one final byte: reset, charsets). A string without its
# terminator loses only its introducer. None spans a line break.
TERMINAL_SEQUENCE_RE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x00-\x1f\x7f-\x9f]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# nroff's overstrike: "b\bb" is a bold b, "_\bu" an underlined u; the character before a backspace
# is the one overstruck.
_OVERSTRUCK_RE = re.compile(r"[^\n]\x08")


def without_terminal_sequences(text: str) -> str:
    """`text` as a terminal would show it, for indexing: control sequences removed whole and each
    overstrike reduced to its last character. Line breaks stay, so line numbers still hold."""
    if "\x1b" not in text and "\x9b" not in text and "\x08" not in text:
        return text  # the common case: three fast scans (the 8-bit strings other than CSI are rarer still)
    return _OVERSTRUCK_RE.sub("", TERMINAL_SEQUENCE_RE.sub("", text))


def overwritten(line: str) -> str:
    """A line holding carriage returns as a terminal shows it: each "\\r" goes back to the line's start
    and what follows overwrites what was there (a progress bar's "Downloading 1%\\rDownloading 2%"), a
    shorter write leaving the end of a longer one. Linear: each column shows the last part reaching it."""
    shown: list[str] = []
    width = 0
    for part in reversed(line.split("\r")):
        if len(part) > width:
            shown.append(part[width:])
            width = len(part)
    return "".join(shown)


def carriage_returns_overwritten(text: str) -> str:
    """`text` with each line that holds a "\\r" as a terminal shows it (`overwritten`): no line moves."""
    pieces: list[str] = []
    done = 0
    while (found := text.find("\r", done)) >= 0:
        start = text.rfind("\n", done, found) + 1 or done
        end = text.find("\n", found)
        end = len(text) if end < 0 else end
        pieces += (text[done:start], overwritten(text[start:end]))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def first_line(exc: BaseException) -> str:
    """A library's exception as one line for a message: the first line of its text with the terminal
    sequences some libraries colour it with removed (torch.export writes "\\x1b[96mThis is step
    1/3\\x1b[0m"; the error printer would show them escaped), or the exception's type when it has no
    text. (A server's error or a reply that cannot be parsed is quoted by generation/replies.py.)"""
    lines = without_terminal_sequences(str(exc)).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__
