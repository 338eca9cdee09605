"""MAWPS from Microsoft ToRA's repository (`src/data/mawps/<subset>.jsonl`; the original host is offline).

Rows carry `input` (the problem) and `target` (a number). The subset is kept as `type` and `subset_for_metrics`.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import field, numeric_answer, text
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl

NAME = "mawps"
URL = "https://raw.githubusercontent.com/microsoft/ToRA/main/src/data/mawps/{subset}.jsonl"
SUBSETS = ("addsub", "singleeq", "singleop", "multiarith")


def convert(rows_by_subset: dict[str, list[dict[str, Any]]], split: str) -> list[dict[str, Any]]:
    converted = []
    for subset, rows in rows_by_subset.items():
        where = f"{split}:{subset}"
        for index, row in enumerate(rows):
            converted.append(
                {
                    "id": f"{NAME}-{subset}-{index}",
                    "problem": text(field(row, ("input", "question"), NAME, where, index)),
                    "expected_answer": numeric_answer(field(row, ("target", "answer"), NAME, where, index)),
                    "type": subset,
                    "subset_for_metrics": subset,
                }
            )
    return converted


def prepare(ctx: PrepareContext) -> None:
    rows = {subset: read_jsonl(ctx.download(URL.format(subset=subset))) for subset in SUBSETS}
    ctx.write_split("test", convert(rows, "test"))
