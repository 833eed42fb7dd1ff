"""answering.question_batches: questions in batches of what has arrived, whatever the number of lines."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest

from ragcli import answering
from ragcli.answering import MAX_QUESTION_CHARS, question_batches
from ragcli.errors import InputFormatError, RagcliWarning
from ragcli.retrieval.index import question_text


def test_lines_in_memory_come_in_batches_of_at_most_the_limit() -> None:
    stream = io.StringIO("".join(f"question {n}\n" for n in range(10)) + "\n  \nlast without newline")
    batches = list(question_batches(stream, limit=4))
    assert [len(b) for b in batches] == [4, 4, 3]
    assert batches[0][0] == "question 0" and batches[-1][-1] == "last without newline"


def test_a_pipe_gives_what_has_arrived_and_never_more_than_the_limit() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, "".join(f"q{n}\n" for n in range(7)).encode() + b"partial")
    with os.fdopen(read_end, encoding="utf-8") as stream:
        batches = question_batches(stream, limit=3)
        assert [next(batches), next(batches), next(batches)] == [["q0", "q1", "q2"], ["q3", "q4", "q5"], ["q6"]]
        # "partial" is no question until its line ends; the writer finishes it later, from another thread
        writer = threading.Thread(target=lambda: (time.sleep(0.2), os.write(write_end, b" line\nq8\n")))
        writer.start()
        following = next(batches)
        writer.join()
        os.close(write_end)
        rest = [q for batch in batches for q in batch]
    assert following[0] == "partial line" and [*following[1:], *rest] == ["q8"]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"caf\xe9 \xc3\xa9t\xc3\xa9\n")
    os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as stream, pytest.warns(RagcliWarning, match="stdin:1: not valid"):
        assert list(question_batches(stream)) == [["caf\ufffd été"]]


def test_a_leading_byte_order_mark_is_no_part_of_the_first_question() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"\xef\xbb\xbfwaggle dance\n\xef\xbb\xbfvarroa\n")
    os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as stream:
        assert list(question_batches(stream)) == [["waggle dance", "\ufeffvarroa"]]  # only the stream's first
    assert list(question_batches(io.StringIO("\ufeffwaggle dance\nvarroa\n"))) == [["waggle dance", "varroa"]]


def test_a_line_too_long_for_a_question_is_left_out_and_said(tmp_path: Path) -> None:
    """A binary file piped in by mistake is one long line: it was held whole (and re-joined on every
    read, quadratic), 676 MB for 32 MB of zeros. A line of more than MAX_QUESTION_CHARS is no question:
    it is said (`refuse`, with its line number) and left out, the other lines answered."""
    longest = "x" * MAX_QUESTION_CHARS
    text = f"waggle\n{longest}\n{longest}y\n\nvarroa"
    refused: list[str] = []
    path = tmp_path / "questions.txt"
    path.write_text(text)
    with open(path, encoding="utf-8") as stream:  # read through its descriptor
        from_descriptor = [q for batch in question_batches(stream, refuse=refused.append) for q in batch]
    in_memory = [q for batch in question_batches(io.StringIO(text), refuse=refused.append) for q in batch]
    assert from_descriptor == in_memory == ["waggle", longest, "varroa"]
    assert len(refused) == 2 and all(
        message.startswith("stdin:3: longer than 1,048,576 characters") for message in refused
    )
    with pytest.raises(InputFormatError, match="stdin:3: longer than"):  # no one to say it to: an error
        list(question_batches(io.StringIO(text)))


def test_bytes_that_are_not_utf_8_are_said_once_per_line(tmp_path: Path) -> None:
    """A Latin-1 file piped in by mistake: each line holding bytes UTF-8 cannot read is warned of by its
    number and asked with U+FFFD in their place; a U+FFFD really written is no mistake."""
    path = tmp_path / "questions.txt"
    path.write_bytes(b"queen \xff eggs \xfe\n\xc3\nhoney \xef\xbf\xbd\n")
    with open(path, encoding="utf-8") as stream, pytest.warns(RagcliWarning) as caught:
        questions = [q for batch in question_batches(stream) for q in batch]
    assert questions == ["queen \ufffd eggs \ufffd", "\ufffd", "honey \ufffd"]
    assert [str(w.message) for w in caught] == [
        f"stdin:{n}: not valid UTF-8 (a file in another encoding?): its bad bytes read as U+FFFD" for n in (1, 2)
    ]


def test_stdin_in_another_encoding_with_a_bad_sequence_is_said_too(tmp_path: Path) -> None:
    """UTF-16 with a lone surrogate: surrogateescape cannot stand for it (an internal error)."""
    path = tmp_path / "questions.txt"
    path.write_bytes("queen eggs\n".encode("utf-16-le") + b"\x00\xd8" + "x\n".encode("utf-16-le"))
    with open(path, encoding="utf-16-le") as stream, pytest.warns(RagcliWarning, match="stdin:2: not valid"):
        questions = [q for batch in question_batches(stream) for q in batch]
    assert questions == ["queen eggs", "\ufffdx"]


def test_a_line_too_long_is_said_before_it_ends() -> None:
    """An endless line (`< /dev/zero`) is said as soon as it is too long, and costs no more memory: the
    reader does not wait for a newline that may never come."""
    read_end, write_end = os.pipe()
    refused = threading.Event()

    def write() -> None:
        for _ in range(MAX_QUESTION_CHARS // 65536 + 2):
            os.write(write_end, b"\0" * 65536)
        refused.wait(timeout=60)  # the newline comes only once the line has been refused
        os.write(write_end, b"\nvarroa\n")
        os.close(write_end)

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(read_end, encoding="utf-8") as stream:
        said: list[str] = []

        def refuse(message: str) -> None:
            said.append(message)
            refused.set()

        questions = [q for batch in question_batches(stream, refuse=refuse) for q in batch]
    writer.join()
    assert said and said[0].startswith("stdin:1: longer than") and questions == ["varroa"]


def test_lines_end_at_cr_lf_and_crlf_as_universal_newlines_end_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """`printf 'waggle dance\\rhoney ferment\\r'` was one question, 'waggle dance\\rhoney ferment'.
    A CR LF split between two reads ends one line, not two (the line numbers stay the file's)."""
    assert list(question_batches(io.StringIO("waggle dance\rhoney ferment\r\nvarroa\n\rwax"))) == [
        ["waggle dance", "honey ferment", "varroa", "wax"]
    ]
    monkeypatch.setattr(answering, "MAX_QUESTION_CHARS", 8)
    read_end, write_end = os.pipe()
    os.write(write_end, b"q1\r")
    refused: list[str] = []
    with os.fdopen(read_end, encoding="utf-8") as stream:
        batches = question_batches(stream, refuse=refused.append)
        assert next(batches) == ["q1"]  # its line ended at the CR: answered before the LF comes
        os.write(write_end, b"\nq2\r\n\rmuch too long\rq5")
        os.close(write_end)
        assert [q for batch in batches for q in batch] == ["q2", "q5"]
    assert len(refused) == 1 and refused[0].startswith("stdin:4: longer than 8 characters")


def test_a_line_of_invisible_characters_alone_asks_nothing() -> None:
    """A line of a zero-width space, a no-break space or a byte-order mark alone was searched as a
    question, while the same as `query`'s argument was "the question is empty": one rule for both."""
    invisible = ["\u200b", "\u00a0", " \ufeff ", "\u2060\u200d\u3000", "\u00ad\t\u202e", "\u3164"]
    text = "".join(f"{line}\n" for line in [*invisible, "waggle\u00a0dance"])
    assert list(question_batches(io.StringIO(text))) == [["waggle\u00a0dance"]]
    assert [question_text(line) for line in invisible] == [""] * len(invisible)
    assert question_text(" \u200bwaggle ") == "\u200bwaggle"  # a question with them is left as it is
