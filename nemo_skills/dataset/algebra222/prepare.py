"""Algebra222 from its GitHub repository (`algebra222.csv`: `question`, `final_answer`, `section`, `source`)."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import field, numeric_answer, text
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_csv

NAME = "algebra222"
COMMIT = "7dc99c39f53e108103a84ff8c7ef5d4857ad34ff"  # pinned: a commit of the repository holding algebra222.csv
URL = f"https://raw.githubusercontent.com/joyheyueya/declarative-math-word-problem/{COMMIT}/algebra222.csv"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        entry = {
            "id": f"{NAME}-{index}",
            "problem": text(field(row, ("question",), NAME, split, index)),
            "expected_answer": numeric_answer(field(row, ("final_answer",), NAME, split, index)),
        }
        if row.get("section"):
            entry["section"] = row["section"].strip()
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(read_csv(ctx.download(URL)), "test"))
