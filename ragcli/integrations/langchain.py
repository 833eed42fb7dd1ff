"""A LangChain retriever over a ragcli index (`pip install 'ragcli[langchain]'`).

`RagcliRetriever(index="path/to/.ragcli", k=5, retriever="hybrid", dense_weight=0.7, where=["format=md"])`
is a `langchain_core` `BaseRetriever`: `invoke("question")` returns one `Document` per retrieved passage,
best first, with the passage text as `page_content` and, in `metadata`, where it comes from (`path`,
`line`, `page`, `citation`), how it ranked (`score`, `rank`) and the document's own metadata (the walk's
`path`, `format`, `size`, `mtime` and whatever its reader added). Nothing else in ragcli imports
langchain: this module is the whole integration, and ragcli's errors (no index, a bad filter, an unknown
retriever) reach the caller unchanged, as `RagcliError`s with their hint and exit code.
"""

from __future__ import annotations

import copy
import numbers
import threading
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.callbacks import CallbackManager, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list
from pydantic import ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from ragcli.errors import InvalidOptionError, unknown_choice
from ragcli.records import Hit, SearchOptions
from ragcli.retrieval.base import RETRIEVERS, Scorer, fusing_retrievers, unused_fusion_options
from ragcli.retrieval.filters import Filter
from ragcli.retrieval.index import DEFAULT_OPTIONS, Index, check_questions, load_index
from ragcli.store import resolve_index_dir

T = TypeVar("T")
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
    return Hit(
        rank=_field(meta, "rank", int),
        score=_field(meta, "score", float),
        id=_field(meta, "id", str),
        doc_id=_field(meta, "doc_id", str),
        title=_field(meta, "title", str),
        path=_field(meta, "path", str),
        line=_field(meta, "line", int),
        start=_field(meta, "start", int),
        end=_field(meta, "end", int),
        text=document.page_content,
        page=None if meta.get("page") is None else _field(meta, "page", int),
        metadata=own,
    )


def _field(meta: dict[str, Any], key: str, kind: type[T]) -> T:
    """`meta[key]` as `kind`: a Document that is not RagcliRetriever's (a key missing, a rank that is no
    number) is the caller's mistake, never a bare KeyError, ValueError or OverflowError."""
    hint = "pass Documents that RagcliRetriever returned"
    if key not in meta:
        raise InvalidOptionError(f"a Document without ragcli's {key!r} metadata", hint=hint)
    value = meta[key]
    if not _fits(value, kind):
        what = {str: "text", int: "a whole number"}.get(kind, "a number")
        raise InvalidOptionError(f"a Document whose {key!r} metadata is not {what} ({value!r})", hint=hint)
    return kind(value)  # type: ignore[call-arg]


def _fits(value: object, kind: type) -> bool:
    """Whether `value` is `kind` as RagcliRetriever writes it: converting would take None for the text
    "None", True for 1 and 1.7 for rank 1, and fail on infinity with an OverflowError."""
    if isinstance(value, bool):
        return False
    if kind is str:
        return isinstance(value, str)
    if kind is int:
        return isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, numbers.Real)


class RagcliRetriever(BaseRetriever):
    """LangChain's retriever interface over a ragcli index: any registered retriever with `query`'s fusion
    options, ragcli's filters.

    The options are checked when the retriever is made, and again when one is assigned later (an
    unknown retriever name, a malformed filter, an `rrf_k` or `dense_weight` out of range or an unknown
    keyword is an `InvalidOptionError` then, not at the first question; a wrong type, `k=0`, `k=True` or
    one string for `where`, is pydantic's `ValidationError`, as for any LangChain component); an option
    assigned later counts from the next question on. The index is opened on first use, once per `index`
    given, and reloaded by ragcli itself when a re-index replaces its generation.
    """

    # an option assigned later (`retriever.where = [...]`) is checked, and used from the next question on:
    # mutable rather than frozen, as LangChain's own retrievers are (`search_kwargs` set after the fact)
    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=True)

    index: Index | str | Path | None = None
    """The index folder (default: $RAGCLI_INDEX, else ./.ragcli), or an already opened `Index`."""
    k: int = Field(default=5, ge=1, strict=True)  # strict: True is no number of passages
    """Passages per question (fewer when fewer match the filters)."""
    retriever: str = "bm25"
    """A registered retriever name: bm25, tfidf, dense, hybrid, … (see `ragcli plugins`)."""
    rrf_k: int = Field(default=DEFAULT_OPTIONS.rrf_k, strict=True)
    """hybrid-rrf: the k of reciprocal rank fusion, as `--rrf-k` (an integer >= 1)."""
    dense_weight: float = Field(default=DEFAULT_OPTIONS.dense_weight, strict=True)  # strict: True is no weight
    """hybrid, hybrid-zscore: the dense scores' weight, as `--dense-weight` (from 0 to 1)."""
    paths: Sequence[str] = ()
    """Path globs a passage's file must match (any of them), as `--path`."""
    where: Sequence[str] = ()
    """Conditions on the document's metadata (all of them), as `--where` (`format=md`, `size>=1000`)."""
    distinct: bool = False
    """Each text once, as `query --distinct`: copies in other files are folded into the best-ranked one
    (their citations in its metadata's `copies`) and the next passage takes their place."""

    _opened: tuple[object, Index] | None = PrivateAttr(default=None)  # (the `index` it was opened from, it)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    # the (retriever, rrf_k, dense_weight) last checked by `_fusion_used`: assigning `k` or `where`
    # validates the model again, and must not warn again
    _fusion_checked: tuple[str, int, float] | None = PrivateAttr(default=None)

    def __getstate__(self) -> dict[Any, Any]:
        """What pickle keeps (for multiprocessing, joblib, Ray): the settings alone; an opened `Index`
        given as `index` goes as its folder, and the copy opens the index on its first question."""
        state = self._settings_state()
        if isinstance(self.index, Index):
            state["__dict__"] = {**state["__dict__"], "index": self.index.path}
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._reset_opened()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> RagcliRetriever:
        """A deep copy (`model_copy(deep=True)`) with the settings alone, as pickle's; an `Index` given as
        `index` is shared, not copied (it is read only, and its memory maps cannot be copied)."""
        memo = {} if memo is None else memo
        if isinstance(self.index, Index):
            memo[id(self.index)] = self.index
        copied = type(self).__new__(type(self))
        copied.__setstate__(copy.deepcopy(self._settings_state(), memo))
        return copied

    def _settings_state(self) -> dict[Any, Any]:
        """pydantic's state without the private attributes (the lock, the opened index)."""
        return {**super().__getstate__(), "__pydantic_private__": None}

    def _reset_opened(self) -> None:
        """The private attributes as a new retriever has them (no index opened, a lock of its own)."""
        fresh = {
            name: attr.get_default(call_default_factory=True) for name, attr in self.__private_attributes__.items()
        }
        object.__setattr__(self, "__pydantic_private__", fresh)

    @model_validator(mode="before")
    @classmethod
    def _known_options(cls, options: Any) -> Any:
        """An unknown keyword (`top_k=`, `search_kwargs=`, a typo in `where`) is refused naming the valid
        ones: pydantic's default would drop it, and the results would be silently unfiltered or missized."""
        if isinstance(options, dict):
            for name in options:
                if name not in cls.model_fields:
                    raise unknown_choice("RagcliRetriever option", str(name), tuple(cls.model_fields))
        return options

    @field_validator("index")
    @classmethod
    def _absolute(cls, index: Index | str | Path | None) -> Index | str | Path | None:
        """A folder named by a relative path is the one under the current directory now: kept absolute, so
        that a later chdir, or a pickled copy in a worker with another directory, opens the same index."""
        if isinstance(index, (str, Path)):
            return resolve_index_dir(index).absolute()
        return index

    @field_validator("retriever")
    @classmethod
    def _known_retriever(cls, name: str) -> str:
        RETRIEVERS.get(name)  # an unknown name: a usage error listing the registered ones
        return name

    @field_validator("paths", "where")
    @classmethod
    def _parses(cls, value: Sequence[str], info: ValidationInfo) -> Sequence[str]:
        # checked field by field, so that a bad value assigned later is refused before it replaces the good one
        if info.field_name == "paths":
            Filter.parse(paths=value)
        else:
            Filter.parse(where=value)
        return value

    @field_validator("rrf_k")
    @classmethod
    def _rrf_k_in_range(cls, value: int) -> int:
        SearchOptions(rrf_k=value)  # below 1: the library's InvalidOptionError (its limit is the CLI's)
        return value

    @field_validator("dense_weight")
    @classmethod
    def _weight_in_range(cls, value: float) -> float:
        SearchOptions(dense_weight=value)  # outside [0, 1] or NaN: the library's InvalidOptionError
        return value

    @model_validator(mode="after")
    def _fusion_used(self) -> RagcliRetriever:
        """A fusion option the chosen retriever does not read is warned about, as `query` warns of it:
        `rrf_k=30` with `hybrid` (z-score fusion) would otherwise change nothing, silently. Once for each
        choice of them, not on every assignment (each validates the model again)."""
        chosen = (self.retriever, self.rrf_k, self.dense_weight)
        if chosen == self._fusion_checked:
            return self
        self._fusion_checked = chosen
        for field in unused_fusion_options([self.retriever], self._search_options()):
            users = " and ".join(fusing_retrievers(field))
            warnings.warn(
                f"RagcliRetriever {field} is used by retriever {users} only, not {self.retriever}", stacklevel=2
            )
        return self

    def _search_options(self) -> SearchOptions:
        """The fusion options as they are now (assigned later ones included)."""
        return SearchOptions(rrf_k=self.rrf_k, dense_weight=self.dense_weight)

    def _scorer(self, index: Index) -> Scorer:
        """The retriever with its fusion options, as `query` opens it (the index keeps one per option set)."""
        return index.retriever(self.retriever, self._search_options())

    def _restriction(self) -> Filter | None:
        """The filter of `paths` and `where` as they are now: made when used (tens of microseconds), never
        kept, so that one assigned later (or given to `model_copy`) is the one that counts."""
        return Filter.parse(paths=self.paths, where=self.where)

    def opened(self) -> Index:
        """The index, opened on first use and kept until `index` is changed (thread-safe: `batch` runs
        questions in threads)."""
        if isinstance(self.index, Index):
            return self.index
        opened = self._opened
        if opened is not None and opened[0] is self.index:
            return opened[1]
        with self._lock:
            if self._opened is None or self._opened[0] is not self.index:
                self._opened = (self.index, load_index(self.index))
            return self._opened[1]

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        index = self.opened()
        found = index.search(
            query,
            k=self.k,
            retriever=self._scorer(index),
            filter=self._restriction(),
            distinct=self.distinct,
            metadata=True,
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
                retriever=self._scorer(index),
                filter=self._restriction(),
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
