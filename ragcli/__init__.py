"""ragcli: retrieval-augmented generation over a local corpus, from the command line or from Python.

The public API is re-exported here and imported lazily, so `import ragcli` stays cheap:

    from ragcli import build_index, load_index
    build_index(["docs/"], ".ragcli")
    for hit in load_index(".ragcli").search("how do solar panels work", k=3):
        print(hit.rank, hit.score, hit.citation)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

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
