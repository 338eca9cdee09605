"""Read graded output files (one per seed, rows in the same problem order) into `GradedSample` lists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nemo_skills.errors import InputError
from nemo_skills.evaluation.metrics.aggregate import GradedSample
from nemo_skills.utils.jsonl import read_jsonl_rows


def _optional_number(value: Any, where: str, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: `{field}` must be a number, got {value!r}.")
    return float(value)


def sample_from_row(row: dict[str, Any], score_key: str, answer_key: str | None, where: str) -> GradedSample:
    """One graded row as a sample. A missing or non-numeric score is an error, never a silent 0."""
    if score_key not in row:
        raise InputError(f"{where}: no `{score_key}` field; was this file graded (run the evaluation step first)?")
    score = row[score_key]
    if not isinstance(score, int | float) or not 0.0 <= float(score) <= 1.0:
        raise InputError(f"{where}: `{score_key}` must be a boolean or a number in [0, 1], got {score!r}.")
    answer = None if answer_key is None else row.get(answer_key)
    if answer is not None and not isinstance(answer, str):
        answer = str(answer)
    tokens = row.get("num_generated_tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0):
        raise InputError(f"{where}: `num_generated_tokens` must be a non-negative integer, got {tokens!r}.")
    finish_reason = row.get("finish_reason")
    return GradedSample(
        score=float(score),
        answer=answer,
        finish_reason=None if finish_reason is None else str(finish_reason),
        num_generated_tokens=tokens,
        generation_start_time=_optional_number(row.get("generation_start_time"), where, "generation_start_time"),
        generation_end_time=_optional_number(row.get("generation_end_time"), where, "generation_end_time"),
    )


def load_graded_samples(
    paths: Sequence[str | Path], score_key: str, answer_key: str | None = "predicted_answer"
) -> list[list[GradedSample]]:
    """`result[i][j]` is row i of `paths[j]`: each file holds one seed, and every file must have the same rows."""
    if not paths:
        raise InputError("No output files to compute metrics from.")
    files = [(Path(path), read_jsonl_rows(path)) for path in paths]
    first_path, first_rows = files[0]
    for path, rows in files[1:]:
        if len(rows) != len(first_rows):
            raise InputError(
                f"{path} has {len(rows)} rows but {first_path} has {len(first_rows)}: every seed's output must cover "
                "the same problems; rerun the unfinished generation or pass only complete files."
            )
    problems: list[list[GradedSample]] = []
    for index in range(len(first_rows)):
        problems.append(
            [
                sample_from_row(rows[index].data, score_key, answer_key, f"{path}:{rows[index].line_number}")
                for path, rows in files
            ]
        )
    return problems
