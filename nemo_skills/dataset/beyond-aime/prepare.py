"""BeyondAIME from its Hugging Face dataset (`ByteDance-Seed/BeyondAIME`, split `test`: `problem`, `answer`).

The file is read from the Hub's parquet conversion of the dataset (`refs/convert/parquet`, `default/test/`), which
exists for every dataset the Hub can show in its viewer whatever the uploaded file layout.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import clean_answer, field, hf_parquet_rows, text
from nemo_skills.dataset.prepare import PrepareContext

NAME = "beyond-aime"
REPO = "ByteDance-Seed/BeyondAIME"
REVISION = "refs/convert/parquet"
PATH = "default/test/0000.parquet"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{NAME}-{index}",
            "problem": text(field(row, ("problem",), NAME, split, index)),
            "expected_answer": clean_answer(field(row, ("answer",), NAME, split, index)),
        }
        for index, row in enumerate(rows)
    ]


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(hf_parquet_rows(ctx, REPO, PATH, revision=REVISION), "test"))
