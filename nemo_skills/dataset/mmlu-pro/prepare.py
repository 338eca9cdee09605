"""MMLU-Pro from the Hugging Face dataset TIGER-Lab/MMLU-Pro (`data/<split>-00000-of-00001.parquet`). Upstream
rows have `question_id`, `question`, `options` (up to ten), `answer` (the letter), `answer_index` and `category`;
the options keep their upstream order and `subset_for_metrics` is the category with spaces as underscores."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.mcq import letter_index, mcq_row
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_parquet
from nemo_skills.errors import InputError

REPO = "TIGER-Lab/MMLU-Pro"
FILE = "data/{split}-00000-of-00001.parquet"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    converted = []
    for row in rows:
        where = f"mmlu-pro/{split} question {row['question_id']}"
        index = letter_index(row["answer"], where)
        if row.get("answer_index") is not None and int(row["answer_index"]) != index:
            raise InputError(f"{where}: answer {row['answer']!r} disagrees with answer_index {row['answer_index']}.")
        category = str(row["category"]).replace(" ", "_")
        converted.append(
            mcq_row(
                f"mmlu-pro-{row['question_id']}",
                row["question"],
                list(row["options"]),
                index,
                category,
                src=row.get("src"),
            )
        )
    return converted


def prepare(ctx: PrepareContext) -> None:
    for split in ctx.splits:
        ctx.write_split(split, convert(read_parquet(ctx.hf_file(REPO, FILE.format(split=split))), split))
