"""answering.question_batches: questions in batches of what has arrived, whatever the number of lines."""

from __future__ import annotations

import io
import os
import threading
import time

from ragcli.answering import question_batches


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
    with os.fdopen(read_end, encoding="utf-8") as stream:
        assert list(question_batches(stream)) == [["caf\ufffd été"]]


def test_a_leading_byte_order_mark_is_no_part_of_the_first_question() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"\xef\xbb\xbfwaggle dance\n\xef\xbb\xbfvarroa\n")
    os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as stream:
        assert list(question_batches(stream)) == [["waggle dance", "\ufeffvarroa"]]  # only the stream's first
    assert list(question_batches(io.StringIO("\ufeffwaggle dance\nvarroa\n"))) == [["waggle dance", "varroa"]]
