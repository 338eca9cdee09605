"""`math` and `multichoice`: accuracy by `symbolic_correct` (the answer check) and/or `judge_correct` (an LLM judge).

With both present, `both_correct` and `any_correct` are reported too. Answers (`predicted_answer`) vote in
majority@k by equivalence: `math` compares them with the math grader (so `1/2` and `0.5` are one answer),
`multichoice` by letter. `invalid_judgements` (percent of samples whose verdict could not be parsed, counted as
incorrect) is reported whenever a judge ran; a high value means the judge ignored the verdict format.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from nemo_skills.errors import InputError
from nemo_skills.evaluation.metrics.kinds import METRIC_KINDS
from nemo_skills.evaluation.metrics.kinds.base import (
    MetricsKind,
    Modes,
    Rows,
    average_mode_name,
    graded_samples,
    merge_scores,
    percent_of,
)
from nemo_skills.evaluation.metrics.majority import SameAnswer

SCORES = ("symbolic_correct", "judge_correct")


def _present(problems: Rows, field: str, where: str) -> bool:
    counts = sum(1 for rows in problems for row in rows if field in row)
    total = sum(len(rows) for rows in problems)
    if 0 < counts < total:
        raise InputError(f"{where}: only {counts} of {total} samples have `{field}`; grade every file the same way.")
    return counts == total


@lru_cache(maxsize=65536)
def _math_same(a: str, b: str) -> bool:
    from nemo_skills.evaluation.math_grader import math_equal

    return math_equal(a, b)


@METRIC_KINDS.register("math")
class MathMetrics(MetricsKind):
    display_order = (
        "num_entries",
        "avg_tokens",
        "gen_seconds",
        "judge_correct",
        "symbolic_correct",
        "both_correct",
        "any_correct",
        "no_answer",
        "invalid_judgements",
        "truncated",
    )
    same: SameAnswer | None = staticmethod(_math_same)

    def compute(self, problems: Rows, where: str) -> Modes:
        present = [score for score in SCORES if _present(problems, score, where)]
        if not present:
            raise InputError(
                f"{where}: no `symbolic_correct` or `judge_correct` field; grade the outputs first "
                "(python -m nemo_skills.evaluation.evaluate ++eval_type=...)."
            )
        scorers: dict[str, Any] = {name: (lambda row, name=name: float(bool(row[name]))) for name in present}
        if len(present) == 2:
            scorers["both_correct"] = lambda row: float(bool(row["symbolic_correct"]) and bool(row["judge_correct"]))
            scorers["any_correct"] = lambda row: float(bool(row["symbolic_correct"]) or bool(row["judge_correct"]))
        scored = {name: graded_samples(problems, fn, "predicted_answer", where) for name, fn in scorers.items()}
        modes = merge_scores(scored, same=type(self).same)
        if "judge_correct" in present:
            average = modes[average_mode_name(len(problems[0]))]
            average["invalid_judgements"] = percent_of(problems, lambda row: bool(row.get("judge_invalid")))
        return modes


@METRIC_KINDS.register("multichoice")
class MultichoiceMetrics(MathMetrics):
    same = None  # letters: the default comparison (stripped text) is exact
