"""`ifeval` and `ifbench`: check each instruction of the row on the response, strictly and loosely
(see `nemo_skills.evaluation.instruction_following.grade`). Writes `strict_eval` and `loose_eval`."""

from __future__ import annotations

from typing import Any

from nemo_skills.errors import InputError
from nemo_skills.evaluation.evaluator import EVALUATORS
from nemo_skills.evaluation.evaluator.base import Evaluator, GradingContext, generation_text


class _InstructionFollowingEvaluator(Evaluator):
    benchmark = "ifeval"
    output_fields = ("strict_eval", "loose_eval")

    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        from nemo_skills.evaluation.instruction_following.grade import grade_row

        results = []
        for index, row in enumerate(rows):
            where = f"{context.where}:{index + 1}"
            generation_text(row, context.generation_key, where)  # the field must exist
            try:
                results.append(grade_row(row, generation_key=context.generation_key, benchmark=self.benchmark))
            except InputError as error:
                raise InputError(f"{where}: {error}") from None
        return results


@EVALUATORS.register("ifeval")
class IFEvalEvaluator(_InstructionFollowingEvaluator):
    benchmark = "ifeval"


@EVALUATORS.register("ifbench")
class IFBenchEvaluator(_InstructionFollowingEvaluator):
    benchmark = "ifbench"
