"""SVAMP from its GitHub repository (`SVAMP.json`, a JSON list).

Each entry has `ID` (`chal-1`), `Body`, `Question`, `Equation`, `Answer` (a float) and `Type`. The problem is the
body (given a closing period when it lacks one) followed by the question.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import field, numeric_answer, row_error, text
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_json

NAME = "svamp"
URL = "https://raw.githubusercontent.com/arkilpatel/SVAMP/main/SVAMP.json"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    if not isinstance(rows, list):
        raise row_error(NAME, split, 0, f"expected a JSON list of problems, got {type(rows).__name__}")
    converted = []
    for index, row in enumerate(rows):
        body = text(field(row, ("Body",), NAME, split, index))
        if body[-1] not in ".?!":
            body += "."
        entry = {
            "id": str(row.get("ID") or f"{NAME}-{index}"),
            "problem": f"{body} {text(field(row, ('Question',), NAME, split, index))}",
            "expected_answer": numeric_answer(field(row, ("Answer",), NAME, split, index)),
        }
        if row.get("Equation"):
            entry["reference_equation"] = text(row["Equation"])
        if row.get("Type"):
            entry["type"] = row["Type"]
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(read_json(ctx.download(URL)), "test"))
