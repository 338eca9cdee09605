"""Shared pieces of the math benchmark converters: the common upstream sources and answer normalisation.

Sources
    Several benchmarks (math, amc23, college_math, gaokao2023en, minerva_math, olympiadbench) come from the
    evaluation data folder of the Qwen2.5-Math repository, one `<name>/<split>.jsonl` per benchmark
    (`qwen_eval_rows`). MathArena and other Hugging Face datasets ship parquet files (`hf_parquet_rows`).

Answers
    `clean_answer` turns an upstream answer (string, number or one-element list) into the string written as
    `expected_answer`: math-mode `$` delimiters removed (LaTeX kept), whole floats written as integers (`27.0` ->
    `27`). `integer_answer` is the strict form for competitions whose answers are integers (AIME, AMC).
    `last_boxed` reads the final `\\boxed{...}` of a worked solution, for sources that only give the solution.

Converters stay pure functions of the upstream rows; they raise `InputError` naming the benchmark, split and row
index (`row_error`) when a row lacks what they need, so a changed upstream format fails loudly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl, read_parquet
from nemo_skills.errors import InputError

QWEN_EVAL_DATA_URL = (
    "https://raw.githubusercontent.com/QwenLM/Qwen2.5-Math/refs/heads/main/evaluation/data/{name}/{split}.jsonl"
)

_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
_WHOLE_DECIMAL = re.compile(r"^([-+]?\d+)\.0*$")
_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$")
_BOX_COMMAND = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")


def qwen_eval_rows(ctx: PrepareContext, name: str, split: str = "test") -> list[dict[str, Any]]:
    """The rows of `evaluation/data/<name>/<split>.jsonl` in the Qwen2.5-Math repository."""
    return read_jsonl(ctx.download(QWEN_EVAL_DATA_URL.format(name=name, split=split)))


def hf_parquet_rows(ctx: PrepareContext, repo: str, path: str, revision: str = "main") -> list[dict[str, Any]]:
    """The rows of one parquet file of a Hugging Face dataset repository."""
    return read_parquet(ctx.hf_file(repo, path, revision=revision))


def row_error(benchmark: str, split: str, index: int, message: str) -> InputError:
    return InputError(f"{benchmark}/{split} row {index}: {message}; the upstream format may have changed.")


def field(row: dict[str, Any], keys: Iterable[str], benchmark: str, split: str, index: int) -> Any:
    """The value of the first of `keys` that `row` has with a non-empty value; InputError if none."""
    keys = tuple(keys)
    for key in keys:
        value = row.get(key)
        if value is not None and value != "" and value != []:
            return value
    raise row_error(benchmark, split, index, f"no {' or '.join(repr(k) for k in keys)} (keys: {sorted(row)})")


def text(value: Any) -> str:
    return str(value).strip()


def number_text(value: float | int) -> str:
    """`51.0` -> `51`, `9.57` -> `9.57`, `7` -> `7`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def clean_answer(value: Any) -> str:
    """An upstream answer as a clean `expected_answer` string ('' when there is none)."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, list | tuple):
        parts = [clean_answer(item) for item in value]
        return ", ".join(part for part in parts if part)
    answer = _UNESCAPED_DOLLAR.sub("", str(value)).strip()
    whole = _WHOLE_DECIMAL.match(answer)
    return whole.group(1).lstrip("+") if whole else answer


def integer_answer(value: Any, benchmark: str, split: str, index: int) -> str:
    """An answer that must be an integer (AIME, AMC), as its canonical string; InputError otherwise."""
    answer = clean_answer(value).replace(",", "")
    if _PLAIN_NUMBER.match(answer):
        number = float(answer)
        if number.is_integer():
            return str(int(number))
    raise row_error(benchmark, split, index, f"expected an integer answer, got {value!r}")


def numeric_answer(value: Any) -> str:
    """A word-problem answer: numbers without thousands separators and with whole floats as integers."""
    answer = clean_answer(value)
    compact = answer.replace(",", "")
    if _PLAIN_NUMBER.match(compact):
        number = float(compact)
        if number.is_integer() and "e" not in compact.lower():
            return str(int(number))
        return compact.lstrip("+")
    return answer


def last_boxed(solution: str) -> str | None:
    """The content of the last `\\boxed{...}` (or `\\fbox{...}`) in `solution`, braces matched; None if none."""
    boxes = list(_BOX_COMMAND.finditer(solution))
    if not boxes:
        return None
    start = boxes[-1].end()
    while start < len(solution) and solution[start].isspace():
        start += 1
    if start >= len(solution) or solution[start] != "{":
        return None
    depth = 0
    for position in range(start, len(solution)):
        char, escaped = solution[position], solution[position - 1] == "\\"
        if char == "{" and not escaped:
            depth += 1
        elif char == "}" and not escaped:
            depth -= 1
            if depth == 0:
                content = solution[start + 1 : position].strip()
                return content or None
    return None


def level_number(level: Any) -> Any:
    """MATH's `Level 3` -> 3; anything else (including `Level ?`) unchanged."""
    if isinstance(level, str):
        match = re.fullmatch(r"Level (\d+)", level.strip())
        if match:
            return int(match.group(1))
    return level


MATHARENA_FILE = "data/train-00000-of-00001.parquet"  # MathArena datasets hold one `train` split


def convert_matharena(
    rows: list[dict[str, Any]], benchmark: str, split: str, *, id_prefix: str, integer: bool
) -> list[dict[str, Any]]:
    """MathArena competition rows (`problem_idx`, `problem`, `answer`, optional `problem_type` list)."""
    converted = []
    for index, row in enumerate(rows):
        number = field(row, ("problem_idx",), benchmark, split, index)
        answer = field(row, ("answer",), benchmark, split, index)
        entry = {
            "id": f"{id_prefix}-{number}",
            "problem": text(field(row, ("problem",), benchmark, split, index)),
            "expected_answer": integer_answer(answer, benchmark, split, index) if integer else clean_answer(answer),
        }
        if row.get("problem_type"):
            entry["problem_type"] = list(row["problem_type"])
        converted.append(entry)
    return converted
