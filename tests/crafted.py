"""Helpers for tests that tamper with an index on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.testing._private.utils import runstring

from ragcli.store import read_manifest


class WritesMarker:
    """A pickle payload that would create a file when unpickled by an unrestricted loader."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.write_text, (self.marker, "pwned"))


class NumpySubmoduleExec:
    """A gadget reached through a numpy submodule: `numpy.testing._private.utils.runstring` calls
    exec() on its argument, so an unpickler that trusted every `numpy*` global would run this code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (runstring, (f"open({str(self.marker)!r}, 'w').write('pwned')", {}))


class NumpySaveWritesFile:
    """A gadget from numpy's top-level module: `numpy.save(path, array)` writes a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (np.save, (str(self.marker), np.zeros(1)))


NUMPY_GADGETS = {"numpy.testing._private.utils.runstring": NumpySubmoduleExec, "numpy.save": NumpySaveWritesFile}


def payload_file(index_dir: Path, name: str) -> Path:
    """Where the current generation keeps payload `name`."""
    return index_dir / read_manifest(index_dir)["generation"] / name


# --- payloads a restricted unpickler of old admitted: numpy dtypes it should not have ---------------


class PickledDtype:
    """Pickles as `numpy.dtype(spec)` followed by a BUILD with `state`: numpy's own dtype pickle, whose
    state may describe fields lying anywhere (numpy's __setstate__ accepts offsets outside the item)."""

    def __init__(self, spec: str, state: tuple) -> None:  # type: ignore[type-arg]
        self.spec, self.state = spec, state

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (np.dtype, (self.spec, False, True), self.state)


class PickledArray:
    """Pickles as numpy's own array pickle (`_reconstruct`, then BUILD with shape, dtype and raw bytes),
    with any dtype object, real or a `PickledDtype`."""

    def __init__(self, shape: tuple, dtype: object, raw: bytes) -> None:  # type: ignore[type-arg]
        self.shape, self.dtype, self.raw = shape, dtype, raw

    def __reduce__(self):  # type: ignore[no-untyped-def]
        from numpy._core.multiarray import _reconstruct

        return (_reconstruct, (np.ndarray, (0,), b"b"), (1, self.shape, self.dtype, False, self.raw))


def out_of_item_dtype(offset: int = 1 << 32, declared: str = "V8") -> PickledDtype:
    """An 8-byte structured dtype whose one int64 field lies `offset` bytes away: reading it reads
    memory the array does not own (SIGSEGV, or other data copied out)."""
    return PickledDtype(declared, (3, "|", None, ("a",), {"a": (np.dtype("<i8"), offset)}, 8, 1, 16))


def with_out_of_item_dtype(array: np.ndarray, declared: str = "V8") -> PickledArray:
    """`array` (int64 values) re-dressed in `out_of_item_dtype`."""
    data = np.ascontiguousarray(array, dtype=np.int64)
    return PickledArray(data.shape, out_of_item_dtype(declared=declared), data.tobytes())


def billion_laughs(depth: int = 60) -> list:  # type: ignore[type-arg]
    """A list nesting itself twice per level through shared references: a few hundred bytes pickled,
    2**depth leaves for anything that walks it (numpy's asarray does)."""
    nested: list = [1]  # type: ignore[type-arg]
    for _ in range(depth):
        nested = [nested, nested]
    return nested


def replace_payload(index_dir: Path, name: str, payload: dict, *, record: bool = True) -> Path:  # type: ignore[type-arg]
    """Write `payload` (a dict) with a plain pickle over payload `name`, and (record) make the manifest
    agree with its size and SHA-256, as someone crafting an index would: `info --verify` then passes."""
    import pickle

    target = payload_file(index_dir, name)
    target.write_bytes(pickle.dumps(payload, protocol=3))
    if record:
        set_recorded(index_dir, name, target.read_bytes())
    return target


def set_recorded(index_dir: Path, name: str, data: bytes) -> None:
    """Make the manifest record `data` as payload `name` (size and SHA-256)."""
    import hashlib
    import json

    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest_path.write_text(json.dumps(manifest))


def pickled_wrapper(shape: tuple, dtype: object) -> object:  # type: ignore[type-arg]
    """joblib's own array wrapper, with any dtype object (real or a `PickledDtype`): pickled, it is a
    NumpyArrayWrapper created and its state set; `joblib_stream` puts the array's bytes after it."""
    from joblib.numpy_pickle import NumpyArrayWrapper

    wrapper = NumpyArrayWrapper(np.ndarray, shape, "C", dtype, allow_mmap=True)
    wrapper.numpy_array_alignment_bytes = None  # no padding byte before the array's bytes
    return wrapper


def joblib_stream(payload: dict, last: str, wrapper: object, raw: bytes) -> bytes:  # type: ignore[type-arg]
    """A joblib file: `payload` with entry `last` (pickled last) a `wrapper` whose bytes `raw` follow
    its BUILD opcode, as `joblib.dump` lays an array out (without alignment padding)."""
    import pickle
    import pickletools

    items = {k: v for k, v in payload.items() if k != last}
    items[last] = wrapper
    stream = pickle.dumps(items, protocol=3)
    builds = [pos for op, _, pos in pickletools.genops(stream) if op.name == "BUILD"]
    cut = builds[-1] + 1  # the wrapper's BUILD: the last one, its state set after every other array
    return stream[:cut] + raw + stream[cut:]
