"""AMC 2023 from the Qwen2.5-Math evaluation data (`amc23/test.jsonl`).

Rows carry the problem in `question` (or `problem`) and a numeric `answer` (`27.0`); every answer is an integer and
is written as an integer string. The upstream `id` (when present) names the row, as does the AoPS `url`.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import field, integer_answer, qwen_eval_rows, text
from nemo_skills.dataset.prepare import PrepareContext

NAME = "amc23"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        entry = {
            "id": f"{NAME}-{row.get('id', index)}",
            "problem": text(field(row, ("question", "problem"), NAME, split, index)),
            "expected_answer": integer_answer(field(row, ("answer",), NAME, split, index), NAME, split, index),
        }
        if row.get("url"):
            entry["url"] = row["url"]
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(qwen_eval_rows(ctx, NAME), "test"))
