"""The LangChain retriever, run for real: langchain-core's own Runnable machinery over a ragcli index."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from clihelpers import invoke
from conftest import SMALL_FILES, write_files
from tinymodels import build_tiny_embedder

pytest.importorskip("langchain_core")  # the optional `langchain` extra (make install has it)

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from pydantic import ValidationError

from ragcli.errors import ExitCode, InvalidOptionError, NoIndexError, RagcliError
from ragcli.generation.extractive import ExtractiveGenerator
from ragcli.indexing.build import build_index
from ragcli.indexing.settings import BuildSettings
from ragcli.integrations.langchain import RagcliRetriever, to_document, to_hit
from ragcli.retrieval.embedder import EmbeddingSettings
from ragcli.retrieval.filters import Filter
from ragcli.retrieval.index import load_index

QUESTION = "How do honeybees tell each other where the flowers are?"
README = Path(__file__).parent.parent / "README.md"


@pytest.fixture(scope="module")
def dense_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small corpus with dense vectors of a tiny local model, for the hybrid retrievers' fusion."""
    model = build_tiny_embedder(tmp_path_factory.mktemp("tiny-bert"))
    folder = tmp_path_factory.mktemp("dense")
    settings = BuildSettings(retrievers={"dense": EmbeddingSettings(model=str(model), precision="fp32")})
    build_index([write_files(folder / "corpus", SMALL_FILES)], folder / "idx", settings)
    return folder / "idx"


def test_invoke_returns_the_index_hits_as_documents(sample_index: Path) -> None:
    documents = RagcliRetriever(index=sample_index, k=4).invoke(QUESTION)
    hits = load_index(sample_index).search(QUESTION, k=4, retriever="bm25")
    assert [d.page_content for d in documents] == [h.text for h in hits]
    assert [d.metadata["id"] for d in documents] == [h.id for h in hits]
    assert [d.metadata["score"] for d in documents] == [h.score for h in hits]
    assert [d.metadata["rank"] for d in documents] == [1, 2, 3, 4]
    first = documents[0].metadata
    assert first["citation"] == "behavior/waggle_dance.md:1" and documents[0].id == "behavior/waggle_dance.md#0"
    assert first["title"] and first["line"] == 1 and first["page"] is None
    assert first["format"] == "markdown" and first["size"] > 0  # the document's metadata, from the walk
    assert first["score"] > documents[-1].metadata["score"]


def test_filters_restrict_what_comes_back(sample_index: Path) -> None:
    unfiltered = RagcliRetriever(index=sample_index, k=10).invoke("honey")
    assert any(not d.metadata["path"].startswith("behavior/") for d in unfiltered)
    in_behavior = RagcliRetriever(index=sample_index, k=10, paths=["behavior/**"]).invoke("honey")
    assert in_behavior and all(d.metadata["path"].startswith("behavior/") for d in in_behavior)
    markdown = RagcliRetriever(index=sample_index, k=10, where=["format=markdown"]).invoke("honey")
    assert markdown and all(d.metadata["format"] == "markdown" for d in markdown)
    assert any(d.metadata["format"] != "markdown" for d in unfiltered)
    both = RagcliRetriever(index=sample_index, k=10, paths=["behavior/**"], where=["format=markdown"])
    expected = load_index(sample_index).search(
        "honey", k=10, filter=Filter.parse(paths=["behavior/**"], where=["format=markdown"])
    )
    assert [d.metadata["id"] for d in both.invoke("honey")] == [h.id for h in expected]


def test_another_retriever_by_name(sample_index: Path) -> None:
    tfidf = RagcliRetriever(index=sample_index, k=3, retriever="tfidf").invoke(QUESTION)
    expected = load_index(sample_index).search(QUESTION, k=3, retriever="tfidf")
    assert [(d.metadata["id"], d.metadata["score"]) for d in tfidf] == [(h.id, h.score) for h in expected]
    bm25 = RagcliRetriever(index=sample_index, k=3).invoke(QUESTION)
    assert [d.metadata["score"] for d in tfidf] != [d.metadata["score"] for d in bm25]


def _cli_hits(index: Path, question: str, *options: str) -> list[tuple[str, float]]:
    """(id, score) of what `ragcli query --no-generate --json` retrieves with `options`."""
    result = invoke("query", question, "--index", str(index), "--no-generate", "--json", "-k", "6", *options)
    assert result.exit_code == 0, result.output
    return [(hit["id"], hit["score"]) for hit in json.loads(result.stdout)["hits"]]


def _found(documents: list[Document]) -> list[tuple[str, float]]:
    return [(d.metadata["id"], d.metadata["score"]) for d in documents]


@pytest.mark.parametrize(
    ("fields", "options"),
    [
        ({"retriever": "hybrid-rrf", "rrf_k": 1}, ("-r", "hybrid-rrf", "--rrf-k", "1")),
        ({"retriever": "hybrid", "dense_weight": 0.9}, ("-r", "hybrid", "--dense-weight", "0.9")),
        ({"retriever": "hybrid-zscore", "dense_weight": 0}, ("-r", "hybrid-zscore", "--dense-weight", "0")),
    ],
)
def test_fusion_options_retrieve_what_query_retrieves(
    dense_index: Path, fields: dict[str, Any], options: tuple[str, ...]
) -> None:
    """`query -r hybrid-rrf --rrf-k 1` could not be had through LangChain: the fusion options were the defaults."""
    question = "wind turbines make electricity"
    retriever = RagcliRetriever(index=dense_index, k=6, distinct=True, **fields)
    expected = _cli_hits(dense_index, question, *options)
    assert _found(retriever.invoke(question)) == expected
    batched = _found(retriever.batch([question, "dams"])[0])  # dense scores batched: the same to float32 rounding
    assert [i for i, _ in batched] == [i for i, _ in expected]
    assert [score for _, score in batched] == pytest.approx([score for _, score in expected], abs=1e-5)
    default = RagcliRetriever(index=dense_index, k=6, distinct=True, retriever=fields["retriever"])
    assert _found(default.invoke(question)) != expected  # the option changed the ranking


def test_fusion_options_assigned_later_are_used(dense_index: Path) -> None:
    retriever = RagcliRetriever(index=dense_index, k=6, distinct=True, retriever="hybrid-rrf")
    retriever.rrf_k = 1
    assert _found(retriever.invoke("wind")) == _cli_hits(dense_index, "wind", "-r", "hybrid-rrf", "--rrf-k", "1")
    with pytest.raises(InvalidOptionError):
        retriever.rrf_k = 0
    assert retriever.rrf_k == 1


@pytest.mark.parametrize(
    ("fields", "unused"),
    [
        ({"retriever": "hybrid", "rrf_k": 30}, "rrf_k"),
        ({"retriever": "hybrid-rrf", "dense_weight": 0.3}, "dense_weight"),
        ({"retriever": "bm25", "rrf_k": 30}, "rrf_k"),
    ],
)
def test_a_fusion_option_the_retriever_does_not_use_is_warned_of(
    tmp_path: Path, fields: dict[str, Any], unused: str
) -> None:
    """As `query` warns of an `--rrf-k` that `-r hybrid` ignores, rather than silently dropping it."""
    with pytest.warns(UserWarning, match=f"{unused} is used by retriever hybrid"):
        retriever = RagcliRetriever(index=tmp_path / "nowhere", **fields)
    with warnings.catch_warnings():  # other assignments validate the model again: no second warning
        warnings.simplefilter("error")
        retriever.k = 3
        retriever.where = ["year>=2020"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RagcliRetriever(index=tmp_path / "nowhere", retriever="hybrid-rrf", rrf_k=30)
        RagcliRetriever(index=tmp_path / "nowhere", retriever="hybrid", dense_weight=0.3)


def test_a_retriever_the_index_lacks_is_ragclis_error(sample_index: Path) -> None:
    with pytest.raises(RagcliError, match="no dense vectors") as caught:
        RagcliRetriever(index=sample_index, retriever="hybrid").invoke(QUESTION)
    assert caught.value.hint and "--dense" in caught.value.hint
    assert caught.value.exit_code == ExitCode.USAGE  # not 11: no extra is missing, the index lacks the vectors


def test_a_missing_index_is_ragclis_error(tmp_path: Path) -> None:
    retriever = RagcliRetriever(index=tmp_path / "nowhere")  # opened lazily: no error yet
    with pytest.raises(NoIndexError) as caught:
        retriever.invoke(QUESTION)
    assert caught.value.exit_code == ExitCode.NO_INDEX and "nowhere" in str(caught.value)


@pytest.mark.parametrize(
    "options",
    [
        {"retriever": "no-such-retriever"},
        {"where": ["format"]},
        {"where": ["size>="]},
        {"paths": [" "]},
        {"rrf_k": 0},
        {"dense_weight": 1.5},
        {"dense_weight": -0.1},
        {"dense_weight": float("nan")},
    ],
)
def test_bad_options_fail_when_the_retriever_is_made(tmp_path: Path, options: dict[str, Any]) -> None:
    with pytest.raises(InvalidOptionError):
        RagcliRetriever(index=tmp_path / "nowhere", **options)  # before any index is opened


@pytest.mark.parametrize("options", [{"top_k": 1}, {"search_kwargs": {"k": 1}}, {"wher": ["format=csv"]}])
def test_an_unknown_keyword_is_refused_naming_the_valid_ones(tmp_path: Path, options: dict[str, Any]) -> None:
    """pydantic's default dropped it: `top_k=1` or a typo in `where` gave unfiltered, wrongly sized results."""
    with pytest.raises(InvalidOptionError) as caught:
        RagcliRetriever(index=tmp_path / "nowhere", **options)
    assert next(iter(options)) in str(caught.value) and "where" in str(caught.value.hint)
    assert "tags" in str(caught.value.hint)  # LangChain's own fields stay valid
    assert RagcliRetriever(index=tmp_path / "nowhere", tags=["t"], metadata={"m": 1}).tags == ["t"]


@pytest.mark.parametrize(
    "options",
    [
        {"k": 0},
        {"k": True},
        {"where": "format=markdown"},
        {"paths": "*.md"},
        {"rrf_k": True},
        {"rrf_k": 1.5},
        {"dense_weight": True},
        {"dense_weight": "0.3"},
    ],
)
def test_wrong_types_are_pydantics_error(tmp_path: Path, options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RagcliRetriever(index=tmp_path / "nowhere", **options)


def test_options_assigned_later_are_checked_and_used(sample_index: Path) -> None:
    """`r.where = [...]` after the retriever was made was accepted and ignored (the filter was built once)."""
    retriever = RagcliRetriever(index=sample_index, k=10)
    retriever.where = ["format=markdown"]
    assert all(d.metadata["format"] == "markdown" for d in retriever.invoke("honey"))
    retriever.where, retriever.paths = [], ["behavior/**"]
    found = retriever.invoke("honey")
    assert found and all(d.metadata["path"].startswith("behavior/") for d in found)
    assert retriever.batch(["honey"]) == [found]
    retriever.k = 2
    assert len(retriever.invoke("honey")) == 2
    with pytest.raises(InvalidOptionError):
        retriever.where = ["format"]  # refused, and the retriever keeps its filter
    with pytest.raises(InvalidOptionError):
        retriever.retriever = "no-such-retriever"
    with pytest.raises(ValidationError):
        retriever.k = True
    assert (retriever.where, retriever.retriever, retriever.k) == ([], "bm25", 2)
    assert retriever.invoke("honey") == found[:2]
    other = load_index(sample_index)
    retriever.index = other
    assert retriever.opened() is other


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.batch("waggle"),
        lambda r: asyncio.run(r.abatch("waggle")),
        lambda r: list(r.batch_as_completed("waggle")),
        lambda r: r.abatch_as_completed("waggle"),  # refused at the call, before anything is iterated
        lambda r: r.batch("waggle", return_exceptions=True),
    ],
)
def test_one_string_given_to_batch_is_refused_not_read_letter_by_letter(sample_index: Path, call: Any) -> None:
    with pytest.raises(InvalidOptionError, match="a list of questions is needed, not one string"):
        call(RagcliRetriever(index=sample_index, k=3))


def test_batch_takes_any_iterable_of_questions(sample_index: Path) -> None:
    retriever = RagcliRetriever(index=sample_index, k=2)
    expected = [retriever.invoke("waggle"), retriever.invoke("honey")]
    assert retriever.batch(q for q in ["waggle", "honey"]) == expected  # type: ignore[arg-type]
    assert asyncio.run(retriever.abatch(q for q in ["waggle", "honey"])) == expected  # type: ignore[arg-type]


def test_the_index_is_opened_once(sample_index: Path) -> None:
    retriever = RagcliRetriever(index=sample_index)
    retriever.invoke("honey")
    opened = retriever.opened()
    retriever.invoke("wax")
    assert retriever.opened() is opened
    index = load_index(sample_index)
    assert RagcliRetriever(index=index).opened() is index


class Recorder(BaseCallbackHandler):
    """A real callback handler: what LangChain reported per retriever run."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[int] = []

    def on_retriever_start(self, serialized: Any, query: str, **kwargs: Any) -> None:
        self.started.append(query)

    def on_retriever_end(self, documents: Any, **kwargs: Any) -> None:
        self.ended.append(len(documents))


def test_batch_matches_invoke_and_reports_each_question(sample_index: Path) -> None:
    retriever = RagcliRetriever(index=sample_index, k=3, paths=["hive/**", "biology/**"])
    questions = ["honey", "queen eggs", "zzzz-no-such-word", "wax"]
    recorder = Recorder()
    batched = retriever.batch(questions, config={"callbacks": [recorder]})
    assert batched == [retriever.invoke(q) for q in questions]
    assert batched[2] == [] and all(len(found) == 3 for i, found in enumerate(batched) if i != 2)
    assert all(d.metadata["path"].startswith(("hive/", "biology/")) for found in batched for d in found)
    assert recorder.started == questions and recorder.ended == [3, 3, 0, 3]
    assert retriever.batch([]) == []


def test_distinct_folds_copies_and_lists_them(tmp_path: Path) -> None:
    text = "Propolis is a resin that bees collect from tree buds to seal small gaps in the hive."
    extra = {"wax.md": "Bees make wax.", "honey.md": "Bees make honey from nectar."}
    corpus = write_files(tmp_path / "c", {"a.md": text, "copy/a.md": text, **extra})
    assert invoke("index", str(corpus), "-i", str(tmp_path / "idx"), "-q").exit_code == 0
    plain = RagcliRetriever(index=tmp_path / "idx", k=2).invoke("bees propolis")
    assert [d.page_content for d in plain] == [text, text] and "copies" not in plain[0].metadata
    distinct = RagcliRetriever(index=tmp_path / "idx", k=2, distinct=True)
    found = distinct.invoke("bees propolis")
    assert found[0].page_content == text and found[1].page_content != text
    assert found[0].metadata["copies"] == [plain[1].metadata["citation"]]
    assert distinct.batch(["bees propolis"]) == [found]
    assert to_hit(found[0]).metadata == to_hit(plain[0]).metadata  # the copies are not the document's own


def test_batch_returns_the_error_when_asked(tmp_path: Path) -> None:
    retriever = RagcliRetriever(index=tmp_path / "nowhere")
    found = retriever.batch(["a", "b"], return_exceptions=True)
    assert len(found) == 2 and all(isinstance(e, NoIndexError) for e in found)
    with pytest.raises(NoIndexError):
        retriever.batch(["a"])


def test_ainvoke(sample_index: Path) -> None:
    retriever = RagcliRetriever(index=sample_index, k=2)
    assert asyncio.run(retriever.ainvoke(QUESTION)) == retriever.invoke(QUESTION)


def test_to_hit_gives_back_the_hit(sample_index: Path) -> None:
    index = load_index(sample_index)
    for hit in index.with_metadata(index.search(QUESTION, k=5)):
        own = {key: value for key, value in hit.metadata.items() if key != "path"}  # the walk's path is hit.path
        assert hit.metadata["path"] == hit.path and own
        assert to_hit(to_document(hit)) == dataclasses.replace(hit, metadata=own)
    with pytest.raises(InvalidOptionError):
        to_hit(Document(page_content="not from ragcli"))
    document = to_document(index.search(QUESTION, k=1)[0])
    wrong = [("rank", "x"), ("line", None), ("score", [1]), ("rank", float("inf")), ("line", float("inf"))]
    # an OverflowError, or taken as rank 1, line 1, score 1 and the title "None"
    wrong += [("rank", 1.7), ("line", True), ("score", True), ("title", None), ("path", 3)]
    for key, value in wrong:
        broken = Document(page_content=document.page_content, metadata={**document.metadata, key: value})
        with pytest.raises(InvalidOptionError, match=f"a Document whose {key!r} metadata is not (text|a )"):
            to_hit(broken)  # was a bare ValueError or TypeError
    assert to_hit(Document(page_content="x", metadata={**document.metadata, "rank": 2.0})).rank == 2


def test_a_chain_with_ragclis_extractive_generator(sample_index: Path) -> None:
    """LCEL: retriever and question → extractive answer (a Runnable) → a cited answer string."""
    retriever = RagcliRetriever(index=sample_index, k=3)
    generator = ExtractiveGenerator.for_index(retriever.opened())

    def generate(inputs: dict[str, Any]) -> tuple[str, list[Document]]:
        documents = inputs["documents"]
        generation = generator.generate(inputs["question"], [to_hit(d) for d in documents])
        return generation.text, [documents[n - 1] for n in generation.citations]

    def cite(generated: tuple[str, list[Document]]) -> str:
        text, cited = generated
        return f"{text} ({'; '.join(d.metadata['citation'] for d in cited)})"

    chain = (
        {"documents": retriever, "question": RunnablePassthrough()} | RunnableLambda(generate) | RunnableLambda(cite)
    )
    assert chain.invoke("Who decoded the waggle dance?") == "Karl von Frisch [1] (behavior/waggle_dance.md:1)"
    assert chain.batch(["How many eggs does a queen lay in a day?", "Who decoded the waggle dance?"]) == [
        "2,000 [2] (biology/castes.md:1)",
        "Karl von Frisch [1] (behavior/waggle_dance.md:1)",
    ]


def test_the_readme_chain_runs_as_written(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = README.read_text()
    code = re.search(r"<!-- langchain-example -->\n```python\n(.*?)```", readme, re.S)
    shown = re.search(r"<!-- langchain-example -->\n```python\n.*?```\n\n```text\n(.*?)\n```", readme, re.S)
    assert code is not None and shown is not None
    monkeypatch.setenv("RAGCLI_INDEX", str(sample_index))
    exec(compile(code.group(1), "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.strip()
    assert printed == shown.group(1) == "Karl von Frisch [1] (sources: behavior/waggle_dance.md:1)"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda index: index.search(None, k=3), "a question must be text, not NoneType"),
        (lambda index: index.search("bees", k="3"), "k must be a whole number >= 1"),
        (lambda index: index.search("bees", k=0), "k must be a whole number >= 1"),
        (lambda index: index.search("bees", filter={"format": "md"}), "filter must be a Filter, not dict"),
        (lambda index: index.search("bees", retriever=None), "retriever must be a retriever's name or a scorer"),
        (lambda index: index.search_many("bees"), "a list of questions is needed, not one"),
        (lambda index: index.search_many(["bees", 5]), "a question must be text, not int"),
        (lambda index: index.search_many({"bees": 1}), "a list of questions is needed, not dict"),
        (lambda index: index.rank("bees", k=2.5), "k must be a whole number >= 1, not 2.5"),
        (lambda index: index.rank("bees", k=-3), "k must be a whole number >= 1, not -3"),
        (lambda index: index.rank_many("bees", k=2), "a list of questions is needed, not one"),
        (lambda index: index.scores(None), "a question must be text, not NoneType"),
        (lambda index: index.scores("bees", filter={"format": "md"}), "filter must be a Filter, not dict"),
        (lambda index: index.metadata_of(10**6), "no passage 1000000: this index has"),
        (lambda index: index.metadata_of(-1), "no passage -1: this index has"),
        (lambda index: index.metadata_of(True), "a hit or a passage number is needed, not bool"),
        (lambda index: index.metadata_of("bees"), "a hit or a passage number is needed, not str"),
        (lambda index: index.with_metadata("bees"), "a list of hits is needed, not str"),
        (lambda index: index.with_metadata(index.search("bees", k=1)[0]), "a list of hits is needed, not Hit"),
        (lambda index: index.with_metadata([None]), "a hit is needed, not NoneType"),
        (lambda index: index.retriever(None), "retriever must be a retriever's name, not NoneType"),
        (lambda index: index.retriever("bm25", {"rrf_k": 1}), "options must be SearchOptions, not dict"),
    ],
)
def test_a_callers_mistake_is_a_usage_error_not_a_damaged_index(sample_index: Path, call: Any, message: str) -> None:
    """`search(None)`, `k="3"`, a dict as filter, `rank(k=2.5)` or `metadata_of(10**6)` surfaced as
    "damaged data (TypeError …), rebuild it"; `search_many("bees")` and `rank_many` searched "b", "e",
    "e", "s"; `rank(k=-3)` found nothing and `metadata_of(-1)` gave the last document's."""
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        call(load_index(sample_index))
    with pytest.raises(InvalidOptionError, match="a question must be text"):
        RagcliRetriever(index=str(sample_index)).invoke(None)  # type: ignore[arg-type]


def test_search_many_takes_any_iterable_of_questions(sample_index: Path) -> None:
    """A generator of questions was read once by the argument check, then searched as none (reported
    as "damaged data")."""
    index = load_index(sample_index)
    expected = index.search_many(["waggle dance", "honey"], k=2)
    assert index.search_many((q for q in ["waggle dance", "honey"]), k=2) == expected
    assert index.search_many(("waggle dance", "honey"), k=2) == expected
    assert index.rank_many(iter(["waggle dance"]), k=2)[0][0].tolist() == index.rank("waggle dance", k=2)[0].tolist()


def test_the_retriever_pickles_and_deep_copies_before_and_after_use(sample_index: Path) -> None:
    """A retriever could not be pickled (its private lock, then the opened index's memory maps) nor
    deep-copied, so it could not go to another process (multiprocessing, joblib, Ray): the copy now
    holds the settings alone and opens the index on its first question."""
    retriever = RagcliRetriever(index=str(sample_index), k=3, where=["format=markdown"])
    fresh = [pickle.loads(pickle.dumps(retriever)), copy.deepcopy(retriever), retriever.model_copy(deep=True)]
    expected = retriever.invoke(QUESTION)
    used = [pickle.loads(pickle.dumps(retriever)), copy.deepcopy(retriever), retriever.model_copy(deep=True)]
    for copied in fresh + used:
        assert copied.model_dump() == retriever.model_dump()
        assert copied._opened is None  # reopened on first use, not carried over
        assert copied.invoke(QUESTION) == expected
        assert copied.opened() is not retriever.opened()


def test_a_retriever_over_an_opened_index_pickles_as_its_folder(sample_index: Path) -> None:
    """An `Index` given as `index` is shared by a deep copy (it is read only) and pickled as its folder."""
    index = load_index(sample_index)
    retriever = RagcliRetriever(index=index, k=2)
    assert copy.deepcopy(retriever).index is index
    unpickled = pickle.loads(pickle.dumps(retriever))
    assert unpickled.index == index.path
    assert unpickled.invoke(QUESTION) == retriever.invoke(QUESTION)


def test_a_relative_index_stays_the_folder_it_named_after_a_chdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An `Index` and a retriever kept `idx` relative: after a chdir they answered from another folder's
    `idx`, and a pickled copy carried `idx` to a worker with another working directory."""
    for name in ("p", "q"):
        corpus = write_files(tmp_path / name / "c", {"a.txt": f"alpha from {name}"})
        assert invoke("index", str(corpus), "-i", str(tmp_path / name / "idx"), "-q").exit_code == 0
    monkeypatch.chdir(tmp_path / "p")
    index = load_index("idx")
    retriever = RagcliRetriever(index="idx", k=1)
    over_index = pickle.dumps(RagcliRetriever(index=index, k=1))
    monkeypatch.chdir(tmp_path / "q")
    assert [h.text for h in index.search("alpha", k=1)] == ["alpha from p"]
    assert [d.page_content for d in retriever.invoke("alpha")] == ["alpha from p"]
    for copied in (pickle.loads(over_index), pickle.loads(pickle.dumps(retriever))):
        assert [d.page_content for d in copied.invoke("alpha")] == ["alpha from p"]


def test_an_empty_index_path_is_refused_as_the_cli_refuses_it() -> None:
    """`index=""` opened the current folder, where `--index ''` is refused."""
    with pytest.raises(InvalidOptionError, match="the index folder is an empty path"):
        RagcliRetriever(index="")
