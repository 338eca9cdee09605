"""Parse judge verdicts strictly. A verdict that does not follow the judge prompt's format is *invalid*, recorded
as such (and counted by the metrics), never read as a pass; a missing verdict field fails the run.

* `judge` (yes/no judges such as judge/math): the text after the last `Judgement:` must start with yes or no.
  Writes `judge_correct` (bool, False when invalid) and `judge_invalid`.
* `simpleqa-judge`: the verdict is a single letter A (correct), B (incorrect) or C (not attempted), optionally
  after `Grade:`. Writes `judge_grade` ("correct" | "incorrect" | "not_attempted" | "invalid").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nemo_skills.errors import InputError
from nemo_skills.evaluation.evaluator import EVALUATORS
from nemo_skills.evaluation.evaluator.base import Evaluator, GradingContext

_YES_NO = re.compile(r"\W*(yes|no)\b", re.IGNORECASE)
_GRADE = re.compile(r"^\W*(?:grade\s*[:=]\s*)?\W*([ABC])\b\W*$", re.IGNORECASE | re.MULTILINE)
SIMPLEQA_GRADES = {"A": "correct", "B": "incorrect", "C": "not_attempted"}


def parse_yes_no_judgement(text: str | None) -> bool | None:
    """True/False from the text after the last `Judgement:`; None when absent or not starting with yes/no."""
    if not text or "judgement:" not in text.lower():
        return None
    tail = text[text.lower().rindex("judgement:") + len("judgement:") :]
    match = _YES_NO.match(tail)
    return None if match is None else match.group(1).lower() == "yes"


def parse_simpleqa_grade(text: str | None) -> str:
    """The last line that is only a grade letter (optionally `Grade: X`), as a SimpleQA outcome, else "invalid"."""
    matches = _GRADE.findall(text or "")
    return SIMPLEQA_GRADES[matches[-1].upper()] if matches else "invalid"


def _verdicts(rows: list[dict[str, Any]], key: str, where: str) -> list[str | None]:
    missing = [index for index, row in enumerate(rows) if key not in row]
    if missing:
        raise InputError(
            f"{where}: {len(missing)} row(s) (first: row {missing[0] + 1}) have no `{key}` field; did the judge "
            "job run on this file?"
        )
    return [None if row[key] is None else str(row[key]) for row in rows]


@dataclass
class JudgeConfig:
    judgement_key: str = "judgement"


@EVALUATORS.register("judge")
class YesNoJudgeEvaluator(Evaluator):
    Config = JudgeConfig
    output_fields = ("judge_correct", "judge_invalid")

    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        results = []
        for verdict in _verdicts(rows, self.config.judgement_key, context.where):
            parsed = parse_yes_no_judgement(verdict)
            results.append({"judge_correct": bool(parsed), "judge_invalid": parsed is None})
        return results


@EVALUATORS.register("simpleqa-judge")
class SimpleQAJudgeEvaluator(Evaluator):
    Config = JudgeConfig
    output_fields = ("judge_grade",)

    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        verdicts = _verdicts(rows, self.config.judgement_key, context.where)
        return [{"judge_grade": parse_simpleqa_grade(verdict)} for verdict in verdicts]


@EVALUATORS.register("answer-judgement")
class AnswerJudgementEvaluator(Evaluator):
    """The model under test is the judge: its generation's verdict is compared with `expected_judgement`.
    Writes `judgement_verdict` ("yes" | "no" | None when unparsable) and `judgement_correct`."""

    output_fields = ("judgement_verdict", "judgement_correct", "expected_verdict")

    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        results = []
        for index, (row, text) in enumerate(
            zip(rows, _verdicts(rows, context.generation_key, context.where), strict=True)
        ):
            expected = row.get("expected_judgement")
            parsed_expected = expected if isinstance(expected, bool) else parse_yes_no_judgement(str(expected or ""))
            if parsed_expected is None:
                raise InputError(
                    f"{context.where}: row {index + 1}: expected_judgement {expected!r} is not a yes/no judgement."
                )
            verdict = parse_yes_no_judgement(text)
            results.append(
                {
                    "judgement_verdict": None if verdict is None else ("yes" if verdict else "no"),
                    "judgement_correct": verdict is not None and verdict == parsed_expected,
                    "expected_verdict": "yes" if parsed_expected else "no",
                }
            )
        return results


_ARENA_LABEL = re.compile(r"\[\[([AB])(>>|>|=)([AB])\]\]")
# the evaluated model's outcome for a verdict when the model is assistant B (judge/arena) or A (swapped)
ARENA_OUTCOMES = ("strong_win", "win", "tie", "loss", "strong_loss", "invalid")


def parse_arena_outcome(text: str | None, model_is: str) -> str:
    """The model's outcome from the last `[[X>Y]]`-style label; "invalid" when there is none or it is malformed."""
    matches = _ARENA_LABEL.findall(text or "")
    if not matches:
        return "invalid"
    left, relation, right = matches[-1]
    if left == right:
        return "invalid"
    if relation == "=":
        return "tie"
    winner = left  # `A>B` and `A>>B`: the left one is better
    strength = "strong_" if relation == ">>" else ""
    return f"{strength}win" if winner == model_is else f"{strength}loss"


@dataclass
class ArenaJudgeConfig:
    judgement_key: str = "judgement"  # the game with the baseline as A and the model as B
    swapped_judgement_key: str = "judgement_swapped"  # the model as A, the baseline as B


@EVALUATORS.register("arena-judge")
class ArenaJudgeEvaluator(Evaluator):
    """Writes `arena_outcomes`: the model's outcome in each game against the baseline (see ARENA_OUTCOMES)."""

    Config = ArenaJudgeConfig
    output_fields = ("arena_outcomes",)

    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        games = _verdicts(rows, self.config.judgement_key, context.where)
        swapped = _verdicts(rows, self.config.swapped_judgement_key, context.where)
        return [
            {"arena_outcomes": [parse_arena_outcome(first, "B"), parse_arena_outcome(second, "A")]}
            for first, second in zip(games, swapped, strict=True)
        ]
