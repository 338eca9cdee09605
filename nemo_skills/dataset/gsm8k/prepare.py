"""GSM8K from OpenAI's grade-school-math repository: `answer` holds the worked solution, then `#### <number>`."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl
from nemo_skills.errors import InputError

URL = "https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/{split}.jsonl"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        solution, separator, answer = row["answer"].rpartition("####")
        if not separator:
            raise InputError(f"gsm8k/{split} row {index}: no '####' final answer in {row['answer'][-80:]!r}.")
        converted.append(
            {
                "id": f"gsm8k-{split}-{index}",
                "problem": row["question"].strip(),
                "expected_answer": answer.strip().replace(",", ""),
                "reference_solution": solution.strip(),
            }
        )
    return converted


def prepare(ctx: PrepareContext) -> None:
    for split in ctx.splits:
        ctx.write_split(split, convert(read_jsonl(ctx.download(URL.format(split=split))), split))
