"""Gaokao 2023 (English) from the Qwen2.5-Math evaluation data (`gaokao2023en/test.jsonl`): `question`, `answer`."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import clean_answer, field, qwen_eval_rows, text
from nemo_skills.dataset.prepare import PrepareContext

NAME = "gaokao2023en"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{NAME}-{index}",
            "problem": text(field(row, ("question", "problem"), NAME, split, index)),
            "expected_answer": clean_answer(field(row, ("answer",), NAME, split, index)),
        }
        for index, row in enumerate(rows)
    ]


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(qwen_eval_rows(ctx, NAME), "test"))
