"""Reading generation outputs for training data: globs expanded, every row tagged with its `file:line`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.utils.jsonl import read_jsonl_rows
from nemo_skills.utils.paths import expand_patterns

CORRECTNESS_FIELDS = {"symbolic": ("symbolic_correct",), "judge": ("judge_correct",)}
CORRECTNESS_MODES = ("symbolic", "judge", "any", "both")


@dataclass
class SourceRow:
    where: str  # `path:line`, for messages
    data: dict[str, Any]


def expand_inputs(patterns: Sequence[str]) -> list[Path]:
    """Files named by paths or glob patterns (each pattern's matches sorted), without repeats."""
    if not patterns:
        raise ConfigError("No input files given: pass generation outputs, e.g. 'results/output-rs*.jsonl'.")
    return expand_patterns(patterns)


def read_rows(files: Sequence[Path]) -> list[SourceRow]:
    return [SourceRow(f"{path}:{row.line_number}", row.data) for path in files for row in read_jsonl_rows(path)]


def required_text(row: SourceRow, key: str, fix: str) -> str:
    """The row's `key` as text; a missing, null or non-text value is an error naming the row and the fix."""
    value = row.data.get(key)
    if value is None:
        raise InputError(f"{row.where}: no `{key}` field. {fix}")
    if isinstance(value, dict | list):
        raise InputError(f"{row.where}: `{key}` must be text or a number, got {type(value).__name__}. {fix}")
    return str(value)


def check_correctness_mode(mode: str) -> None:
    if mode not in CORRECTNESS_MODES:
        raise ConfigError(f"Unknown correctness mode {mode!r}; choose one of {', '.join(CORRECTNESS_MODES)}.")


def is_correct(row: SourceRow, mode: str) -> bool:
    """`symbolic`: `symbolic_correct`; `judge`: `judge_correct`; `any`/`both`: either/both of them."""
    fields = ("symbolic_correct", "judge_correct") if mode in ("any", "both") else CORRECTNESS_FIELDS[mode]
    present = [name for name in fields if name in row.data]
    needed = fields if mode == "both" else present or fields
    missing = [name for name in needed if name not in row.data]
    if missing or not present:
        names = " and ".join(f"`{name}`" for name in (missing or fields))
        raise InputError(
            f"{row.where}: no {names} field to judge correctness by; grade the outputs first "
            f"(ns eval, or python -m nemo_skills.evaluation.evaluate) or choose another correctness mode."
        )
    verdicts = [bool(row.data[name]) for name in present]
    return all(verdicts) if mode == "both" else any(verdicts)
