"""Minerva math (OCWCourses) from the Qwen2.5-Math evaluation data (`minerva_math/test.jsonl`).

Rows carry `problem`, `solution` and `type` (the course); there is no answer field, so the expected answer is the
last `\\boxed{}` of the solution, as in the reference.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import clean_answer, field, last_boxed, qwen_eval_rows, row_error, text
from nemo_skills.dataset.prepare import PrepareContext

NAME = "minerva_math"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        solution = text(field(row, ("solution",), NAME, split, index))
        answer = clean_answer(row.get("answer")) or clean_answer(last_boxed(solution))
        if not answer:
            raise row_error(NAME, split, index, "no \\boxed{} answer in the solution")
        entry = {
            "id": f"{NAME}-{row.get('idx', index)}",
            "problem": text(field(row, ("problem", "question"), NAME, split, index)),
            "expected_answer": answer,
            "reference_solution": solution,
        }
        if row.get("type"):
            entry["type"] = row["type"]
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(qwen_eval_rows(ctx, NAME), "test"))
