"""Reading untrusted index files: a pickle loader that builds plain data only, and the payload schemas a
loaded payload is checked against before anything uses it (regular files only: `regular_files`).

An index folder is data anyone may have handed you, so everything read from it is checked first:

- `regular_files.open_regular` opens a file only if it is a regular file (not a FIFO, device or
  socket, which would hang or never end) and not a symbolic link, checked on the opened descriptor.
- `load_payload` unpickles with `SafeUnpickler`: it resolves only numpy's array and dtype and joblib's
  array wrapper, and calls them only in the exact forms `joblib.dump` writes. A dtype must be a plain
  one (booleans, integers, floats, complex numbers, byte strings): numpy accepts structured dtypes
  whose fields lie outside the item, and an array of such a dtype reads memory it does not own. An
  array may claim no more bytes than the file holds after it.
- The loaded payload must be a flat dict of arrays and plain values (no nested containers: a pickle
  can share one list many times over, a tree exponentially larger than the file), then match the
  schema of its file (`PayloadSchema`: each array's dtype and number of dimensions, each value's type).
  A retriever plugin declares the schema of its payload (`Retriever.schema`); a payload without one
  gets the plain-data checks only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

MAX_KEYS = 1024  # entries of a payload dict
MAX_SMALL = 64  # items of a list or dict stored as a plain value (a shape, a settings section)
MAX_NDIM = 8

_NUMERIC = {"b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"}


class UnsafePayloadError(Exception):
    """A payload asked the unpickler for something other than plain data."""


def plain_dtype(dtype: object) -> bool:
    """A dtype without fields, sub-arrays, objects or metadata: booleans, numbers, byte strings."""
    if not isinstance(dtype, np.dtype) or dtype.fields is not None or dtype.subdtype is not None:
        return False
    if dtype.hasobject or dtype.metadata is not None:
        return False
    if dtype.kind == "S":
        return dtype.itemsize >= 1
    return f"{dtype.kind}{dtype.itemsize}" in _NUMERIC


def _dtype(spec: object, align: object = False, copy: object = True) -> np.dtype[Any]:
    """What `numpy.dtype` resolves to in a payload: a plain dtype from its short name only."""
    name = spec if isinstance(spec, str) else ""
    plain = name in _NUMERIC or (name[:1] == "S" and name[1:].isdigit() and 0 < len(name) <= 10)
    if not plain or align is not False or copy not in (True, False):
        if name[:1] == "O":
            raise UnsafePayloadError("refusing an array of Python objects")
        raise UnsafePayloadError(f"refusing dtype {spec!r} (only plain numbers and bytes are payload data)")
    dtype = np.dtype(name)
    if not plain_dtype(dtype) or (name[:1] == "S" and int(name[1:]) == 0):
        raise UnsafePayloadError(f"refusing dtype {spec!r}")
    return dtype


def _reconstruct(subtype: object, shape: object, dtype: object) -> np.ndarray:
    """What numpy's `_reconstruct` resolves to: only the empty placeholder a pickled array starts as."""
    if subtype is not np.ndarray or shape != (0,) or dtype not in (b"b", "b"):
        raise UnsafePayloadError("refusing an array constructor call")
    return np.ndarray((0,), dtype=np.int8)


_GLOBALS: dict[tuple[str, str], Any] = {
    ("joblib.numpy_pickle", "NumpyArrayWrapper"): NumpyArrayWrapper,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
}
_CALLABLE = (_dtype, _reconstruct)
_WRAPPER_KEYS = {"subclass", "shape", "order", "dtype", "allow_mmap"}


def _shape(value: object) -> tuple[int, ...]:
    if (
        not isinstance(value, tuple)
        or len(value) > MAX_NDIM
        or not all(type(n) is int and 0 <= n < 2**62 for n in value)
    ):
        raise UnsafePayloadError("refusing an array shape")
    return value


def _nbytes(shape: tuple[int, ...], dtype: np.dtype[Any]) -> int:
    total = dtype.itemsize
    for n in shape:
        total *= n
    return total


class SafeUnpickler(NumpyUnpickler):  # type: ignore[misc]
    """joblib's unpickler, restricted to the opcodes and calls `joblib.dump` writes for plain arrays."""

    dispatch = NumpyUnpickler.dispatch.copy()

    def __init__(self, path: Path, handle: IO[bytes], size: int, mmap: bool) -> None:
        # numpy memory-maps by file name: the descriptor already opened and checked, where /proc has it
        name = f"/proc/self/fd/{handle.fileno()}"
        super().__init__(name if mmap and os.path.exists(name) else str(path), handle, False, "r" if mmap else None)
        self.size = size

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _GLOBALS:
            raise UnsafePayloadError(f"refusing to load {module}.{name}")
        return _GLOBALS[(module, name)]

    def load_reduce(self) -> None:
        if not any(self.stack[-2] is allowed for allowed in _CALLABLE):
            raise UnsafePayloadError("refusing a call in the payload")
        NumpyUnpickler.load_reduce(self)

    def load_newobj(self) -> None:
        if self.stack[-2] is not NumpyArrayWrapper or type(self.stack[-1]) is not tuple or self.stack[-1]:
            raise UnsafePayloadError("refusing to create an object in the payload")
        NumpyUnpickler.load_newobj(self)

    def refuse(self) -> None:
        raise UnsafePayloadError("refusing to create an object in the payload")

    def load_build(self) -> None:
        state, inst = self.stack[-1], self.stack[-2]
        if isinstance(inst, NumpyArrayWrapper):
            self._check_wrapper(inst, state)
        elif isinstance(inst, np.dtype):
            self._check_dtype_state(inst, state)
        elif type(inst) is np.ndarray:
            self._check_array_state(inst, state)
        else:
            raise UnsafePayloadError("refusing to set the state of an object")
        NumpyUnpickler.load_build(self)
        if isinstance(inst, np.dtype) and not plain_dtype(inst):
            raise UnsafePayloadError("refusing a structured or object dtype")

    def _check_wrapper(self, inst: NumpyArrayWrapper, state: object) -> None:
        # Checked before joblib reads the array (arrays of Python objects it would read with a plain pickle)
        if inst.__dict__ or not isinstance(state, dict) or not set(state) >= _WRAPPER_KEYS:
            raise UnsafePayloadError("refusing a malformed array")
        if set(state) - _WRAPPER_KEYS - {"numpy_array_alignment_bytes"}:
            raise UnsafePayloadError("refusing a malformed array")
        dtype = state["dtype"]
        if not plain_dtype(dtype):
            raise UnsafePayloadError(
                "refusing an array of Python objects"
                if isinstance(dtype, np.dtype) and dtype.hasobject
                else "refusing an array of a structured or unknown dtype"
            )
        shape = _shape(state["shape"])
        alignment = state.get("numpy_array_alignment_bytes")
        if state["subclass"] is not np.ndarray or type(state["order"]) is not str or state["order"] not in ("C", "F"):
            raise UnsafePayloadError("refusing a malformed array")
        if type(state["allow_mmap"]) is not bool or not (
            alignment is None or (type(alignment) is int and alignment == 16)
        ):
            raise UnsafePayloadError("refusing a malformed array")
        if _nbytes(shape, dtype) > self.size - self.file_handle.tell():
            raise UnsafePayloadError("an array claims more bytes than the file holds")

    @staticmethod
    def _check_dtype_state(inst: np.dtype[Any], state: object) -> None:
        canonical = inst.__reduce__()[2]
        if (
            not isinstance(state, tuple)
            or len(state) != len(canonical)
            or state[0] != canonical[0]
            or state[1] not in ("<", ">", "|", "=")
            or state[2:] != canonical[2:]
        ):
            raise UnsafePayloadError("refusing a structured or unknown dtype")

    @staticmethod
    def _check_array_state(inst: np.ndarray, state: object) -> None:
        if inst.shape != (0,) or not isinstance(state, tuple) or len(state) != 5:
            raise UnsafePayloadError("refusing a malformed array")
        version, shape, dtype, fortran, raw = state
        if version != 1 or type(fortran) is not bool or not plain_dtype(dtype) or not isinstance(raw, bytes):
            raise UnsafePayloadError("refusing a malformed array")
        if len(raw) != _nbytes(_shape(shape), dtype):
            raise UnsafePayloadError("refusing a malformed array")

    dispatch[b"R"[0]] = load_reduce
    dispatch[b"\x81"[0]] = load_newobj
    dispatch[b"b"[0]] = load_build
    for _opcode in (b"\x92", b"o", b"i", b"\x96"):  # NEWOBJ_EX, OBJ, INST, BYTEARRAY8
        dispatch[_opcode[0]] = refuse


# --- what a loaded payload may hold -----------------------------------------------------------------

Scalar = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class ArraySpec:
    """An array a payload must hold: its allowed dtypes (numpy names, native byte order) and dimensions."""

    dtypes: tuple[str, ...]
    ndim: int = 1


@dataclass(frozen=True)
class PayloadSchema:
    """What a payload file holds: arrays by name, plain values by name (each with its allowed types),
    and arrays that may be absent (added by a later version; an older index lacks them) but are checked
    when present. A `closed` schema (ragcli's own payloads) allows nothing else: another payload's extra
    arrays would pass for this one's; a plugin's schema allows other entries as plain data, as it always
    did (an index its plugin wrote is not refused as damaged)."""

    arrays: Mapping[str, ArraySpec] = field(default_factory=dict)
    values: Mapping[str, tuple[type, ...]] = field(default_factory=dict)
    optional: Mapping[str, ArraySpec] = field(default_factory=dict)
    closed: bool = False

    def merged(self, other: PayloadSchema) -> PayloadSchema:
        return PayloadSchema(
            {**self.arrays, **other.arrays},
            {**self.values, **other.values},
            {**self.optional, **other.optional},
            self.closed or other.closed,
        )


def _plain_value(value: object) -> bool:
    if isinstance(value, np.ndarray):
        return type(value) in (np.ndarray, np.memmap) and plain_dtype(value.dtype) and value.ndim <= MAX_NDIM
    if isinstance(value, Scalar):
        return True
    if isinstance(value, (list, tuple)):
        return len(value) <= MAX_SMALL and all(isinstance(v, Scalar) for v in value)
    if isinstance(value, dict):
        return len(value) <= MAX_SMALL and all(isinstance(k, str) and isinstance(v, Scalar) for k, v in value.items())
    return False


def check_payload(payload: object, schema: PayloadSchema | None) -> str | None:
    """Why `payload` is not a payload of `schema` (None: it is). Without a schema, plain data only."""
    if not isinstance(payload, dict) or len(payload) > MAX_KEYS:
        return "not a ragcli payload"
    for key, value in payload.items():
        if not isinstance(key, str) or not _plain_value(value):
            return f"entry {str(key)[:40]!r} is not plain data"
    if schema is None:
        return None
    undeclared = sorted(set(payload) - {*schema.arrays, *schema.values, *schema.optional}) if schema.closed else []
    if undeclared:
        return f"entry {undeclared[0][:40]!r} is not one its schema declares"
    present = {name: spec for name, spec in schema.optional.items() if name in payload}
    for name, spec in {**schema.arrays, **present}.items():
        array = payload.get(name)
        if not isinstance(array, np.ndarray):
            return f"array {name!r} is missing"
        if array.dtype not in [np.dtype(d) for d in spec.dtypes] or array.ndim != spec.ndim:
            return f"array {name!r} is {array.dtype.str} with {array.ndim} dimensions, not {'/'.join(spec.dtypes)}"
    for name, types in schema.values.items():
        if name not in payload or not isinstance(payload[name], types) or isinstance(payload[name], np.ndarray):
            return f"value {name!r} is missing or of the wrong type"
    return None


INT64 = ArraySpec(("int64",))
UINT8 = ArraySpec(("uint8",))


def string_table(prefix: str) -> dict[str, ArraySpec]:
    """The arrays of a `store.StringTable` stored under `prefix`."""
    return {f"{prefix}_blob": UINT8, f"{prefix}_offsets": INT64}


PASSAGES_SCHEMA = PayloadSchema(
    {
        **{k: v for p in ("id", "doc_id", "title", "path", "text") for k, v in string_table(p).items()},
        **{name: INT64 for name in ("line", "start", "end", "id_rank")},
    },
    optional={"page": INT64},  # since page citations; an index written before has no pages (all 0)
    closed=True,
)
METADATA_SCHEMA = PayloadSchema(  # ragcli.retrieval.metadata: every index is range-checked there on load
    {
        **string_table("key"),
        **string_table("value"),
        "doc_of": ArraySpec(("int32",)),
        "doc_indptr": INT64,
        "entry_key": ArraySpec(("int32",)),
        "entry_value": ArraySpec(("int32",)),
        "value_kind": UINT8,
        "value_number": ArraySpec(("float64",)),
    },
    closed=True,
)
TERMS_SCHEMA = PayloadSchema(
    {**string_table("term"), "hash_sorted": ArraySpec(("uint64",)), "hash_term": INT64}, closed=True
)
COUNTS_SCHEMA = PayloadSchema(
    {"indptr": INT64, "indices": ArraySpec(("int32",)), "data": ArraySpec(("int32",))},
    {"shape": (list, tuple)},
    closed=True,
)
TERM_MATRIX_SCHEMA = PayloadSchema(
    {"indptr": INT64, "indices": ArraySpec(("int32",)), "data": ArraySpec(("float32",))},
    {"n_passages": (int,)},
    optional={"term_max": ArraySpec(("float32",))},  # since the top-k kernel; older indexes compute it per query
    closed=True,
)


# --- what a manifest must hold ------------------------------------------------------------------------


def _int(value: object, low: int = 0) -> bool:
    return type(value) is int and low <= value < 2**63


def _optional(value: object, kind: type) -> bool:
    return value is None or (isinstance(value, kind) and not isinstance(value, bool))


def _source_problem(source: object, passages: int) -> str | None:
    if not isinstance(source, dict) or not isinstance(source.get("path"), str):
        return "a source without a path"
    span = source.get("passages")
    if not (isinstance(span, list) and len(span) == 2 and all(_int(n) for n in span)):
        return f"source {source['path']!r} has no passage range"
    if not span[0] <= span[1] <= passages:
        return f"source {source['path']!r} has a passage range outside the index"
    if not (_optional(source.get("sha256"), str) and _optional(source.get("skipped"), str)):
        return f"source {source['path']!r} has a malformed checksum or skip reason"
    for key in ("bytes", "mtime_ns", "ctime_ns", "inode", "documents"):
        if not (source.get(key) is None or _int(source.get(key))):
            return f"source {source['path']!r} has a malformed {key!r}"
    counted = source.get("skipped_records", {})  # records left out, by kind of reason
    if not (isinstance(counted, dict) and all(isinstance(k, str) and _int(n) for k, n in counted.items())):
        return f"source {source['path']!r} has malformed skipped-record counts"
    warnings = source.get("warnings", [])  # what reading it warned of, reported again while it is reused
    if not (isinstance(warnings, list) and all(isinstance(w, str) for w in warnings)):
        return f"source {source['path']!r} has malformed warnings"
    return None


def check_manifest(manifest: dict[str, Any]) -> str | None:
    """Why a manifest (already known to be ragcli's format and version) is malformed; None if it is not.
    Every key ragcli reads later is checked here with its type, so a crafted or damaged manifest is
    one clear error up front. Retriever sections are checked by the retrievers that read them."""
    from ragcli.analysis import AnalyzerSettings
    from ragcli.chunking import ChunkSettings

    for name, meta in manifest["files"].items():
        if not (_int(meta.get("bytes")) and isinstance(meta.get("sha256"), str)):
            return f"payload {name!r} has no size or checksum"
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(
        _int(counts.get(k)) for k in ("documents", "passages", "terms", "tokens")
    ):
        return "the manifest's counts are missing or malformed"
    analyzer, chunking = manifest.get("analyzer"), manifest.get("chunking")
    try:
        if not isinstance(analyzer, dict) or not isinstance(chunking, dict):
            raise TypeError
        AnalyzerSettings.from_dict(analyzer)
        if not (_int(chunking.get("size")) and _int(chunking.get("overlap"))):
            raise TypeError
        ChunkSettings(size=chunking["size"], overlap=chunking["overlap"])
    except Exception:  # TypeError, ValueError, or the settings' own InvalidOptionError
        return "the manifest's analyzer or chunking settings are missing or malformed"
    fields = manifest.get("fields")
    if fields is not None and not (isinstance(fields, dict) and all(_optional(v, str) for v in fields.values())):
        return "the manifest's record fields are malformed"
    roots = manifest.get("roots", [])
    if not (isinstance(roots, list) and all(isinstance(r, str) for r in roots)):
        return "the manifest's roots are malformed"
    base = manifest.get("base")
    if base is not None and not (isinstance(base, str) and Path(base).is_absolute()):
        return "the manifest's base folder is malformed"
    selection = manifest.get("selection")
    if selection is not None and not (
        isinstance(selection, dict)
        and all(
            isinstance(selection.get(key, []), list) and all(isinstance(g, str) for g in selection.get(key, []))
            for key in ("include", "exclude")
        )
        and isinstance(selection.get("ignore_files", True), bool)
    ):
        return "the manifest's file selection (ignore files, --include/--exclude) is malformed"
    if not all(_optional(manifest.get(key), str) for key in ("built", "ragcli_version", "sql")):
        return "the manifest's build time, version or SQL query is malformed"
    sources = manifest.get("sources", [])
    if not isinstance(sources, list):
        return "the manifest's sources are malformed"
    for source in sources:
        problem = _source_problem(source, counts["passages"])
        if problem is not None:
            return problem
    return None
