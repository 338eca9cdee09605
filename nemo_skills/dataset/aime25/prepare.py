"""AIME 2025 from MathArena's `aime_2025` dataset: `problem_idx` 1-15 are AIME I, 16-30 AIME II.

Ids are `aime25-<problem_idx>`; answers are integers, written as integer strings.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import MATHARENA_FILE, convert_matharena, hf_parquet_rows
from nemo_skills.dataset.prepare import PrepareContext

NAME = "aime25"
REPO = "MathArena/aime_2025"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    return convert_matharena(rows, NAME, split, id_prefix=NAME, integer=True)


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(hf_parquet_rows(ctx, REPO, MATHARENA_FILE), "test"))
