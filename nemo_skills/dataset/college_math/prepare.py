"""CollegeMath from the Qwen2.5-Math evaluation data (`college_math/test.jsonl`, MathScale's MWPBench copy).

Rows carry `question`, `answer` (math mode: `$-3 \\sqrt{2}$`), `data_topic` (`college_math.algebra`, used as the
metrics subset), `data_source` and `question_number`.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import clean_answer, field, qwen_eval_rows, text
from nemo_skills.dataset.prepare import PrepareContext

NAME = "college_math"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        entry = {
            "id": f"{NAME}-{index}",
            "problem": text(field(row, ("question", "problem"), NAME, split, index)),
            "expected_answer": clean_answer(field(row, ("answer",), NAME, split, index)),
        }
        if row.get("data_topic"):
            entry["subset_for_metrics"] = row["data_topic"]
        for key in ("data_source", "question_number"):
            if row.get(key):
                entry[key] = row[key]
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(qwen_eval_rows(ctx, NAME), "test"))
