"""SuperGPQA from the Hugging Face dataset m-a-p/SuperGPQA (`SuperGPQA-all.jsonl`): rows with `uuid`, `question`,
`options`, `answer` (the correct option's text), `answer_letter`, `discipline`, `field`, `subfield`, `difficulty`.
The options keep their upstream order (their gold letters already vary); the letter is checked against the answer
text. `subset_for_metrics` is the discipline."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.mcq import letter_index, mcq_row
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl
from nemo_skills.errors import InputError

REPO = "m-a-p/SuperGPQA"
FILE = "SuperGPQA-all.jsonl"


def convert(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    converted = []
    for row in rows:
        where = f"supergpqa {row['uuid']}"
        index = letter_index(row["answer_letter"], where)
        options = list(row["options"])
        if index >= len(options) or str(options[index]).strip() != str(row["answer"]).strip():
            raise InputError(f"{where}: answer_letter {row['answer_letter']!r} does not point at the answer text.")
        converted.append(
            mcq_row(
                row["uuid"],
                row["question"],
                options,
                index,
                row.get("discipline"),
                field=row.get("field"),
                subfield=row.get("subfield"),
                difficulty=row.get("difficulty"),
            )
        )
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(read_jsonl(ctx.hf_file(REPO, FILE))))
