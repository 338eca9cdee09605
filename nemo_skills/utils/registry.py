"""One lazy registry per plugin kind.

Plugins register themselves where they are defined (``@REGISTRY.register("name")``). The registry imports the
modules of its plugin packages only on the first lookup, so building a registry costs nothing at start-up, and
third-party plugins join through an entry-point group.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from nemo_skills.errors import ConfigError

T = TypeVar("T")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


class Registry(Generic[T]):
    def __init__(self, kind: str, packages: Iterable[str], entry_point_group: str | None = None):
        self.kind = kind
        self._packages = tuple(packages)
        self._entry_point_group = entry_point_group
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(item: T) -> T:
            existing = self._items.get(name)
            if existing is not None and existing is not item:
                raise ConfigError(f"{self.kind} {name!r} is registered twice ({existing!r} and {item!r}).")
            self._items[name] = item
            return item

        return decorator

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for package_name in self._packages:
            package = importlib.import_module(package_name)
            for module in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
                importlib.import_module(module.name)
        if self._entry_point_group:
            for entry_point in entry_points(group=self._entry_point_group):
                entry_point.load()

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"Unknown {self.kind} {name!r}.{did_you_mean(name, self._items)} Valid: {', '.join(self.names())}."
            ) from None

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._items
