"""The evaluator contract.

An evaluator is a class registered in `EVALUATORS` with a dataclass `Config` (its `++eval_config.*` keys, unknown
keys rejected) and `grade(rows, context) -> list[dict]`: for each row, the fields to add (e.g. `predicted_answer`,
`symbolic_correct`). It must raise rather than guess: a row it cannot grade is an error for the whole run, never a
silent 0. CPU-heavy evaluators spread rows over `context.num_workers` processes.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from nemo_skills.errors import InputError


@dataclass
class NoConfig:
    pass


@dataclass(frozen=True)
class GradingContext:
    generation_key: str = "generation"
    num_workers: int = max(1, os.cpu_count() or 1)
    where: str = ""  # the file being graded, for messages
    data_file: str | None = None  # the prepared split the file was generated from (graders with test files beside it)


class Evaluator(ABC):
    Config: ClassVar[type] = NoConfig
    # fields this evaluator writes; they are removed before grading again so a regrade starts clean
    output_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any):
        self.config = config

    @abstractmethod
    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        """The fields to add to each row, in row order."""


def generation_text(row: dict[str, Any], key: str, where: str) -> str:
    """The row's generation; a missing key is an error (the file was not generated with this key)."""
    if key not in row:
        raise InputError(f"{where}: no `{key}` field in row {str(row)[:120]}; set ++generation_key to the right name.")
    value = row[key]
    return "" if value is None else str(value)
