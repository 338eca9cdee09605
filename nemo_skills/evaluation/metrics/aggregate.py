"""Aggregate graded samples (N per problem) into evaluation modes, in the reference `metrics.json` layout.

`compute_metrics` returns `{mode: {metric: value}}`; the caller adds the benchmark level. Modes, in this order:

* `pass@1[avg-of-N]` (only when N >= 2; with N == 1 its metrics are reported under `pass@1`, as the reference does):
  the mean over problems of the mean score of their N samples, in percent.
  Beyond the reference it also holds, in percent points, `<score>_std_dev_across_runs` (the sample standard
  deviation, ddof=1, of the N per-seed accuracies, seed j being the j-th sample of every problem) and
  `<score>_std_err_across_runs` (that std / sqrt(N)); both are None when N == 1. It also holds `truncated` (percent
  of samples with `finish_reason == "length"`), `<score>_completed_only` (percent accuracy over the samples that
  were not truncated; None when every sample was truncated) and `warnings` (a list of messages, e.g. truncation
  above 5%).
* `majority@k` for each reported k >= 2: see `majority.py`; votes among the first k samples of each problem.
* `pass@k` for each reported k: per problem the unbiased estimator (binary scores) or the expected best score of a
  random k-subset (partial credit), see `pass_at_k.py`; averaged over problems, in percent.

Reported k: by default the powers of two up to N, plus N itself (`default_ks`): e.g. N=6 gives 1, 2, 4, 6. Pass
`ks=range(1, N + 1)` for every k.

Every mode has `num_entries` (problems), the score (named by `score_name`, percent), `no_answer` (percent, never
above 100), plus `avg_tokens` when any sample reports `num_generated_tokens` and `gen_seconds` when any sample has
both timestamps. `no_answer` denominators:

* `pass@1[avg-of-N]`: the share of all P*N samples without an answer.
* `pass@k`: the share of problems whose k-subset holds no answer at all, in expectation over random k-subsets (as
  for the score): the mean over problems of C(m, k) / C(N, k), m being the problem's samples without an answer.
  For k = N it is exactly the share of problems where every sample is missing; for k = 1 it equals the sample share.
* `majority@k`: the share of problems whose first k samples hold no valid answer (those score 0).

Set `has_answers=False` for benchmarks without extracted answers (e.g. instruction following): majority modes and
`no_answer` are then left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nemo_skills.evaluation.metrics.majority import SameAnswer, is_missing_answer, majority_vote
from nemo_skills.evaluation.metrics.pass_at_k import pass_at_k_from_scores

TRUNCATION_WARNING_THRESHOLD = 5.0  # percent of samples with finish_reason == "length"
TRUNCATED_FINISH_REASON = "length"


@dataclass(frozen=True, slots=True)
class GradedSample:
    score: float  # 0/1, or partial credit in [0, 1]
    answer: str | None = None  # the extracted answer; None or blank means "no answer"
    finish_reason: str | None = None  # "length" means truncated at the token limit
    num_generated_tokens: int | None = None
    generation_start_time: float | None = None  # seconds since the epoch
    generation_end_time: float | None = None


def default_ks(n: int) -> list[int]:
    """The powers of two up to n, plus n: 1, 2, 4, ..., n."""
    if n < 1:
        raise ValueError(f"Need at least one sample per problem, got {n}.")
    ks = [1 << i for i in range(n.bit_length()) if 1 << i <= n]
    if ks[-1] != n:
        ks.append(n)
    return ks


def _percent(values: Sequence[float]) -> float:
    return 100.0 * math.fsum(values) / len(values)


def _check_problems(problems: Sequence[Sequence[GradedSample]]) -> int:
    if not problems:
        raise ValueError("No problems to compute metrics for.")
    n = len(problems[0])
    if n < 1:
        raise ValueError("Problem 0 has no samples; every problem needs at least one.")
    for index, samples in enumerate(problems):
        if len(samples) != n:
            raise ValueError(
                f"Problem {index} has {len(samples)} samples but problem 0 has {n}: every problem needs the same "
                "number of samples (one per seed); check for missing or partial output files."
            )
        for position, sample in enumerate(samples):
            score = sample.score  # bool is an int: True/False count as 1/0; NaN fails the range check
            if not isinstance(score, int | float) or not 0.0 <= float(score) <= 1.0:
                raise ValueError(f"Problem {index}, sample {position}: the score must lie in [0, 1], not {score!r}.")
    return n


def _shared_metrics(problems: Sequence[Sequence[GradedSample]]) -> dict[str, Any]:
    shared: dict[str, Any] = {"num_entries": len(problems)}
    samples = [sample for samples in problems for sample in samples]
    tokens = [s.num_generated_tokens for s in samples if s.num_generated_tokens is not None]
    if tokens:
        shared["avg_tokens"] = round(math.fsum(tokens) / len(tokens))
    starts = [s.generation_start_time for s in samples if s.generation_start_time is not None]
    ends = [s.generation_end_time for s in samples if s.generation_end_time is not None]
    if starts and ends:
        shared["gen_seconds"] = round(max(ends) - min(starts))
    return shared


def _average_mode(
    problems: Sequence[Sequence[GradedSample]], n: int, score_name: str, has_answers: bool
) -> dict[str, Any]:
    samples = [sample for samples in problems for sample in samples]
    scores = [float(s.score) for s in samples]
    metrics: dict[str, Any] = {score_name: _percent(scores)}
    if has_answers:
        metrics["no_answer"] = _percent([1.0 if is_missing_answer(s.answer) else 0.0 for s in samples])

    if n >= 2:
        per_run = [_percent([float(problem[j].score) for problem in problems]) for j in range(n)]
        mean = math.fsum(per_run) / n
        std = math.sqrt(math.fsum((value - mean) ** 2 for value in per_run) / (n - 1))
        metrics[f"{score_name}_std_dev_across_runs"] = std
        metrics[f"{score_name}_std_err_across_runs"] = std / math.sqrt(n)
    else:
        metrics[f"{score_name}_std_dev_across_runs"] = None
        metrics[f"{score_name}_std_err_across_runs"] = None

    truncated = [s.finish_reason == TRUNCATED_FINISH_REASON for s in samples]
    truncated_share = _percent([1.0 if flag else 0.0 for flag in truncated])
    completed = [score for score, flag in zip(scores, truncated, strict=True) if not flag]
    metrics["truncated"] = truncated_share
    metrics[f"{score_name}_completed_only"] = _percent(completed) if completed else None

    warnings: list[str] = []
    if truncated_share > TRUNCATION_WARNING_THRESHOLD:
        completed_text = f"{metrics[f'{score_name}_completed_only']:.2f}%" if completed else "n/a"
        warnings.append(
            f"WARNING: {truncated_share:.2f}% of generations ({sum(truncated)} of {len(samples)}) were truncated at "
            f"the token limit (finish_reason == 'length'), above the {TRUNCATION_WARNING_THRESHOLD:g}% threshold; "
            f"{score_name} is likely understated (completed-only {score_name}: {completed_text}). "
            "Raise the generation token limit."
        )  # printed under the metrics table (summarize), not logged here as well
    metrics["warnings"] = warnings
    return metrics


def _pass_at_k_mode(
    problems: Sequence[Sequence[GradedSample]], n: int, k: int, score_name: str, has_answers: bool
) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        score_name: _percent([pass_at_k_from_scores([s.score for s in problem], k) for problem in problems])
    }
    if has_answers:
        total = math.comb(n, k)
        missing_counts = [sum(1 for s in problem if is_missing_answer(s.answer)) for problem in problems]
        metrics["no_answer"] = _percent([math.comb(m, k) / total for m in missing_counts])
    return metrics


def _majority_mode(
    problems: Sequence[Sequence[GradedSample]], k: int, score_name: str, same: SameAnswer | None
) -> dict[str, Any]:
    votes = [majority_vote([s.answer for s in problem], [s.score for s in problem], k, same) for problem in problems]
    return {
        score_name: _percent([vote.score for vote in votes]),
        "no_answer": _percent([1.0 if vote.no_answer else 0.0 for vote in votes]),
    }


def compute_metrics(
    problems: Sequence[Sequence[GradedSample]],
    *,
    score_name: str = "accuracy",
    ks: Sequence[int] | None = None,
    same: SameAnswer | None = None,
    has_answers: bool = True,
) -> dict[str, dict[str, Any]]:
    """All modes for `problems[i][j]` = the j-th sample (seed) of problem i; see the module docstring."""
    n = _check_problems(problems)
    ks = sorted(set(default_ks(n) if ks is None else ks))
    for k in ks:
        if not 1 <= k <= n:
            raise ValueError(f"Cannot report pass@{k}/majority@{k} with {n} samples per problem (need 1 <= k <= {n}).")
    shared = _shared_metrics(problems)

    result: dict[str, dict[str, Any]] = {}
    average_name = f"pass@1[avg-of-{n}]" if n >= 2 else "pass@1"
    result[average_name] = {**shared, **_average_mode(problems, n, score_name, has_answers)}
    if has_answers:
        for k in ks:
            if k >= 2:
                result[f"majority@{k}"] = {**shared, **_majority_mode(problems, k, score_name, same)}
    if n >= 2:
        for k in ks:
            result[f"pass@{k}"] = {**shared, **_pass_at_k_mode(problems, n, k, score_name, has_answers)}
    return result
