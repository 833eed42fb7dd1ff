"""A LangChain retriever over a ragcli index (`pip install 'ragcli[langchain]'`).

`RagcliRetriever(index="path/to/.ragcli", k=5, retriever="hybrid", where=["format=md"])` is a
`langchain_core` `BaseRetriever`: `invoke("question")` returns one `Document` per retrieved passage,
best first, with the passage text as `page_content` and, in `metadata`, where it comes from (`path`,
`line`, `page`, `citation`), how it ranked (`score`, `rank`) and the document's own metadata (the walk's
`path`, `format`, `size`, `mtime` and whatever its reader added). Nothing else in ragcli imports
langchain: this module is the whole integration, and ragcli's errors (no index, a bad filter, an unknown
retriever) reach the caller unchanged, as `RagcliError`s with their hint and exit code.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManager, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list
from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from ragcli.errors import InvalidOptionError
from ragcli.records import Hit
from ragcli.retrieval.base import RETRIEVERS
from ragcli.retrieval.filters import Filter
from ragcli.retrieval.index import Index, check_questions, load_index

# Hit fields copied into Document.metadata (the text is the page_content; offsets are ragcli's own)
_HIT_FIELDS = ("id", "doc_id", "title", "path", "line", "page", "start", "end", "score", "rank")


def to_document(hit: Hit) -> Document:
    """A retrieved passage as a LangChain Document. The document's own metadata comes first, so that
    the passage's keys (`path`, `score`, `rank`, `citation`…) win where a reader used the same name."""
    metadata: dict[str, Any] = dict(hit.metadata)
    metadata.update({name: getattr(hit, name) for name in _HIT_FIELDS})
    metadata["citation"] = hit.citation
    if hit.copies:  # a distinct search folded other files' copies of this text into it
        metadata["copies"] = [copy.citation for copy in hit.copies]
    return Document(page_content=hit.text, metadata=metadata, id=hit.id)


def to_hit(document: Document) -> Hit:
    """A Document from `RagcliRetriever` back as the Hit ragcli's generators take, so that a chain can
    hand the retrieved Documents to any ragcli generator (`ExtractiveGenerator.generate(q, hits)`).
    The document's metadata comes back without the keys the passage's own fields replaced (`path`)."""
    meta = document.metadata
    own = {key: value for key, value in meta.items() if key not in _HIT_FIELDS and key not in ("citation", "copies")}
    try:
        return Hit(
            rank=int(meta["rank"]),
            score=float(meta["score"]),
            id=str(meta["id"]),
            doc_id=str(meta["doc_id"]),
            title=str(meta["title"]),
            path=str(meta["path"]),
            line=int(meta["line"]),
            start=int(meta["start"]),
            end=int(meta["end"]),
            text=document.page_content,
            page=None if meta.get("page") is None else int(meta["page"]),
            metadata=own,
        )
    except KeyError as exc:
        raise InvalidOptionError(
            f"a Document without ragcli's {exc} metadata", hint="pass Documents that RagcliRetriever returned"
        ) from None


class RagcliRetriever(BaseRetriever):
    """LangChain's retriever interface over a ragcli index: any registered retriever, ragcli's filters.

    The options are checked when the retriever is made (an unknown retriever name or a malformed
    filter is an `InvalidOptionError` then, not at the first question; a wrong type, `k=0` or one string
    for `where`, is pydantic's `ValidationError`, as for any LangChain component); the index is opened on first
    use, once, and reloaded by ragcli itself when a re-index replaces its generation.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index | str | Path | None = None
    """The index folder (default: $RAGCLI_INDEX, else ./.ragcli), or an already opened `Index`."""
    k: int = Field(default=5, ge=1)
    """Passages per question (fewer when fewer match the filters)."""
    retriever: str = "bm25"
    """A registered retriever name: bm25, tfidf, dense, hybrid, … (see `ragcli plugins`)."""
    paths: Sequence[str] = ()
    """Path globs a passage's file must match (any of them), as `--path`."""
    where: Sequence[str] = ()
    """Conditions on the document's metadata (all of them), as `--where` (`format=md`, `size>=1000`)."""
    distinct: bool = False
    """Each text once, as `query --distinct`: copies in other files are folded into the best-ranked one
    (their citations in its metadata's `copies`) and the next passage takes their place."""

    _filter: Filter | None = PrivateAttr(default=None)
    _opened: Index | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _check_options(self) -> RagcliRetriever:
        RETRIEVERS.get(self.retriever)  # an unknown name: a usage error listing the registered ones
        self._filter = Filter.parse(paths=self.paths, where=self.where)
        self._opened = self.index if isinstance(self.index, Index) else None
        return self

    def opened(self) -> Index:
        """The index, opened on first use and kept (thread-safe: `batch` runs questions in threads)."""
        if self._opened is None:
            with self._lock:
                if self._opened is None:
                    path = self.index if not isinstance(self.index, Index) else None
                    self._opened = load_index(path)
        return self._opened

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        index = self.opened()
        found = index.search(
            query, k=self.k, retriever=self.retriever, filter=self._filter, distinct=self.distinct, metadata=True
        )
        return [to_document(hit) for hit in found]

    def batch(
        self,
        inputs: list[str],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any | None,
    ) -> list[Any]:
        """Many questions scored together (`Index.search_many`: one pass over the weights), with the
        same callbacks per question as `invoke`; errors are per batch (the questions share one index).
        `inputs` is a list of questions, or any iterable of them; one string is refused, never read
        letter by letter, whatever `return_exceptions` says (the caller's mistake, not a question's)."""
        inputs = check_questions(inputs)
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        runs = [
            CallbackManager.configure(
                conf.get("callbacks"),
                None,
                inheritable_tags=conf.get("tags"),
                local_tags=self.tags,
                inheritable_metadata={**(conf.get("metadata") or {}), **self._get_ls_params()},
                local_metadata=self.metadata,
            ).on_retriever_start(None, query, name=conf.get("run_name") or self.get_name())
            for query, conf in zip(inputs, configs)
        ]
        try:
            index = self.opened()
            found = index.search_many(
                inputs,
                k=self.k,
                retriever=self.retriever,
                filter=self._filter,
                distinct=self.distinct,
                metadata=True,
            )
            results = [[to_document(hit) for hit in hits] for hits in found]
        except Exception as exc:
            for run in runs:
                run.on_retriever_error(exc)
            if return_exceptions:
                return [exc for _ in inputs]
            raise
        for run, documents in zip(runs, results):
            run.on_retriever_end(documents)
        return results

    async def abatch(
        self,
        inputs: list[str],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any | None,
    ) -> list[Any]:
        """LangChain's own (`ainvoke` per question), after `batch`'s check of the questions."""
        questions = check_questions(inputs)
        return await super().abatch(questions, config, return_exceptions=return_exceptions, **kwargs)

    def batch_as_completed(
        self,
        inputs: Sequence[str],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any | None,
    ) -> Iterator[tuple[int, Any]]:
        """LangChain's own, after `batch`'s check of the questions (made at the call, not at the first result)."""
        questions = check_questions(inputs)
        if return_exceptions:  # LangChain's overloads tell the two apart by a literal
            return super().batch_as_completed(questions, config, return_exceptions=True, **kwargs)
        return super().batch_as_completed(questions, config, return_exceptions=False, **kwargs)

    def abatch_as_completed(
        self,
        inputs: Sequence[str],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any | None,
    ) -> AsyncIterator[tuple[int, Any]]:
        """LangChain's own, after `batch`'s check of the questions (made at the call, not at the first result)."""
        questions = check_questions(inputs)
        if return_exceptions:  # LangChain's overloads tell the two apart by a literal
            return super().abatch_as_completed(questions, config, return_exceptions=True, **kwargs)
        return super().abatch_as_completed(questions, config, return_exceptions=False, **kwargs)
