"""Build the programs the code grader sends to the sandbox, and read their results.

Test programs embed `harness.py` (which runs inside the sandbox) with a JSON payload; stdin/stdout tests run the
model's program itself. Every harness result line carries a random nonce, so output the model's code manages to
print cannot pass for a result.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

# What LiveCodeBench's harness puts before every solution: star imports of these modules (then builtins and
# typing again), the modules themselves, and a higher recursion limit.
LCB_STAR_MODULES = (
    "string",
    "re",
    "datetime",
    "collections",
    "heapq",
    "bisect",
    "copy",
    "math",
    "random",
    "statistics",
    "itertools",
    "functools",
    "operator",
    "io",
    "sys",
    "json",
    "builtins",
    "typing",
)
LCB_PLAIN_MODULES = LCB_STAR_MODULES[:16]  # every module but builtins and typing
LCB_PRELUDE = (
    "".join(f"from {module} import *\n" for module in LCB_STAR_MODULES)
    + "".join(f"import {module}\n" for module in LCB_PLAIN_MODULES)
    + "sys.setrecursionlimit(50000)\n"
)
_FUTURE = re.compile(r"^from\s+__future__\s+import\s+[^\n]*$", re.MULTILINE)


@lru_cache(maxsize=1)
def harness_source() -> str:
    return (Path(__file__).with_name("harness.py")).read_text()


def assemble(*parts: str) -> str:
    """Join source parts; `from __future__` imports of any part move to the top, where Python requires them."""
    text = "\n".join(part.rstrip("\n") for part in parts if part) + "\n"
    futures = _FUTURE.findall(text)
    if not futures:
        return text
    return "\n".join(dict.fromkeys(line.strip() for line in futures)) + "\n" + _FUTURE.sub("", text)


def harness_program(payload: dict[str, Any]) -> tuple[str, str]:
    """(program, nonce) running the harness on `payload`."""
    nonce = "NSRESULT-" + secrets.token_hex(12)
    call = f"\nmain({nonce!r}, {json.dumps(payload, ensure_ascii=False)!r})\n"
    return harness_source() + call, nonce


def parse_results(stdout: str, nonce: str) -> list[dict[str, Any]]:
    """The harness's result lines, in order."""
    results = []
    prefix = nonce + " "
    for line in stdout.splitlines():
        if line.startswith(prefix):
            try:
                value = json.loads(line[len(prefix) :])
            except ValueError:
                continue
            if isinstance(value, dict):
                results.append(value)
    return results


@dataclass(frozen=True)
class StageResult:
    status: str  # passed | failed | timeout | error | reference_error | harness_error
    error: str | None = None


def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def stdout_matches(actual: str, expected: str) -> bool:
    """LiveCodeBench's rule: after stripping the whole output and every line, the outputs have the same number of
    lines, and each line is equal, or all its whitespace-separated tokens are numbers (Decimal) with equal values."""
    got, want = _stripped_lines(actual), _stripped_lines(expected)
    if len(got) != len(want):
        return False
    for left, right in zip(got, want, strict=True):
        if left == right:
            continue
        left_numbers, right_numbers = _decimals(left), _decimals(right)
        if left_numbers is None or right_numbers is None:
            return False
        try:
            if left_numbers != right_numbers:
                return False
        except InvalidOperation:  # signalling NaN
            return False
    return True
