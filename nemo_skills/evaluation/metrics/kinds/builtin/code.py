"""`code`: pass@k of programs graded in the sandbox.

Scores: `is_correct` (the benchmark's base tests pass) and, when every sample has it, `is_correct_plus` (the
EvalPlus plus tests pass too). Modes: `pass@1[avg-of-N]` and `pass@k` (the unbiased estimator); pass@k is the
main figure. There is no majority@k (programs are not answers that can be voted on). `no_answer` is the share of
samples without any code (`code` empty: no fenced block and no text that parses as a program), and for pass@k the
expected share of problems whose k samples all lack code.
"""

from __future__ import annotations

from nemo_skills.errors import InputError
from nemo_skills.evaluation.metrics.kinds import METRIC_KINDS
from nemo_skills.evaluation.metrics.kinds.base import (
    MetricsKind,
    Modes,
    Rows,
    graded_samples,
    merge_scores,
    require_field,
)

SCORES = ("is_correct", "is_correct_plus")


@METRIC_KINDS.register("code")
class CodeMetrics(MetricsKind):
    display_order = (
        "num_entries",
        "avg_tokens",
        "gen_seconds",
        "is_correct",
        "is_correct_plus",
        "no_answer",
        "truncated",
    )

    def compute(self, problems: Rows, where: str) -> Modes:
        hint = "grade the outputs with eval_type code (python -m nemo_skills.evaluation.evaluate ++eval_type=code)."
        require_field(problems, "is_correct", where, hint)
        require_field(problems, "code", where, hint)
        with_plus = sum(1 for rows in problems for row in rows if "is_correct_plus" in row)
        total = sum(len(rows) for rows in problems)
        if 0 < with_plus < total:
            raise InputError(
                f"{where}: only {with_plus} of {total} samples have `is_correct_plus`; some problems lack plus tests "
                "or the files were graded differently. Grade every file the same way."
            )
        present = SCORES if with_plus else SCORES[:1]
        scored = {
            name: graded_samples(problems, lambda row, name=name: float(bool(row[name])), "code", where)
            for name in present
        }
        modes = merge_scores(scored)
        return {mode: values for mode, values in modes.items() if not mode.startswith("majority@")}
