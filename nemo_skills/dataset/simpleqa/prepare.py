"""SimpleQA, two splits:

* `test`: OpenAI simple-evals' `simple_qa_test_set.csv`, columns `metadata` (a Python-literal dict with `topic`,
  `answer_type`, `urls`), `problem`, `answer`. Ids are `simpleqa-<row index>`.
* `verified`: SimpleQA Verified (Google DeepMind), as the Hugging Face dataset codelion/SimpleQA-Verified
  (`simpleqa_verified.csv`), columns `original_index` (the 0-based row of the question in the original set),
  `problem`, `answer`, `topic`, `answer_type`, `multi_step`, `requires_reasoning`, `urls`. Ids are
  `simpleqa-<original_index>`, so a question has the same id in both splits.

Rows: `id`, `problem`, `expected_answer`, `topic`, `answer_type`, `urls` (a list), plus the two flags for verified.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from nemo_skills.dataset.mcq import read_csv_rows
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.errors import InputError

TEST_URL = "https://openaipublic.blob.core.windows.net/simple-evals/simple_qa_test_set.csv"
VERIFIED_REPO = "codelion/SimpleQA-Verified"
VERIFIED_FILE = "simpleqa_verified.csv"
_URL = re.compile(r"https?://[^\s,'\"\]]+")


def _urls(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(url) for url in value]
    return _URL.findall(str(value or ""))


def _flag(value: str | None) -> bool | None:
    text = str(value or "").strip().lower()
    return {"true": True, "false": False, "1": True, "0": False}.get(text)


def convert_test(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        try:
            metadata = ast.literal_eval(row["metadata"])
        except (ValueError, SyntaxError):
            raise InputError(
                f"simpleqa/test row {index}: metadata is not a dict literal: {row['metadata'][:80]!r}."
            ) from None
        if not isinstance(metadata, dict):
            raise InputError(f"simpleqa/test row {index}: metadata is not a dict.")
        converted.append(
            {
                "id": f"simpleqa-{index}",
                "problem": row["problem"].strip(),
                "expected_answer": row["answer"].strip(),
                "topic": metadata.get("topic"),
                "answer_type": metadata.get("answer_type"),
                "urls": _urls(metadata.get("urls")),
            }
        )
    return converted


def convert_verified(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        original = str(row.get("original_index") or "").strip()
        if not original:
            raise InputError(f"simpleqa/verified row {index}: no original_index.")
        converted.append(
            {
                "id": f"simpleqa-{original}",
                "problem": row["problem"].strip(),
                "expected_answer": row["answer"].strip(),
                "topic": row.get("topic"),
                "answer_type": row.get("answer_type"),
                "urls": _urls(row.get("urls")),
                "multi_step": _flag(row.get("multi_step")),
                "requires_reasoning": _flag(row.get("requires_reasoning")),
            }
        )
    return converted


def prepare(ctx: PrepareContext) -> None:
    if ctx.wants("verified"):
        ctx.write_split("verified", convert_verified(read_csv_rows(ctx.hf_file(VERIFIED_REPO, VERIFIED_FILE))))
    if ctx.wants("test"):
        ctx.write_split("test", convert_test(read_csv_rows(ctx.download(TEST_URL))))
