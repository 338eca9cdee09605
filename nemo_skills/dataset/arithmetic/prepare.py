"""Generated, not downloaded: the same 200 problems on every machine (a fixed seed), so a setup can be checked end
to end without network access."""

from __future__ import annotations

import random
from typing import Any

from nemo_skills.dataset.prepare import PrepareContext

NUM_PROBLEMS = 200
SEED = 1234


def make_problems(count: int = NUM_PROBLEMS, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    problems = []
    for index in range(count):
        a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 9)
        kind = index % 4
        if kind == 0:
            text, answer = f"What is {a} + {b}?", a + b
        elif kind == 1:
            text, answer = f"What is {a} - {b}?", a - b
        elif kind == 2:
            text, answer = f"What is {a} \\times {c}?", a * c
        else:
            text = f"A box holds {c} rows of {a} apples, and {b} more apples lie beside it. How many apples in all?"
            answer = a * c + b
        problems.append({"id": f"arithmetic-{index}", "problem": text, "expected_answer": str(answer)})
    return problems


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", make_problems())
