"""Registries of parts, filled from Python entry points: built-ins register exactly as plugins do.

ragcli declares its own readers, retrievers and generators in its `pyproject.toml` under the entry
point groups `ragcli.readers`, `ragcli.retrievers` and `ragcli.generators`; a third-party package
declares its parts under the same groups (as simonw/llm's plugins do) and they appear without any
change to ragcli. An entry point names an object (`module:attribute`), loaded on first use only, so
a query that needs BM25 never imports the dense retriever's module.

A third-party part that reuses a built-in name is ignored (a plugin cannot silently replace, say,
`bm25`); `ragcli plugins` lists it as shadowed. A third-party part is handed out `Guarded`: what it
raises, or returns against its kind's contract (the kind's `Check`), is a `PluginError` naming it and
its distribution, never ragcli's "internal error"; built-in parts are handed out as they are.

A third-party part that cannot be loaded matters only where it is needed: `all()` (every reader asked
about a file, every retriever a build writes) leaves it out with one warning a process, while `get` of
its name (`-r NAME`) fails with its error; `ragcli plugins` lists it with that error.
"""

from __future__ import annotations

import signal
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property, partial
from importlib.metadata import Distribution, EntryPoint, PackageNotFoundError, distribution, entry_points
from typing import Any, Generic, TypeVar, cast

from ragcli.errors import PluginError, RagcliError, RagcliWarning, unknown_choice

T = TypeVar("T")
DISTRIBUTION = "ragcli"
PLUGIN_HINT = "report it to the plugin's author, or uninstall that package"
LOAD_HINT = "reinstall or remove that package"


@dataclass(frozen=True)
class PluginInfo:
    """One registered part, as `ragcli plugins` lists it."""

    kind: str
    name: str
    module: str
    distribution: str
    builtin: bool
    shadowed: bool = False
    error: str | None = None  # why the part cannot be loaded (None: it loads, or is shadowed and never used)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "builtin": self.builtin,
            "shadowed": self.shadowed,
            "error": self.error,
        }


def _distribution(point: EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    return _distribution_name(dist) if dist is not None else "?"


@cache
def _distribution_name(dist: Distribution) -> str:
    """A distribution's name: its METADATA file parsed once a process, not once for each of its entry
    points (the entry points of one distribution share its object; 14 readers took ~35 ms)."""
    return str(dist.metadata["Name"])


def _origin(kind: str, name: str, point: EntryPoint) -> str:
    """How a third-party part is named in its errors: `plugin reader 'org' from distribution 'org 0.1'`."""
    dist = getattr(point, "dist", None)
    version = f" {dist.version}" if dist is not None else ""
    return f"plugin {kind} {name!r} from distribution '{_distribution(point)}{version}'"


class PluginFault(Exception):
    """What a third-party part did against its kind's contract, said by a `Check` ("returned None,
    not a Document"): turned into a PluginError naming the part."""


# a kind's contract for what its parts' methods return: (the guarded part, the method's name, its result,
# its arguments) → the result to hand on (checked, or itself guarded: a scorer that `open` made); raises
# PluginFault when the result breaks the contract
Check = Callable[["Guarded", str, Any, tuple[Any, ...]], Any]
Passes = tuple[type[BaseException], ...]


class Guarded:
    """A third-party part as a registry hands it out: each method call runs under `call`, its result
    through the kind's `check`; attributes read as the part's, and `isinstance` sees the part's class."""

    def __init__(self, part: object, origin: str, check: Check) -> None:
        self._part = part
        self._origin = origin
        self._check = check

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(reader, UrlReader) and the like ask the part itself
        return type(self._part)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._part, name)  # a missing attribute stays an AttributeError: hasattr asks
        return partial(self._method, name, value) if callable(value) else value

    def _method(self, name: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = self.call(method, *args, **kwargs)
        return self.call(self._check, self, name, result, args)

    def call(
        self, function: Callable[..., Any], *args: Any, passes: Passes = (), where: str = "", **kwargs: Any
    ) -> Any:
        """`function(*args)`, what it raises turned into a PluginError naming the part (and `where`: " on
        a.org"); ragcli's own errors, and the exceptions in `passes` (those the kind's protocol lets a
        part raise: a reader's parse errors), as they are."""
        handed_on: Passes = (RagcliError, *passes)
        try:
            return function(*args, **kwargs)
        except handed_on:
            raise
        except PluginFault as fault:
            raise PluginError(f"{self._origin}{where} {fault}", hint=PLUGIN_HINT) from fault
        except Exception as exc:
            said = f"{self._origin}{where} raised {type(exc).__name__}: {exc}"
            raise PluginError(said, hint=PLUGIN_HINT) from exc

    def items(
        self, items: Iterable[Any], check: Callable[[Any], Any], passes: Passes = (), where: str = ""
    ) -> Iterator[Any]:
        """`items` (an iterable the part returned) one by one, each through `check`, guarded as `call` is."""
        done = object()
        iterator = self.call(iter, items, passes=passes, where=where)
        while (item := self.call(next, iterator, done, passes=passes, where=where)) is not done:
            yield self.call(check, item, where=where)

    def wrap(self, part: object, check: Check) -> Any:
        """`part` (an object this part made: a generator, a scorer) guarded in its name with `check`."""
        return Guarded(part, self._origin, check)


def unchecked(part: Guarded, method: str, result: Any, args: tuple[Any, ...]) -> Any:
    """The `Check` of a kind whose parts' results are not checked: only what they raise is guarded."""
    return result


def _stop_signal_possible() -> bool:
    """Whether a KeyboardInterrupt may come from Ctrl-C or `kill`: ragcli's CLI handles SIGINT and SIGTERM
    with a Python function that leaves both ignored once one came, so while SIGTERM's handler is still
    a function none came and the interrupt is a plugin's own (raised at import); elsewhere (a library
    call, SIGTERM ignored from the start) it cannot be told apart and is taken for a real one."""
    return not callable(signal.getsignal(signal.SIGTERM))


def _load_error(kind: str, name: str, dist: str, said: str) -> PluginError:
    return PluginError(f"{kind} {name!r} from {dist} cannot be loaded ({said})", hint=LOAD_HINT)


class Registry(Generic[T]):
    """The parts of one kind, by name: built-ins first (those named in `order` in that order, the
    others by name), then third-party parts by name. A third-party part is handed out `Guarded` with
    `check`, the kind's contract for its results."""

    def __init__(self, kind: str, group: str, order: tuple[str, ...] = (), check: Check = unchecked) -> None:
        self.kind = kind
        self.group = group
        self.order = order
        self.check = check
        self._loaded: dict[str, T] = {}
        self._broken: dict[str, str] = {}  # third-party parts that cannot be loaded: why
        self._warned: set[str] = set()  # the broken parts a warning said are left out

    def _position(self, point: EntryPoint) -> tuple[bool, int, str]:
        builtin = _distribution(point) == DISTRIBUTION
        preferred = self.order.index(point.name) if builtin and point.name in self.order else len(self.order)
        return (not builtin, preferred, point.name)

    @cached_property
    def _points(self) -> dict[str, tuple[EntryPoint, str]]:
        found = sorted(entry_points(group=self.group), key=self._position)
        points: dict[str, tuple[EntryPoint, str]] = {}
        for point in found:
            points.setdefault(point.name, (point, _distribution(point)))
        if not any(dist == DISTRIBUTION for _, dist in points.values()):
            raise RagcliError(
                f"no built-in {self.kind}s are registered (entry point group {self.group})",
                hint="ragcli must be installed (pip install -e .) so that its entry points exist",
            )
        return points

    @cached_property
    def _builtins(self) -> dict[str, EntryPoint]:
        """ragcli's own parts of this group, from its own distribution alone: a fraction of a millisecond,
        where reading every installed distribution's entry points takes ~50 ms a group. Enough for `get`
        of a built-in name, since a built-in always wins over a plugin of the same name."""
        try:
            points = distribution(DISTRIBUTION).entry_points.select(group=self.group)
        except PackageNotFoundError:  # not installed (run from a source tree): the full scan decides
            return {}
        return {point.name: point for point in points}

    def names(self) -> list[str]:
        return list(self._points)

    def __contains__(self, name: object) -> bool:
        return name in self._builtins or name in self._points

    def get(self, name: str) -> T:
        """The part registered as `name` (loaded on first use), or a usage error listing the names; a
        part that cannot be loaded is a PluginError (exit 15) each time it is asked for."""
        if (error := self.broken(name)) is not None:
            raise error
        if name not in self._loaded:
            if name in self._builtins:
                point, dist = self._builtins[name], DISTRIBUTION
            elif name in self._points:
                point, dist = self._points[name]
            else:
                raise unknown_choice(self.kind, name, self.names())
            part = self._load(name, point, dist)
            builtin = dist == DISTRIBUTION
            self._loaded[name] = (
                part if builtin else cast(T, Guarded(part, _origin(self.kind, name, point), self.check))
            )
        return self._loaded[name]

    def _load(self, name: str, point: EntryPoint, dist: str) -> Any:
        """`point`'s object; what a broken plugin raises at import (sys.exit too) is its PluginError, kept
        so that the import is tried once a process."""
        try:
            if point.pattern.match(point.value) is None:  # `mod:A:B`: importlib's AttributeError says nothing
                raise PluginFault(f"its entry point value {point.value!r} is malformed (write module:attribute)")
            return point.load()
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # a broken plugin is not ragcli's bug
            if isinstance(exc, KeyboardInterrupt) and _stop_signal_possible():
                raise
            said = str(exc) if isinstance(exc, PluginFault) else f"{type(exc).__name__}: {exc}"
            if dist != DISTRIBUTION:
                self._broken[name] = said
            raise _load_error(self.kind, name, dist, said) from None

    def loads(self, name: str, quiet: bool = False) -> bool:
        """Whether part `name` can be loaded; a third-party part that cannot is said in one warning (once a
        process, none when `quiet`) and left out, for a command that does not name it needs it not."""
        try:
            self.get(name)
        except PluginError as error:
            if name not in self._broken:  # a built-in that cannot be loaded stops the command
                raise
            if not quiet and name not in self._warned:
                self._warned.add(name)
                warnings.warn(RagcliWarning(f"{error.message}; left out ({LOAD_HINT})"), stacklevel=2)
            return False
        return True

    def broken(self, name: str) -> PluginError | None:
        """Why third-party part `name` cannot be loaded, once something tried to load it (None: it loads,
        or was never asked for)."""
        said = self._broken.get(name)
        return None if said is None else _load_error(self.kind, name, self._points[name][1], said)

    def usable(self) -> list[str]:
        """The names of the parts that can be loaded (`names` less the broken plugins, each warned of)."""
        return [name for name in self.names() if self.loads(name)]

    def all(self) -> list[T]:
        """Every part that can be loaded: a broken plugin is left out with a warning (`loads`)."""
        return [self.get(name) for name in self.usable()]

    def describe(self) -> list[PluginInfo]:
        """Every registered part, shadowed ones included (for `ragcli plugins`)."""
        infos = []
        for point in entry_points(group=self.group):
            dist = _distribution(point)
            winner = self._points.get(point.name)
            shadowed = winner is None or winner[1] != dist
            builtin = dist == DISTRIBUTION
            error = None if shadowed or builtin or self.loads(point.name, quiet=True) else self._broken[point.name]
            infos.append(
                PluginInfo(
                    self.kind, point.name, point.value.split(":")[0], dist, builtin, shadowed=shadowed, error=error
                )
            )
        position = {name: number for number, name in enumerate(self.names())}
        return sorted(infos, key=lambda i: (not i.builtin, position.get(i.name, len(position)), i.name, i.distribution))
