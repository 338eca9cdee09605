"""`math`: extract the final answer (last `\\boxed{}` by default) and check it against `expected_answer` with the math
grader (fast exact/numeric paths, then symbolic equivalence with math-verify), in worker processes with a hard time
limit per row. Writes `predicted_answer` (None when no answer was found) and `symbolic_correct`; a row whose check
ran out of time is incorrect and flagged `grading_timed_out`, and the run reports how many there were.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Optional

from nemo_skills.errors import InputError
from nemo_skills.evaluation.evaluator import EVALUATORS
from nemo_skills.evaluation.evaluator.base import Evaluator, GradingContext, generation_text

LOG = logging.getLogger(__name__)


@dataclass
class MathEvalConfig:
    extract_from_boxed: bool = True
    extract_regex: str = r"The final answer is (.+)$"  # used when extract_from_boxed is False
    fallback_to_last_number: bool = False  # no boxed answer: take the last number in the text (gsm8k-style)
    take_modulo: Optional[int] = None  # compare integers modulo this
    numeric_precision: int = 15
    timeout_s: float = 10.0  # per row
    use_predicted_answer_key: bool = False  # grade the rows' existing predicted_answer instead of extracting


def grade_math_item(item: tuple[str, str | None, str], config: MathEvalConfig) -> tuple[str | None, bool]:
    """(predicted answer, correct) for (generation, predicted answer if already known, expected answer)."""
    from nemo_skills.evaluation.math_grader import extract_answer, last_number, math_equal

    generation, predicted, expected = item
    if not config.use_predicted_answer_key:
        predicted = extract_answer(
            generation, extract_from_boxed=config.extract_from_boxed, extract_regex=config.extract_regex
        )
        if predicted is None and config.fallback_to_last_number:
            predicted = last_number(generation)
    if predicted is None:
        return None, False
    correct = math_equal(
        expected,
        predicted,
        take_modulo=config.take_modulo,
        numeric_precision=config.numeric_precision,
        timeout_s=config.timeout_s,
    )
    return predicted, bool(correct)


def expected_answer(row: dict[str, Any], index: int, where: str) -> str:
    value = row.get("expected_answer")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"{where}: row {index + 1} has no `expected_answer`; cannot grade it.")
    return str(value)


@EVALUATORS.register("math")
class MathEvaluator(Evaluator):
    Config = MathEvalConfig
    output_fields = ("predicted_answer", "symbolic_correct", "grading_timed_out")

    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        from nemo_skills.evaluation.grading_pool import grade_in_processes

        key = context.generation_key
        items = [
            (
                generation_text(row, key, f"{context.where}:{index + 1}"),
                row.get("predicted_answer"),
                expected_answer(row, index, context.where),
            )
            for index, row in enumerate(rows)
        ]
        function = functools.partial(grade_math_item, config=self.config)
        # the pool's hard limit backs up math-verify's own; give it room for the fast paths and start-up
        outcomes = grade_in_processes(
            function, items, num_workers=context.num_workers, item_timeout_s=self.config.timeout_s + 5.0
        )
        results = []
        timed_out = 0
        for index, outcome in enumerate(outcomes):
            if outcome.error is not None:
                raise RuntimeError(f"{context.where}: grading row {index + 1} failed: {outcome.error}")
            if outcome.timed_out:
                timed_out += 1
                results.append({"predicted_answer": None, "symbolic_correct": False, "grading_timed_out": True})
                continue
            predicted, correct = outcome.value
            results.append({"predicted_answer": predicted, "symbolic_correct": correct})
        if timed_out:
            LOG.warning(
                "%s: %d of %d rows ran out of grading time and count as incorrect.",
                context.where,
                timed_out,
                len(rows),
            )
        return results
