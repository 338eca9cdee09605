"""The metrics-type contract and the helpers every type shares.

A type turns `problems[i][j]` (row i of seed file j; every file holds the same problems in the same order) into
modes. Scores are computed by `nemo_skills.evaluation.metrics.compute_metrics`, one call per score, and merged:
each mode then holds every score (percent), `no_answer`, the counts, and for the average mode the spread across
seeds both as flat `<score>_std_dev_across_runs` / `<score>_std_err_across_runs` (percent points) and, for scripts
written against the reference, as `<score>_statistics` {avg, std_dev_across_runs, avg_sample_std_dev,
std_err_across_runs} in fractions.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from nemo_skills.errors import InputError
from nemo_skills.evaluation.metrics.aggregate import GradedSample, compute_metrics
from nemo_skills.evaluation.metrics.loader import sample_from_row
from nemo_skills.evaluation.metrics.majority import SameAnswer
from nemo_skills.utils.jsonl import read_jsonl_rows

Rows = list[list[dict[str, Any]]]  # problems x seeds
Modes = dict[str, dict[str, Any]]


class MetricsKind(ABC):
    # metrics printed first, in this order; the rest follow alphabetically
    display_order: ClassVar[tuple[str, ...]] = ("num_entries", "avg_tokens", "gen_seconds")

    @abstractmethod
    def compute(self, problems: Rows, where: str) -> Modes:
        """Every mode's metrics for `problems[i][j]` (row i of seed j)."""


def load_problem_rows(paths: Sequence[Path], max_samples: int | None = None) -> Rows:
    """`result[i][j]` is row i of `paths[j]`; files must have equal lengths (one seed each, same problems)."""
    if not paths:
        raise InputError("No output files to compute metrics from.")
    files = [(path, read_jsonl_rows(path)) for path in paths]
    first_path, first_rows = files[0]
    for path, rows in files[1:]:
        if len(rows) != len(first_rows):
            raise InputError(
                f"{path} has {len(rows)} rows but {first_path} has {len(first_rows)}: every seed's output must cover "
                "the same problems; finish the incomplete generation or leave its file out."
            )
    count = len(first_rows) if max_samples is None or max_samples < 0 else min(max_samples, len(first_rows))
    return [[rows[index].data for _, rows in files] for index in range(count)]


def graded_samples(
    problems: Rows, score: Callable[[dict[str, Any]], float], answer_key: str | None, where: str
) -> list[list[GradedSample]]:
    result = []
    for index, rows in enumerate(problems):
        samples = []
        for row in rows:
            data = {**row, "__score": score(row)}
            samples.append(sample_from_row(data, "__score", answer_key, f"{where} problem {index + 1}"))
        result.append(samples)
    return result


def statistics(problems: list[list[GradedSample]]) -> dict[str, float] | None:
    """The reference's `<score>_statistics` (fractions), for N >= 2 samples per problem."""
    n = len(problems[0])
    if n < 2:
        return None
    per_run = [math.fsum(problem[j].score for problem in problems) / len(problems) for j in range(n)]
    avg = math.fsum(per_run) / n
    std = math.sqrt(math.fsum((value - avg) ** 2 for value in per_run) / (n - 1))
    sample_stds = []
    for problem in problems:
        mean = math.fsum(s.score for s in problem) / n
        sample_stds.append(math.sqrt(math.fsum((s.score - mean) ** 2 for s in problem) / (n - 1)))
    return {
        "avg": avg,
        "std_dev_across_runs": std,
        "avg_sample_std_dev": math.fsum(sample_stds) / len(sample_stds),
        "std_err_across_runs": std / math.sqrt(n),
    }


def average_mode_name(num_samples: int) -> str:
    return f"pass@1[avg-of-{num_samples}]" if num_samples >= 2 else "pass@1"


def merge_scores(
    scored: dict[str, list[list[GradedSample]]], *, same: SameAnswer | None = None, has_answers: bool = True
) -> Modes:
    """compute_metrics for each named score, merged into one dict of modes (warnings kept once, in order)."""
    modes: Modes = {}
    for score_name, samples in scored.items():
        computed = compute_metrics(samples, score_name=score_name, same=same, has_answers=has_answers)
        for mode, values in computed.items():
            target = modes.setdefault(mode, {})
            warnings = target.pop("warnings", [])
            warnings += [w for w in values.pop("warnings", []) if w not in warnings]
            target.update(values)
            if mode == average_mode_name(len(samples[0])):
                target["warnings"] = warnings
                stats = statistics(samples)
                if stats is not None:
                    target[f"{score_name}_statistics"] = stats
    return modes


def percent_of(problems: Rows, flag: Callable[[dict[str, Any]], bool]) -> float:
    rows = [row for seeds in problems for row in seeds]
    return 100.0 * sum(1 for row in rows if flag(row)) / len(rows)


def require_field(problems: Rows, field: str, where: str, hint: str) -> None:
    for index, rows in enumerate(problems):
        for seed, row in enumerate(rows):
            if field not in row:
                raise InputError(f"{where}: problem {index + 1} (file {seed + 1}) has no `{field}` field; {hint}")
