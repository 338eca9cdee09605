"""Shared row format of the multiple-choice benchmarks (mmlu, mmlu-pro, mmlu-redux, gpqa, supergpqa).

A prepared row holds `problem` (the question, a blank line, then one `A) option` line per option), `options` (the
option texts in that order), one key per letter (`A`, `B`, ...) with its option text, `expected_answer` (the gold
letter) and `subset_for_metrics`. The `eval/mcq-4choices` and `eval/mcq-10choices` prompts ask for the letter in
`\\boxed{}`, which the `multichoice` evaluator extracts.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

from nemo_skills.errors import InputError

LETTERS = "ABCDEFGHIJ"


def mcq_row(
    row_id: str,
    question: str,
    options: list[str],
    answer_index: int,
    subset: str | None,
    **extra: Any,
) -> dict[str, Any]:
    """One prepared multiple-choice row; `extra` fields are appended as they are."""
    texts = [str(option).strip() for option in options]
    if not 2 <= len(texts) <= len(LETTERS):
        raise InputError(f"{row_id}: {len(texts)} options; a question needs 2 to {len(LETTERS)}.")
    if not 0 <= answer_index < len(texts):
        raise InputError(f"{row_id}: answer index {answer_index} is outside its {len(texts)} options.")
    lines = "\n".join(f"{LETTERS[index]}) {text}" for index, text in enumerate(texts))
    row: dict[str, Any] = {"id": row_id, "problem": f"{str(question).strip()}\n\n{lines}", "options": texts}
    row.update({LETTERS[index]: text for index, text in enumerate(texts)})
    row["expected_answer"] = LETTERS[answer_index]
    row["subset_for_metrics"] = subset
    row.update(extra)
    return row


def letter_index(letter: str, where: str) -> int:
    value = str(letter).strip().upper()
    if len(value) != 1 or value not in LETTERS:
        raise InputError(f"{where}: answer {letter!r} is not a letter A-{LETTERS[-1]}.")
    return LETTERS.index(value)


def seeded_order(count: int, key: str) -> list[int]:
    """A permutation of range(count) fixed by `key` alone: stable across runs, machines and Python versions."""
    return sorted(range(count), key=lambda index: hashlib.sha256(f"{key}|{index}".encode()).hexdigest())


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """CSV rows by header, tolerating a UTF-8 byte-order mark."""
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
