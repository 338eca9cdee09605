"""`no-op`: nothing to grade here (a judge grades later, or the benchmark's metrics read the rows directly)."""

from __future__ import annotations

from typing import Any

from nemo_skills.evaluation.evaluator import EVALUATORS
from nemo_skills.evaluation.evaluator.base import Evaluator, GradingContext


@EVALUATORS.register("no-op")
class NoOpEvaluator(Evaluator):
    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        return [{} for _ in rows]
