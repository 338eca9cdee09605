"""`multichoice`: extract the chosen letter (boxed letter, else an `Answer: X` line) and compare it with the
`expected_answer` letter. Writes `predicted_answer` (the letter, or None) and `symbolic_correct`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nemo_skills.errors import InputError
from nemo_skills.evaluation.evaluator import EVALUATORS
from nemo_skills.evaluation.evaluator.base import Evaluator, GradingContext, generation_text
from nemo_skills.evaluation.evaluator.builtin.math import expected_answer


@dataclass
class MultichoiceConfig:
    extract_from_boxed: bool = True
    extract_regex: str = r"(?i)answer\s*[:：]\s*\(?([A-J])\)?"  # used when no boxed letter is found


@EVALUATORS.register("multichoice")
class MultichoiceEvaluator(Evaluator):
    Config = MultichoiceConfig
    output_fields = ("predicted_answer", "symbolic_correct")

    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        from nemo_skills.evaluation.math_grader import extract_choice_letter

        results = []
        for index, row in enumerate(rows):
            expected = expected_answer(row, index, context.where).strip().upper()
            if len(expected) != 1 or not "A" <= expected <= "Z":
                raise InputError(f"{context.where}: row {index + 1}: expected_answer {expected!r} is not a letter.")
            letter = extract_choice_letter(
                generation_text(row, context.generation_key, f"{context.where}:{index + 1}"),
                extract_from_boxed=self.config.extract_from_boxed,
                extract_regex=self.config.extract_regex,
            )
            results.append({"predicted_answer": letter, "symbolic_correct": letter == expected})
        return results
