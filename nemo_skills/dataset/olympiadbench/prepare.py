"""OlympiadBench (OE_TO_maths_en_COMP) from the Qwen2.5-Math evaluation data (`olympiadbench/test.jsonl`).

Rows carry `id`, `question`, `final_answer` (a list, usually one math-mode string such as `$\\frac{1}{2}$`),
`solution` (a list), `subfield`, `answer_type`, `unit` and `is_multiple_answer`. The expected answer is the final
answer without `$` (several list entries are joined with `, `).
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import clean_answer, field, qwen_eval_rows, text
from nemo_skills.dataset.prepare import PrepareContext

NAME = "olympiadbench"
KEPT = ("subfield", "answer_type", "unit", "is_multiple_answer")


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        solution = row.get("solution") or []
        entry = {
            "id": f"{NAME}-{row.get('id', index)}",
            "problem": text(field(row, ("question", "problem"), NAME, split, index)),
            "expected_answer": clean_answer(field(row, ("final_answer",), NAME, split, index)),
            "reference_solution": "\n\n".join(solution) if isinstance(solution, list) else str(solution),
        }
        entry.update({key: row[key] for key in KEPT if row.get(key) not in (None, "")})
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(qwen_eval_rows(ctx, NAME), "test"))
