"""Omni-MATH from its GitHub repository (`Omni-Math.jsonl`, the file the reference uses).

Rows carry `domain` (a list of `Mathematics -> Algebra -> ...` paths), `difficulty` (a float), `problem`,
`solution`, `answer` and `source` (the competition).
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import clean_answer, field, text
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl

NAME = "omni-math"
URL = "https://raw.githubusercontent.com/KbsdJames/Omni-MATH/refs/heads/main/Omni-Math.jsonl"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        entry = {
            "id": f"{NAME}-{index}",
            "problem": text(field(row, ("problem",), NAME, split, index)),
            "expected_answer": clean_answer(field(row, ("answer",), NAME, split, index)),
            "reference_solution": str(row.get("solution") or "").strip(),
        }
        for key in ("domain", "difficulty", "source"):
            if row.get(key) not in (None, "", []):
                entry[key] = row[key]
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(read_jsonl(ctx.download(URL)), "test"))
