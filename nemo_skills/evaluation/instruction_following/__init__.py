"""Instruction-following grading for IFEval and IFBench: one checker per instruction id, strict and loose.

`grade_row` adds ``strict_eval`` / ``loose_eval`` to a generation row; `instruction_ids` lists what a benchmark
defines; checkers register in `checks_ifeval`, `checks_ifbench` and `checks_ifbench_format`.
"""

from nemo_skills.evaluation.instruction_following.grade import bind_row, grade_row, loose_variants
from nemo_skills.evaluation.instruction_following.registry import (
    Benchmark,
    InstructionArgumentError,
    bind,
    get_instruction,
    instruction_ids,
)

__all__ = [
    "Benchmark",
    "InstructionArgumentError",
    "bind",
    "bind_row",
    "get_instruction",
    "grade_row",
    "instruction_ids",
    "loose_variants",
]
