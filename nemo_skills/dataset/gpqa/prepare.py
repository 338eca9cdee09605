"""GPQA from the gated Hugging Face dataset Idavidrein/gpqa (`gpqa_<split>.csv`; accept the terms on the Hub and
set HF_TOKEN). Each CSV row has `Question`, `Correct Answer`, `Incorrect Answer 1..3`, `Subdomain`,
`High-level domain`, `Explanation` and a unique `Record ID`.

The four options are shuffled so the gold letter is not always the same: the order is a pure function of the
row's Record ID and the fixed seed SEED (`seeded_order`), so every preparation gives the same letters, on any
machine, whatever other rows the file holds. `subset_for_metrics` is the subdomain."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.mcq import mcq_row, read_csv_rows, seeded_order
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.errors import InputError

REPO = "Idavidrein/gpqa"
FILE = "gpqa_{split}.csv"
SEED = 42
ANSWER_COLUMNS = ("Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")


def convert(rows: list[dict[str, str]], split: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        record_id = (row.get("Record ID") or "").strip()
        if not record_id:
            raise InputError(f"gpqa/{split} row {index}: no Record ID; the upstream format may have changed.")
        answers = [(row.get(column) or "").strip() for column in ANSWER_COLUMNS]  # the correct one first
        if not all(answers):
            raise InputError(f"gpqa/{split} {record_id}: an answer column is empty.")
        order = seeded_order(len(answers), f"{SEED}|{record_id}")
        converted.append(
            mcq_row(
                record_id,
                row["Question"],
                [answers[position] for position in order],
                order.index(0),
                (row.get("Subdomain") or "").strip() or None,
                domain=(row.get("High-level domain") or "").strip() or None,
                explanation=(row.get("Explanation") or "").strip() or None,
            )
        )
    return converted


def prepare(ctx: PrepareContext) -> None:
    for split in ctx.splits:
        ctx.write_split(split, convert(read_csv_rows(ctx.hf_file(REPO, FILE.format(split=split))), split))
