"""MATH-500 from OpenAI's PRM800K repository (`prm800k/math_splits/test.jsonl`, stored in git LFS).

Rows carry `problem`, `solution`, `answer`, `subject`, `level` (an integer) and `unique_id`
(`test/precalculus/807.json`), which becomes the row id.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import clean_answer, field, level_number
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl

NAME = "math-500"
# github.com/.../raw/ follows the LFS pointer to the content (raw.githubusercontent.com would serve the pointer);
# the LFS pointer records the content's sha256.
URL = "https://github.com/openai/prm800k/raw/main/prm800k/math_splits/test.jsonl"
SHA256 = "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        entry = {
            "id": str(field(row, ("unique_id",), NAME, split, index)),
            "problem": str(field(row, ("problem",), NAME, split, index)).strip(),
            "expected_answer": clean_answer(field(row, ("answer",), NAME, split, index)),
            "reference_solution": str(row.get("solution") or "").strip(),
        }
        if row.get("subject"):
            entry["subject"] = entry["subset_for_metrics"] = row["subject"]
        if row.get("level") is not None:
            entry["level"] = level_number(row["level"])
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(read_jsonl(ctx.download(URL, sha256=SHA256)), "test"))
