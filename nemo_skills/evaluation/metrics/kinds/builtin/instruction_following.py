"""`if`: instruction-following accuracy, as IFEval defines it.

* `prompt_strict_accuracy` / `prompt_loose_accuracy`: percent of rows whose every instruction is followed.
* `instruction_strict_accuracy` / `instruction_loose_accuracy`: percent of all instructions followed, pooled over
  rows (a row with three instructions weighs three times a row with one). For N samples each instruction of each
  sample counts once, so pass@1[avg-of-N] is the pooled share over all samples, and pass@k treats every
  instruction as a problem of its own.
* `average_score`: the mean of the four.

No answers are extracted, so there are no majority@k modes and no `no_answer`.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.errors import InputError
from nemo_skills.evaluation.metrics.aggregate import GradedSample
from nemo_skills.evaluation.metrics.kinds import METRIC_KINDS
from nemo_skills.evaluation.metrics.kinds.base import (
    MetricsKind,
    Modes,
    Rows,
    graded_samples,
    merge_scores,
    require_field,
)

LEVELS = ("prompt", "instruction")
MODES = ("strict", "loose")


def _instruction_samples(problems: Rows, mode: str, where: str) -> list[list[GradedSample]]:
    """One 'problem' per instruction: its followed/not-followed verdict in each sample."""
    result: list[list[GradedSample]] = []
    for index, rows in enumerate(problems):
        lists = [row[f"{mode}_eval"]["follow_instruction_list"] for row in rows]
        if len({len(values) for values in lists}) != 1:
            raise InputError(f"{where}: problem {index + 1} has a different number of instructions across samples.")
        for position in range(len(lists[0])):
            result.append([GradedSample(score=float(bool(values[position]))) for values in lists])
    return result


@METRIC_KINDS.register("if")
class InstructionFollowingMetrics(MetricsKind):
    display_order = (
        "num_entries",
        "num_instructions",
        "avg_tokens",
        "gen_seconds",
        "prompt_strict_accuracy",
        "instruction_strict_accuracy",
        "prompt_loose_accuracy",
        "instruction_loose_accuracy",
        "average_score",
    )

    def compute(self, problems: Rows, where: str) -> Modes:
        for mode in MODES:
            require_field(problems, f"{mode}_eval", where, "grade the outputs with eval_type ifeval or ifbench.")
        scored: dict[str, Any] = {}
        for mode in MODES:
            follow_all = lambda row, mode=mode: float(bool(row[f"{mode}_eval"]["follow_all_instructions"]))  # noqa: E731
            scored[f"prompt_{mode}_accuracy"] = graded_samples(problems, follow_all, None, where)
        modes = merge_scores(scored, has_answers=False)
        for mode in MODES:
            instruction_modes = merge_scores(
                {f"instruction_{mode}_accuracy": _instruction_samples(problems, mode, where)}, has_answers=False
            )
            for name, values in instruction_modes.items():
                # counts, truncation and timing belong to the rows (prompt level), not to the instructions
                shared = ("num_entries", "warnings", "truncated", "avg_tokens", "gen_seconds")
                kept = {k: v for k, v in values.items() if k not in shared and not k.endswith("_completed_only")}
                modes[name].update(kept)
        num_instructions = sum(len(rows[0]["strict_eval"]["follow_instruction_list"]) for rows in problems)
        for values in modes.values():
            values["num_instructions"] = num_instructions
            scores = [values[f"{level}_{mode}_accuracy"] for level in LEVELS for mode in MODES]
            values["average_score"] = sum(scores) / len(scores)
        return modes
