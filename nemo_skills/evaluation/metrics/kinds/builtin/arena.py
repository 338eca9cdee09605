"""`arena`: the model's score against a fixed baseline from pairwise judge verdicts (Arena-Hard).

Each answer is judged twice, once in each order. Every game is a battle: a win scores 1, a tie 1/2, a loss 0, and
decisive verdicts (`>>`) count three times, as Arena-Hard weighs them. With only the model and the baseline, the
Bradley-Terry fit Arena-Hard uses reduces to this weighted win rate, so `score` is it, in percent; `ci95_low` /
`ci95_high` come from 1000 bootstrap resamples of the problems (fixed seed: the same files give the same
interval). Games whose verdict could not be parsed are left out and counted in `invalid_scores`.
"""

from __future__ import annotations

import random

from nemo_skills.errors import InputError
from nemo_skills.evaluation.evaluator.builtin.judge import ARENA_OUTCOMES
from nemo_skills.evaluation.metrics.kinds import METRIC_KINDS
from nemo_skills.evaluation.metrics.kinds.base import MetricsKind, Modes, Rows, average_mode_name, require_field

WEIGHTS = {"strong_win": (1.0, 3), "win": (1.0, 1), "tie": (0.5, 1), "loss": (0.0, 1), "strong_loss": (0.0, 3)}
BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 0


def _totals(outcomes: list[str]) -> tuple[float, int]:
    points, weight = 0.0, 0
    for outcome in outcomes:
        if outcome in WEIGHTS:
            value, times = WEIGHTS[outcome]
            points += value * times
            weight += times
    return points, weight


def weighted_win_rate(per_problem: list[list[str]]) -> float | None:
    points, weight = _totals([outcome for outcomes in per_problem for outcome in outcomes])
    return None if weight == 0 else 100.0 * points / weight


@METRIC_KINDS.register("arena")
class ArenaMetrics(MetricsKind):
    display_order = ("num_entries", "avg_tokens", "gen_seconds", "score", "ci95_low", "ci95_high", "invalid_scores")

    def compute(self, problems: Rows, where: str) -> Modes:
        require_field(problems, "arena_outcomes", where, "run the arena judge and grade it (eval_type arena-judge).")
        per_problem: list[list[str]] = []
        for index, rows in enumerate(problems):
            outcomes = [outcome for row in rows for outcome in row["arena_outcomes"]]
            unknown = [o for o in outcomes if o not in ARENA_OUTCOMES]
            if unknown:
                raise InputError(f"{where}: problem {index + 1} has unknown arena outcomes {unknown}.")
            per_problem.append(outcomes)
        score = weighted_win_rate(per_problem)
        if score is None:
            raise InputError(f"{where}: every judge verdict is invalid; check the judge's output format.")
        rng = random.Random(BOOTSTRAP_SEED)
        samples = []
        for _ in range(BOOTSTRAP_ROUNDS):
            resampled = [per_problem[rng.randrange(len(per_problem))] for _ in per_problem]
            value = weighted_win_rate(resampled)
            if value is not None:
                samples.append(value)
        samples.sort()
        metrics = {
            "num_entries": len(problems),
            "score": score,
            "ci95_low": samples[int(0.025 * (len(samples) - 1))],
            "ci95_high": samples[int(round(0.975 * (len(samples) - 1)))],
            "invalid_scores": sum(outcomes.count("invalid") for outcomes in per_problem),
        }
        tokens = [row["num_generated_tokens"] for rows in problems for row in rows if "num_generated_tokens" in row]
        if tokens:
            metrics["avg_tokens"] = round(sum(tokens) / len(tokens))
        return {average_mode_name(len(problems[0])): metrics}
