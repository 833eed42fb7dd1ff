"""ragcli: retrieval-augmented generation over a local corpus, from the command line or from Python.

The public API is re-exported here and imported lazily, so `import ragcli` stays cheap:

    from ragcli import build_index, load_index
    build_index(["docs/"], ".ragcli")
    for hit in load_index(".ragcli").search("how do solar panels work", k=3):
        print(hit.rank, hit.score, hit.citation)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# what type checkers see of the lazy exports below: nothing is imported at run time ("as": re-exported)
if TYPE_CHECKING:
    from ragcli.analysis import Analyzer as Analyzer
    from ragcli.analysis import AnalyzerSettings as AnalyzerSettings
    from ragcli.answering import Answer as Answer
    from ragcli.answering import answer as answer
    from ragcli.answering import answer_many as answer_many
    from ragcli.chunking import ChunkSettings as ChunkSettings
    from ragcli.errors import RagcliError as RagcliError
    from ragcli.generation.base import Generation as Generation
    from ragcli.generation.base import GenerationOptions as GenerationOptions
    from ragcli.generation.base import Generator as Generator
    from ragcli.indexing.build import build_index as build_index
    from ragcli.indexing.settings import BuildReport as BuildReport
    from ragcli.indexing.settings import BuildSettings as BuildSettings
    from ragcli.readers.base import RecordFields as RecordFields
    from ragcli.records import Document as Document
    from ragcli.records import Hit as Hit
    from ragcli.records import Passage as Passage
    from ragcli.records import SearchOptions as SearchOptions
    from ragcli.retrieval.bm25 import BM25Params as BM25Params
    from ragcli.retrieval.embedder import EmbeddingSettings as EmbeddingSettings
    from ragcli.retrieval.filters import Filter as Filter
    from ragcli.retrieval.index import Index as Index
    from ragcli.retrieval.index import load_index as load_index
    from ragcli.retrieval.tfidf import TfidfParams as TfidfParams

__version__ = "0.1.0"

_EXPORTS = {
    "build_index": "ragcli.indexing.build",
    "BuildSettings": "ragcli.indexing.settings",
    "BuildReport": "ragcli.indexing.settings",
    "load_index": "ragcli.retrieval.index",
    "Index": "ragcli.retrieval.index",
    "Hit": "ragcli.records",
    "Document": "ragcli.records",
    "Passage": "ragcli.records",
    "SearchOptions": "ragcli.records",
    "Filter": "ragcli.retrieval.filters",
    "AnalyzerSettings": "ragcli.analysis",
    "Analyzer": "ragcli.analysis",
    "ChunkSettings": "ragcli.chunking",
    "RecordFields": "ragcli.readers.base",
    "BM25Params": "ragcli.retrieval.bm25",
    "TfidfParams": "ragcli.retrieval.tfidf",
    "RagcliError": "ragcli.errors",
    "answer": "ragcli.answering",
    "answer_many": "ragcli.answering",
    "Answer": "ragcli.answering",
    "EmbeddingSettings": "ragcli.retrieval.embedder",
    "Generation": "ragcli.generation.base",
    "GenerationOptions": "ragcli.generation.base",
    "Generator": "ragcli.generation.base",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ragcli' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The lazy exports too (`dir(ragcli)`, completion in a REPL): they are no globals until asked for."""
    return sorted({*globals(), *__all__})
