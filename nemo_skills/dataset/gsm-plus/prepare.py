"""GSM-Plus from its Hugging Face dataset (`qintongli/GSM-Plus`, `data/test-00000-of-00001.jsonl`).

Rows carry `question`, `solution`, `answer` (a number as text, or `None` for the critical-thinking problems that
cannot be answered: their expected answer is `insufficient`), `perturbation_type` and the GSM8K `seed_question`,
`seed_solution` and `seed_answer`. The `test_rounded` split is the same rows with an instruction saying how to round
numeric answers (to an integer or to the answer's number of decimals).
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import field, numeric_answer, text
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl

NAME = "gsm-plus"
REPO = "qintongli/GSM-Plus"
PATH = "data/test-00000-of-00001.jsonl"
UNANSWERABLE = "insufficient"


def rounding_instruction(answer: str) -> str:
    """How to round for a numeric answer (`12` -> integer, `0.25` -> 2 decimals); '' for other answers."""
    try:
        float(answer)
    except ValueError:
        return ""
    decimals = len(answer.partition(".")[2])
    if decimals == 0:
        return " Express the answer as an integer."
    return f" Round the answer to {decimals} decimal place{'s' if decimals > 1 else ''}."


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        raw_answer = field(row, ("answer",), NAME, split, index)
        answer = UNANSWERABLE if str(raw_answer).strip() == "None" else numeric_answer(raw_answer)
        problem = text(field(row, ("question",), NAME, split, index))
        if split == "test_rounded":
            problem += rounding_instruction(answer)
        entry = {
            "id": f"{NAME}-{index}",
            "problem": problem,
            "expected_answer": answer,
            "reference_solution": str(row.get("solution") or "").strip(),
        }
        if row.get("perturbation_type"):
            entry["perturbation_type"] = entry["subset_for_metrics"] = row["perturbation_type"]
        for key in ("seed_question", "seed_solution"):
            if row.get(key):
                entry[key] = text(row[key])
        if row.get("seed_answer") not in (None, ""):
            entry["seed_answer"] = numeric_answer(row["seed_answer"])
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    rows = read_jsonl(ctx.hf_file(REPO, PATH))
    for split in ctx.splits:
        ctx.write_split(split, convert(rows, split))
