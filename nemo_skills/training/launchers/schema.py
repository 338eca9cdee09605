"""Hydra overrides checked against a training framework's real configuration, before anything is submitted.

Hydra's rules: `key=value` changes a key that must exist, `+key=value` adds one that must not, `++key=value` sets it
either way, `~key` deletes one that exists. We are stricter with `++` (it is how a misspelt key slips through): a
`++key` must exist, lie under a free-form map of the config (an empty `{}` or a `null`), or be one of the framework's
documented optional keys. New keys are added with `+key=value`. A key that is not there fails at once with the
nearest valid keys.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nemo_skills.errors import ConfigError

Kind = Literal["change", "add", "force", "delete", "group"]
Source = Literal["launcher", "user"]
_PLAIN_VALUE = re.compile(r"^[\w./:@+-]+$")


@dataclass(frozen=True)
class Override:
    text: str  # as written: `++key=value`
    key: str
    kind: Kind
    source: Source
    parsed: Any  # hydra's Override


def hydra_value(value: object) -> str:
    """A value written so that Hydra's override grammar reads it back as this string (paths, names, spaces)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _PLAIN_VALUE.match(text) and text.lower() not in ("true", "false", "null"):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse_overrides(texts: Sequence[str], source: Source, groups: Iterable[str] = ()) -> list[Override]:
    """Hydra's own parser; a key naming a config group (`model_engine=megatron`, `x@pkg=y`) is a group choice."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    groups = set(groups)
    result = []
    for text in texts:
        try:
            (parsed,) = parser.parse_overrides([text])
        except OverrideParseException as error:
            raise ConfigError(f"Cannot parse override {text!r}: {str(error).splitlines()[0]}") from None
        if parsed.is_sweep_override():
            key = parsed.key_or_group
            raise ConfigError(
                f"Override {text!r} has an unquoted comma, which Hydra reads as a sweep; quote it: {key}='...'"
            )
        key = parsed.key_or_group
        if parsed.package is not None or "/" in key or (key in groups and not parsed.is_add()):
            kind: Kind = "group"
        elif parsed.is_delete():
            kind = "delete"
        elif parsed.is_force_add():
            kind = "force"
        elif parsed.is_add():
            kind = "add"
        else:
            kind = "change"
        result.append(Override(text, key, kind, source, parsed))
    return result


class KeyIndex:
    """Every dotted key of a config (maps and leaves; a list is a leaf), and which maps are free-form."""

    def __init__(self, tree: Mapping[str, Any]):
        self.nodes: dict[str, Any] = {}
        self._walk(tree, "")

    def _walk(self, tree: Mapping[str, Any], prefix: str) -> None:
        for key, value in tree.items():
            path = f"{prefix}{key}"
            self.nodes[path] = value
            if isinstance(value, Mapping):
                self._walk(value, path + ".")

    def exists(self, key: str) -> bool:
        return key in self.nodes

    def free_form_parent(self, key: str) -> bool:
        """Whether the nearest existing ancestor of `key` is an empty map or null (any sub-key is accepted)."""
        parts = key.split(".")
        for end in range(len(parts) - 1, 0, -1):
            parent = ".".join(parts[:end])
            if parent in self.nodes:
                value = self.nodes[parent]
                return value is None or (isinstance(value, Mapping) and not value)
        return False

    def add(self, key: str) -> None:
        parts = key.split(".")
        for end in range(1, len(parts)):
            self.nodes.setdefault(".".join(parts[:end]), {"(added)": True})
        self.nodes[key] = "(added)"

    def remove(self, key: str) -> None:
        for path in [p for p in self.nodes if p == key or p.startswith(key + ".")]:
            del self.nodes[path]

    def nearest(self, key: str) -> list[str]:
        """Valid keys close to `key`: first siblings with a close last part, then close full paths."""
        parent, _, leaf = key.rpartition(".")
        siblings = [p for p in self.nodes if p.rpartition(".")[0] == parent]
        close = [
            f"{parent}.{name}" if parent else name
            for name in difflib.get_close_matches(leaf, [s.rpartition(".")[2] for s in siblings], n=3, cutoff=0.6)
        ]
        for path in difflib.get_close_matches(key, list(self.nodes), n=3, cutoff=0.75):
            if path not in close:
                close.append(path)
        return close[:3]


def check_override(
    index: KeyIndex, override: Override, schema: str, optional_keys: frozenset[str] = frozenset()
) -> None:
    """Hydra's rules (stricter for `++`, see the module docstring); raises ConfigError naming the nearest keys."""
    key, kind = override.key, override.kind
    if kind == "group":
        return
    exists = index.exists(key)
    who = "" if override.source == "user" else " (rendered by the launcher)"
    if kind == "add":
        if exists:
            raise ConfigError(
                f"Override {override.text!r}{who} adds {key!r}, but {schema} already has it: "
                f"write {override.text.lstrip('+')!r} to change it."
            )
        if override.source == "launcher" and key not in optional_keys:
            raise ConfigError(f"The launcher adds {key!r}, which is not a documented optional key of {schema}.")
        return
    if exists:
        return
    if kind == "force" and (key in optional_keys or index.free_form_parent(key)):
        return
    close = index.nearest(key)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    add = "" if kind == "delete" else f" To add a new key, write +{override.text.lstrip('+~')}."
    raise ConfigError(f"Unknown key {key!r} in override {override.text!r}{who}: {schema} has no such key.{hint}{add}")


def check_all(
    index: KeyIndex, overrides: Sequence[Override], schema: str, optional_keys: frozenset[str] = frozenset()
) -> None:
    """Check overrides in order; keys that earlier overrides add or delete count for the later ones."""
    for override in overrides:
        check_override(index, override, schema, optional_keys)
        if override.kind in ("add", "force") and not index.exists(override.key):
            index.add(override.key)
        elif override.kind == "delete":
            index.remove(override.key)


def first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
