"""IFBench from AllenAI's repository, `data/IFBench_test.jsonl` (the test data also published as the Hugging Face
dataset allenai/IFBench_test). Same row format as IFEval (`key`, `prompt`, `instruction_id_list`, `kwargs`) and the
same conversion: `id` = `key`, null-valued kwargs keys dropped as the upstream evaluation does."""

from __future__ import annotations

from nemo_skills.dataset.ifeval.prepare import convert_instruction_rows
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl

URL = "https://raw.githubusercontent.com/allenai/IFBench/main/data/IFBench_test.jsonl"


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert_instruction_rows(read_jsonl(ctx.download(URL)), "ifbench"))
