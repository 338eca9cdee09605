"""IFEval from google-research's `instruction_following_eval/data/input_data.jsonl`: rows with `key`, `prompt`,
`instruction_id_list` and `kwargs` (one argument object per instruction). Kept as they are, with `id` = `key`; in
each kwargs object the keys whose value is null are dropped, as the upstream evaluation does before building an
instruction."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl
from nemo_skills.errors import InputError

URL = (
    "https://raw.githubusercontent.com/google-research/google-research/master/"
    "instruction_following_eval/data/input_data.jsonl"
)


def convert_instruction_rows(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Shared by ifeval and ifbench, whose files have the same row format."""
    converted = []
    for index, row in enumerate(rows):
        ids, kwargs = row.get("instruction_id_list"), row.get("kwargs")
        if not isinstance(ids, list) or not isinstance(kwargs, list) or len(ids) != len(kwargs):
            raise InputError(f"{name} row {index}: instruction_id_list and kwargs must be lists of equal length.")
        converted.append(
            {
                "id": row["key"],
                "prompt": row["prompt"],
                "instruction_id_list": ids,
                "kwargs": [{k: v for k, v in (entry or {}).items() if v is not None} for entry in kwargs],
            }
        )
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert_instruction_rows(read_jsonl(ctx.download(URL)), "ifeval"))
