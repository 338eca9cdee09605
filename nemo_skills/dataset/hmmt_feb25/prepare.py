"""HMMT February 2025 from MathArena's `hmmt_feb_2025` dataset; answers are LaTeX expressions."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.math_sources import MATHARENA_FILE, convert_matharena, hf_parquet_rows
from nemo_skills.dataset.prepare import PrepareContext

NAME = "hmmt_feb25"
REPO = "MathArena/hmmt_feb_2025"


def convert(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    return convert_matharena(rows, NAME, split, id_prefix=NAME, integer=False)


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(hf_parquet_rows(ctx, REPO, MATHARENA_FILE), "test"))
