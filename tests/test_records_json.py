"""`records.json_text`: what --json and per-query files write is JSON every parser reads."""

from __future__ import annotations

import json
import math
import os

from ragcli.records import json_text


def test_numbers_that_are_not_finite_are_null_never_infinity() -> None:
    data = {"score": math.inf, "hits": [{"score": -math.inf}, (1.5, math.nan)], "text": "Infinity", "n": 3}
    text = json_text(data)
    assert json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name))) == {
        "score": None,
        "hits": [{"score": None}, [1.5, None]],
        "text": "Infinity",
        "n": 3,
    }
    assert json_text({"a": "é"}, indent=2) == '{\n  "a": "é"\n}'  # as before: UTF-8, indented


def test_bytes_of_a_path_that_were_not_utf8_are_escaped_and_read_back_as_the_name() -> None:
    """`info --json` of an index of a folder named b"bad\\xffdir" wrote the raw byte: not UTF-8. Then
    U+FFFD: valid, but two names that differ in such a byte were one, and it opened neither."""
    name = b"bad\xffdir/a.txt".decode("utf-8", "surrogateescape")
    text = json_text({"path": name})
    assert text == '{"path": "bad\\udcffdir/a.txt"}' and text.encode("utf-8")
    assert os.fsencode(json.loads(text)["path"]) == b"bad\xffdir/a.txt"
