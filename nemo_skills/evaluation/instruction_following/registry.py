"""Instruction id → checker, one table per benchmark.

A checker is a function ``check(response: str, *, <kwargs>) -> bool`` registered where it is defined with
``@register(benchmark, instruction_id)``. Its keyword-only parameters and their annotations are the instruction's
kwargs: the names the upstream data uses, with types ``int``, ``float``, ``str``, ``list[str]`` or a ``Literal`` of
the allowed strings. `bind` checks a row's kwargs against them once and returns a one-argument checker.

Rows coming from Hugging Face carry every kwarg of every instruction, unused ones as null; nulls are dropped
before checking, as upstream does. Whole-number floats (``5.0``, from parquet) are accepted for ``int``.
An unknown id, an unknown or missing kwarg, or a value of the wrong type raises `InstructionArgumentError` naming
the instruction; nothing is silently passed or failed.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from nemo_skills.errors import InputError
from nemo_skills.utils.registry import did_you_mean

Benchmark = Literal["ifeval", "ifbench"]
Checker = Callable[[str], bool]

# the modules whose import registers each benchmark's checkers (imported on first lookup)
_CHECK_MODULES: dict[str, tuple[str, ...]] = {
    "ifeval": ("nemo_skills.evaluation.instruction_following.checks_ifeval",),
    "ifbench": (
        "nemo_skills.evaluation.instruction_following.checks_ifbench",
        "nemo_skills.evaluation.instruction_following.checks_ifbench_format",
    ),
}


class InstructionArgumentError(InputError):
    """A row names an unknown instruction, or gives an instruction kwargs it cannot take."""


@dataclass(frozen=True)
class Instruction:
    benchmark: str
    id: str
    check: Callable[..., bool]
    params: Mapping[str, inspect.Parameter]
    validate: Callable[[dict[str, Any]], None] | None = None

    def bind(self, kwargs: Mapping[str, Any] | None) -> Checker:
        """The checker with `kwargs` (a row's kwargs for this instruction) bound, after validating them."""
        given = {name: value for name, value in (kwargs or {}).items() if value is not None}
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise self._error(f"does not take {_names(unknown)}")
        missing = [
            name for name, p in self.params.items() if p.default is inspect.Parameter.empty and name not in given
        ]
        if missing:
            raise self._error(f"needs {_names(missing)}")
        bound = {name: self._coerce(name, value) for name, value in given.items()}
        if self.validate is not None:
            try:
                self.validate(bound)
            except ValueError as e:
                raise self._error(str(e)) from None
        return partial(self.check, **bound)

    def _coerce(self, name: str, value: Any) -> Any:
        annotation = self.params[name].annotation
        origin = typing.get_origin(annotation)
        if annotation is int:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
            expected = "a non-negative integer"
        elif annotation is float:
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                return value
            expected = "a non-negative number"
        elif annotation is str:
            if isinstance(value, str):
                return value
            expected = "a string"
        elif origin is list:
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                return value
            expected = "a list of strings"
        elif origin is Literal:
            if value in typing.get_args(annotation):
                return value
            expected = "one of " + ", ".join(repr(choice) for choice in typing.get_args(annotation))
        else:  # pragma: no cover - a checker declared with an unsupported annotation
            raise TypeError(f"{self.id}: unsupported annotation {annotation!r} for {name!r}")
        raise self._error(f"needs {name!r} to be {expected}, got {value!r}")

    def _error(self, what: str) -> InstructionArgumentError:
        takes = ", ".join(self.params) or "no kwargs"
        return InstructionArgumentError(f"{self.benchmark} instruction {self.id!r} {what} (it takes: {takes}).")


def _names(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


_INSTRUCTIONS: dict[str, dict[str, Instruction]] = {benchmark: {} for benchmark in _CHECK_MODULES}
_loaded: set[str] = set()


def register(
    benchmark: Benchmark, instruction_id: str, *, validate: Callable[[dict[str, Any]], None] | None = None
) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    """Register `check` as the checker of `instruction_id`; `validate` may reject bound kwargs with ValueError."""

    def decorator(check: Callable[..., bool]) -> Callable[..., bool]:
        signature = inspect.signature(check, eval_str=True)
        positional = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        if len(positional) != 1:
            raise TypeError(f"checker of {instruction_id!r} must take the response as its only positional argument")
        params = {p.name: p for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY}
        table = _INSTRUCTIONS[benchmark]
        existing = table.get(instruction_id)
        if existing is not None and existing.check is not check:
            raise ValueError(f"{benchmark} instruction {instruction_id!r} is registered twice")
        table[instruction_id] = Instruction(benchmark, instruction_id, check, params, validate)
        return check

    return decorator


def _table(benchmark: str) -> dict[str, Instruction]:
    if benchmark not in _CHECK_MODULES:
        raise InstructionArgumentError(
            f"Unknown instruction-following benchmark {benchmark!r}; valid: {', '.join(_CHECK_MODULES)}."
        )
    if benchmark not in _loaded:
        for module in _CHECK_MODULES[benchmark]:
            importlib.import_module(module)
        _loaded.add(benchmark)
    return _INSTRUCTIONS[benchmark]


def instruction_ids(benchmark: Benchmark) -> list[str]:
    """Every instruction id `benchmark` defines, sorted."""
    return sorted(_table(benchmark))


def get_instruction(benchmark: Benchmark, instruction_id: str) -> Instruction:
    table = _table(benchmark)
    try:
        return table[instruction_id]
    except KeyError:
        raise InstructionArgumentError(
            f"Unknown {benchmark} instruction id {instruction_id!r}.{did_you_mean(instruction_id, table)}"
        ) from None


def bind(benchmark: Benchmark, instruction_id: str, kwargs: Mapping[str, Any] | None) -> Checker:
    """A one-argument checker for `instruction_id` with a row's `kwargs` validated and bound."""
    return get_instruction(benchmark, instruction_id).bind(kwargs)
