"""MATH from the Qwen2.5-Math evaluation data (`math/{test,train}.jsonl`), the copy the reference uses.

Rows carry `problem`, `solution`, `subject`, `level` (`Level 3`), `unique_id` and usually `answer`; when `answer`
is missing the expected answer is the last `\\boxed{}` of the solution.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import clean_answer, field, last_boxed, level_number, qwen_eval_rows, row_error
from nemo_skills.dataset.prepare import PrepareContext

NAME = "math"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        solution = str(field(row, ("solution",), NAME, split, index)).strip()
        answer = clean_answer(row.get("answer")) or clean_answer(last_boxed(solution))
        if not answer:
            raise row_error(NAME, split, index, "no 'answer' and no \\boxed{} answer in the solution")
        entry = {
            "id": str(row.get("unique_id") or f"{NAME}-{split}-{index}"),
            "problem": str(field(row, ("problem", "question"), NAME, split, index)).strip(),
            "expected_answer": answer,
            "reference_solution": solution,
        }
        subject = row.get("subject") or row.get("type")
        if subject:
            entry["subject"] = entry["subset_for_metrics"] = subject
        if row.get("level") is not None:
            entry["level"] = level_number(row["level"])
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    for split in ctx.splits:
        ctx.write_split(split, convert(qwen_eval_rows(ctx, NAME, split), split))
