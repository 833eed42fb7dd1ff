"""Registries of parts, filled from Python entry points: built-ins register exactly as plugins do.

ragcli declares its own readers, retrievers and generators in its `pyproject.toml` under the entry
point groups `ragcli.readers`, `ragcli.retrievers` and `ragcli.generators`; a third-party package
declares its parts under the same groups (as simonw/llm's plugins do) and they appear without any
change to ragcli. An entry point names an object (`module:attribute`), loaded on first use only, so
a query that needs BM25 never imports the dense retriever's module.

A third-party part that reuses a built-in name is ignored (a plugin cannot silently replace, say,
`bm25`); `ragcli plugins` lists it as shadowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from importlib.metadata import Distribution, EntryPoint, PackageNotFoundError, distribution, entry_points
from typing import Any, Generic, TypeVar

from ragcli.errors import RagcliError, unknown_choice

T = TypeVar("T")
DISTRIBUTION = "ragcli"


@dataclass(frozen=True)
class PluginInfo:
    """One registered part, as `ragcli plugins` lists it."""

    kind: str
    name: str
    module: str
    distribution: str
    builtin: bool
    shadowed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "builtin": self.builtin,
            "shadowed": self.shadowed,
        }


def _distribution(point: EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    return _distribution_name(dist) if dist is not None else "?"


@cache
def _distribution_name(dist: Distribution) -> str:
    """A distribution's name: its METADATA file parsed once a process, not once for each of its entry
    points (the entry points of one distribution share its object; 14 readers took ~35 ms)."""
    return str(dist.metadata["Name"])


class Registry(Generic[T]):
    """The parts of one kind, by name: built-ins first (those named in `order` in that order, the
    others by name), then third-party parts by name."""

    def __init__(self, kind: str, group: str, order: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.group = group
        self.order = order
        self._loaded: dict[str, T] = {}

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
        """The part registered as `name` (loaded on first use), or a usage error listing the names."""
        if name not in self._loaded:
            if name in self._builtins:
                point, dist = self._builtins[name], DISTRIBUTION
            elif name in self._points:
                point, dist = self._points[name]
            else:
                raise unknown_choice(self.kind, name, self.names())
            try:
                self._loaded[name] = point.load()
            except Exception as exc:  # a broken plugin must not look like a bug in ragcli
                raise RagcliError(
                    f"{self.kind} {name!r} from {dist} cannot be loaded ({type(exc).__name__}: {exc})",
                    hint="reinstall or remove that package",
                ) from None
        return self._loaded[name]

    def all(self) -> list[T]:
        return [self.get(name) for name in self.names()]

    def describe(self) -> list[PluginInfo]:
        """Every registered part, shadowed ones included (for `ragcli plugins`)."""
        infos = []
        for point in entry_points(group=self.group):
            dist = _distribution(point)
            winner = self._points.get(point.name)
            infos.append(
                PluginInfo(
                    self.kind,
                    point.name,
                    point.value.split(":")[0],
                    dist,
                    dist == DISTRIBUTION,
                    shadowed=winner is None or winner[1] != dist,
                )
            )
        position = {name: number for number, name in enumerate(self.names())}
        return sorted(infos, key=lambda i: (not i.builtin, position.get(i.name, len(position)), i.name, i.distribution))
