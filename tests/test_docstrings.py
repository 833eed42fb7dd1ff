"""Questions about code answered with what the code's author documented: ragcli.generation.docstrings and
the extractive generator that uses it, down to `ragcli query` over a folder of source files."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from clihelpers import run

from ragcli.generation import docstrings
from ragcli.generation.docstrings import documented, named_identifiers
from ragcli.generation.extractive import ExtractiveGenerator
from ragcli.records import Hit

PYTHON = '''    def raise_for_status(self) -> Response:
        """
        Raise the `HTTPStatusError` if one occurred. Otherwise return the response.
        """
        request = self._request
        if request is None:
            raise RuntimeError("Cannot call `raise_for_status` as the request instance has not been set.")
'''


def hits(*texts: str) -> list[Hit]:
    return [Hit(n, 1.0 / n, f"d{n}#0", f"d{n}", f"d{n}", f"d{n}.py", 1, 0, len(t), t) for n, t in enumerate(texts, 1)]


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What does raise_for_status do?", ["raise_for_status"]),
        ("What does Response.raise_for_status do?", ["raise_for_status"]),
        ("What is `build` for?", ["build"]),
        ("What does send() return?", ["send"]),
        ("How does iterBytes work?", ["iterBytes"]),
        ("What does serde::Deserialize do?", ["Deserialize"]),
        ("Who founded McDonald's in Paris?", ["McDonald"]),  # code-shaped; only a definition makes it an answer
        ("What does the queen do?", []),
    ],
)
def test_the_names_a_question_writes_as_code(question: str, names: list[str]) -> None:
    assert named_identifiers(question) == names


@pytest.mark.parametrize(
    ("source", "question", "said"),
    [
        (PYTHON, "What does raise_for_status do?", "Raise the `HTTPStatusError` if one occurred."),
        (  # a signature over several lines, a one-line docstring
            'async def send(\n    self,\n    request: Request,\n) -> Response:\n    """Send a request."""\n    return x\n',
            "What does send() do?",
            "Send a request.",
        ),
        (  # Rust: doc comments above an attribute
            "/// Parses a duration such as `5s`.\n///\n/// # Errors\n#[inline]\npub fn parse_duration(s: &str) -> u64 {\n",
            "What does parse_duration do?",
            "Parses a duration such as `5s`.",
        ),
        (  # JSDoc, its tags left out
            "/**\n * Streams the body as bytes.\n * @param {number} size\n */\nexport async function iterBytes(size) {\n",
            "What is iterBytes?",
            "Streams the body as bytes.",
        ),
        (  # Go: a method with its receiver
            "// RaiseForStatus returns an error for 4xx and 5xx responses.\nfunc (r *Response) RaiseForStatus() error {\n",
            "What does RaiseForStatus do?",
            "RaiseForStatus returns an error for 4xx and 5xx responses.",
        ),
        (  # Java: Javadoc above a method that opens its body on its line
            "    /**\n     * Returns the decoded body.\n     */\n    @Override\n    public String getBodyText() {\n",
            "What does getBodyText return?",
            "Returns the decoded body.",
        ),
        (  # a function assigned to a constant, a decorator between
            "// Debounces calls to fn.\nexport const debounce_calls = (fn, ms) => {\n",
            "What does debounce_calls do?",
            "Debounces calls to fn.",
        ),
        (  # Kotlin: a data class (a modifier the chunker's definitions know too: readers/definitions.py)
            "/**\n * Holds a parsed duration.\n */\ndata class ParsedDuration(val seconds: Long)\n",
            "What is ParsedDuration?",
            "Holds a parsed duration.",
        ),
        (  # Lua: a local function
            "-- Tracks the progress of a task.\nlocal function track_progress(task)\n",
            "What does track_progress do?",
            "Tracks the progress of a task.",
        ),
        (  # TypeScript: a declared function
            "// Reads the config file.\nexport declare function read_config(path: string): Config;\n",
            "What does read_config do?",
            "Reads the config file.",
        ),
        (  # C, GNU style: the return type on its own line, the body's "{" on the next
            "// Creates a buffer of the given capacity.\nstruct buffer *\nbuffer_new(size_t cap)\n{\n",
            "What does buffer_new do?",
            "Creates a buffer of the given capacity.",
        ),
        (  # a one-line JSDoc comment: its closing "*/" is no part of the sentence
            "  /** Fetch one order by its id. */\n  async getOrder(id: string): Promise<Order> {\n",
            "What does getOrder do?",
            "Fetch one order by its id.",
        ),
        (  # a C block comment closed on its last line of text
            "/* Frees the buffer\n   and its data. */\nvoid free_buffer(struct buffer *b) {\n",
            "What does free_buffer do?",
            "Frees the buffer and its data.",
        ),
        (  # C, BSD style: "{" on the next line
            "// Frees a buffer.\nvoid buffer_free(struct buffer *b)\n{\n    free(b);\n}\n",
            "What does buffer_free do?",
            "Frees a buffer.",
        ),
        (  # C#, Allman style
            "    /// Loads the settings.\n    public Settings LoadSettings(string path)\n    {\n",
            "What does LoadSettings do?",
            "Loads the settings.",
        ),
        (  # C++: a method defined outside its class, const
            "// Area of a square.\ndouble Square::area_of() const {\n    return s_ * s_;\n}\n",
            "What does Square::area_of do?",
            "Area of a square.",
        ),
    ],
)
def test_a_documented_definition_answers_with_its_first_sentence(source: str, question: str, said: str) -> None:
    names = named_identifiers(question)
    assert documented(names, hits("Unrelated prose about responses.", source)) == (said, 2)
    assert ExtractiveGenerator().generate(question, hits(source)).text == f"{said} [1]"


@pytest.mark.parametrize(
    "source",
    [
        "response.raise_for_status()\nprint('done')\n",  # a call, not a definition
        "    raise_for_status()\n    # Raise it.\n",
        "def raise_for_status(self):\n    request = self._request\n",  # defined, never documented
        "# Checks the status.\n\ndef raise_for_status(self):\n    pass\n",  # a blank line parts the comment
        "The raise_for_status method raises on errors.",  # prose that names it: the sentence scorer's job
    ],
)
def test_no_documentation_without_a_documented_definition(source: str) -> None:
    assert documented(["raise_for_status"], hits(source)) is None


NAMESAKES = {
    "python": (
        "class Order:\n"
        "    class Line:\n"
        "        def total(self):\n"
        '            """The line\'s price times its quantity."""\n\n'
        "    @property\n"
        "    def total(self):\n"
        '        """The sum of the order\'s lines."""\n\n\n'
        "def total(orders):\n"
        '    """The sum of all orders."""\n'
    ),
    "go": (
        "// Close shuts the server down.\nfunc (s *Server) Close() error {\n\treturn nil\n}\n\n"
        "// Close releases the client's connections.\nfunc (c *Client) Close() error {\n\treturn nil\n}\n"
    ),
    "c++": "// Area of a circle.\ndouble Circle::area() const {\n}\n\n// Area of a square.\ndouble Square::area() const {\n}\n",
    "rust": (
        "impl Store {\n    /// Create an empty store.\n    pub fn new() -> Self {\n    }\n}\n\n"
        "impl<T> fmt::Display for Queue<T> {\n    /// Create an empty queue.\n    fn new() -> Self {\n    }\n}\n"
    ),
}


@pytest.mark.parametrize(
    ("source", "question", "said"),
    [
        (NAMESAKES["python"], "What does Order.total do?", "The sum of the order's lines."),
        (NAMESAKES["python"], "What does Order.Line.total do?", "The line's price times its quantity."),
        (NAMESAKES["python"], "What does total do?", "The line's price times its quantity."),  # no owner asked
        (NAMESAKES["go"], "What does Client.Close do?", "Close releases the client's connections."),
        (NAMESAKES["go"], "What does Server.Close do?", "Close shuts the server down."),
        (NAMESAKES["rust"], "What does Queue::new do?", "Create an empty queue."),
        (NAMESAKES["rust"], "What does Display::new do?", "Create an empty queue."),  # the trait implemented
        (NAMESAKES["c++"], "What does Square::area do?", "Area of a square."),
    ],
)
def test_a_qualified_name_is_answered_by_its_owners_definition(source: str, question: str, said: str) -> None:
    """`Client.Close` is the `Close` of `Client`, not the first `Close` of the passage (a namesake's)."""
    assert ExtractiveGenerator().generate(question, hits(source)).text == f"{said} [1]"


def test_a_namesake_of_another_owner_is_no_answer() -> None:
    """Only other owners define the name asked about: their documentation would answer wrongly."""
    assert documented(["Close"], hits(NAMESAKES["go"]), {"Close": "Conn"}) is None
    # a method whose class lies above the passage (a later window of a long class) may be the owner's
    method = '    def close(self):\n        """Close the pool."""\n'
    assert documented(["close"], hits(method), {"close": "Pool"}) == ("Close the pool.", 1)
    # a passage's first line is stripped of its indentation: it may or may not enclose what follows
    later = 'def total(self):\n        return 1\n\n    def render(self):\n        """Render as text."""\n'
    assert documented(["render"], hits(later), {"render": "Invoice"}) == ("Render as text.", 1)
    sibling = NAMESAKES["python"].replace("class Order:\n    class Line:\n", "class Line:\n")
    assert documented(["total"], hits(later, sibling), {"total": "Line"}) == ("The line's price times its quantity.", 2)


def test_a_crafted_passage_cannot_stall_the_answer() -> None:
    """Lines shaped so that a backtracking matcher tries every split of them: Python's `re` took a
    second on each at a tenth of these lengths (quadratic: minutes here, on every query that retrieves
    the passage); RE2 answers at once."""
    crafted = [
        "public " * 50_000,  # each modifier a place where the modifiers could end
        "const " * 50_000,
        "send(" + "):" * 50_000,  # each ")" the end of the parameters, each ":" a return type's start
        "send(" + ")throws" * 30_000,
        "send" + " " * 200_000,  # the spaces before a generic, or after it
        "pub(x) " * 50_000,  # Rust's `pub(crate)`, and a question about `pub`
        "x */\nsend(y) {\n" * 20_000,  # each definition under a comment's "*/" that nothing opens
    ]
    source = "\n".join(crafted) + '\ndef send(request):\n    """Send a request."""\n'
    assert documented(["pub", "send"], hits(source)) == ("Send a request.", 1)


def test_definitions_are_read_with_pythons_letters_and_spaces() -> None:
    """RE2's `\\w`, `\\s` and `\\b` are ASCII: the matcher spells Python's out, so that `def\\u3000send(`
    and `send\\u00e9(` are read as they were. RE2 also knows the letters of Unicode versions later than
    Python's (its database leaves them unassigned); nothing else differs."""
    import re2

    every = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))  # no surrogates
    words, others = re.sub(r"\W+", "", every), re.sub(r"\w+", "", every)
    assigned = "".join(c for c in others if unicodedata.category(c) != "Cn")
    assert re2.fullmatch(f"[{docstrings._WORD}]*", words) and re2.fullmatch(f"[^{docstrings._WORD}]*", assigned)
    spaces, rest = re.sub(r"\S+", "", every), re.sub(r"\s+", "", every)
    assert re2.fullmatch(f"[{docstrings._SPACE}]*", spaces) and re2.fullmatch(f"[^{docstrings._SPACE}]*", rest)
    source = 'def\u3000send(request):\n    """Send a request."""\n'
    assert documented(["send"], hits(source)) == ("Send a request.", 1)
    assert documented(["send"], hits(source.replace("send(", "send\u00e9("))) is None  # a longer name
    assert documented(["send"], hits(source.replace("send(", "send\u0301("))) == ("Send a request.", 1)
    assert documented(["send"], hits("s = '\ud800'\n" + source)) == ("Send a request.", 1)  # RE2 reads UTF-8 only


def test_a_plain_word_is_a_name_only_when_it_is_all_the_question_asks_about() -> None:
    source = 'def track(sequence, description="Working..."):\n    """Track progress by iterating over a sequence."""\n'
    generator = ExtractiveGenerator()
    assert (
        generator.generate("What does track do?", hits(source)).text
        == "Track progress by iterating over a sequence. [1]"
    )
    # more than the name asked about: the sentence scorer answers, not the documentation
    assert "Track progress" not in generator.generate("What does track do with a description?", hits(source)).text


def test_a_typed_question_about_code_is_not_answered_with_the_documentation() -> None:
    source = PYTHON + "\n# Added in version 0.18.\n"
    answer = ExtractiveGenerator().generate("When was raise_for_status added?", hits(source)).text
    assert "Raise the" not in answer


def test_query_over_source_files_answers_with_the_docstring(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "models.py").write_text(
        "class Response:\n"
        '    """An HTTP response."""\n\n'
        "    def json(self):\n"
        '        """Decode the body as JSON."""\n'
        "        return loads(self.text)\n\n" + PYTHON,
        encoding="utf-8",
    )
    (code / "client.py").write_text(
        "def fetch(url):\n    response = send(url)\n    response.raise_for_status()\n    return response\n",
        encoding="utf-8",
    )
    index = tmp_path / "index"
    assert run("index", str(code), "--index", str(index)).returncode == 0
    result = run("query", "What does raise_for_status do?", "--index", str(index), "-g", "extractive", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["answer"].startswith("Raise the `HTTPStatusError` if one occurred. [")
    cited = shown["sources"][shown["citations"][0] - 1]
    assert cited["path"] == "models.py" and "def raise_for_status" in cited["text"]


HEADER = (
    "/* Limits shared by the C extension. */\n#ifndef TIMEOUTS_H\n#define TIMEOUTS_H\n\n"
    "#define CONNECT_TIMEOUT 30\n#define CONNECT_RETRIES 3\n#define READ_TIMEOUT 60\n\n#endif\n"
)
CLIENT = (
    '"""A small client."""\n\nimport socket\n\n\n'
    "def connect(host, port, timeout=30):\n"
    '    """Open a TCP connection to host and port, waiting at most timeout seconds."""\n'
    "    return socket.create_connection((host, port), timeout)\n\n\n"
    "class Session:\n"
    '    """A session keeps one connection open between requests."""\n'
)


@pytest.mark.parametrize(
    ("question", "said", "number"),
    [
        ("Where is connect defined?", "def connect(host, port, timeout=30):", 2),
        ("where is the Session class defined?", "class Session:", 2),
        ("Where's `connect` declared?", "def connect(host, port, timeout=30):", 2),
        ("Which file defines Session?", "class Session:", 2),
        ("Where is CONNECT_TIMEOUT defined?", "#define CONNECT_TIMEOUT 30", 1),  # a macro is defined too
    ],
)
def test_where_a_name_is_defined_is_the_line_that_defines_that_name(question: str, said: str, number: int) -> None:
    """The header ranked first shares stems with "Where is connect defined?" ("#define", CONNECT_TIMEOUT),
    and was the answer ("TIMEOUTS_H"); the line that defines the very identifier asked about answers."""
    result = ExtractiveGenerator().generate(question, hits(HEADER, CLIENT))
    assert result.text == f"{said} [{number}]" and result.citations == [number]


def test_where_a_name_no_passage_defines_is_defined_is_left_to_the_sentences() -> None:
    answer = ExtractiveGenerator().generate("Where is disconnect defined?", hits(HEADER, CLIENT)).text
    assert not answer.startswith(("def ", "class ", "#define"))


def test_query_over_source_files_says_where_a_name_is_defined(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "timeouts.h").write_text(HEADER, encoding="utf-8")
    (code / "client.py").write_text(CLIENT, encoding="utf-8")
    index = tmp_path / "index"
    assert run("index", str(code), "--index", str(index)).returncode == 0
    result = run("query", "Where is connect defined?", "--index", str(index), "-g", "extractive", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    cited = shown["sources"][shown["citations"][0] - 1]
    assert shown["answer"].startswith("def connect(host, port, timeout=30): [") and cited["path"] == "client.py"
