"""AIME 2024 from MathArena's `aime_2024_I` and `aime_2024_II` datasets (15 problems each).

Ids are `aime24-I-<n>` / `aime24-II-<n>`; answers are integers, written as integer strings.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import MATHARENA_FILE, convert_matharena, hf_parquet_rows
from nemo_skills.dataset.prepare import PrepareContext

NAME = "aime24"
PARTS = {"I": "MathArena/aime_2024_I", "II": "MathArena/aime_2024_II"}


def convert(rows_by_part: dict[str, list[dict[str, Any]]], split: str) -> list[dict[str, Any]]:
    converted = []
    for part, rows in rows_by_part.items():
        converted += convert_matharena(rows, NAME, split, id_prefix=f"{NAME}-{part}", integer=True)
    return converted


def prepare(ctx: PrepareContext) -> None:
    rows = {part: hf_parquet_rows(ctx, repo, MATHARENA_FILE) for part, repo in PARTS.items()}
    ctx.write_split("test", convert(rows, "test"))
