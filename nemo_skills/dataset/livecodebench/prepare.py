"""LiveCodeBench code generation from the Hugging Face dataset `livecodebench/code_generation_lite`.

The dataset is a series of JSONL files, one per release increment: `test.jsonl` (release v1), `test2.jsonl` ..
`test6.jsonl` (v2..v6); release vN is the union of the first N files. A split `test_v<N>_<YYMM>_<YYMM>` keeps the
problems of release vN whose `contest_date` falls in the two months given and every month between them.

Upstream rows hold `question_title`, `question_content`, `platform`, `question_id`, `contest_id`, `contest_date`,
`starter_code`, `difficulty`, `public_test_cases` (a JSON list of `{input, output, testtype}`), `private_test_cases`
(the same, as JSON or as base64 of zlib of a pickled JSON string) and `metadata` (JSON; `func_name` for LeetCode
problems). The pickles are read by an unpickler that cannot load any class or function: only plain strings,
lists and dicts come out.

Rows: `id` (= `question_id`), `question` (the statement with how to answer: the starter code to complete, or a
program reading stdin), `question_title`, `platform`, `difficulty`, `contest_id`, `contest_date`, `starter_code`,
`testtype` (`functional` when there is a `func_name`, else `stdin`), `fn_name`. Tests go to `<split>.tests.jsonl`
(`io_tests`: public cases first, then the hidden ones).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nemo_skills.dataset.code_tests import write_tests_file
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.errors import InputError

REPO = "livecodebench/code_generation_lite"
RELEASE_FILES = ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl", "test6.jsonl")
_SPLIT = re.compile(r"^test_v(\d+)_(\d{2})(\d{2})_(\d{2})(\d{2})$")
MAX_DECOMPRESSED = 1 << 31  # bytes of hidden tests per problem


def parse_split(split: str) -> tuple[int, str, str]:
    """`test_v6_2408_2505` -> (6, "2024-08", "2025-05")."""
    match = _SPLIT.match(split)
    if not match:
        raise InputError(f"livecodebench: split {split!r} is not test_v<N>_<YYMM>_<YYMM>.")
    version, y1, m1, y2, m2 = match.groups()
    return int(version), f"20{y1}-{m1}", f"20{y2}-{m2}"


class _PlainUnpickler(pickle.Unpickler):
    """Loads only what pickle builds without importing anything (str, bytes, numbers, lists, dicts...)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a downloaded pickle")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refusing a persistent id in a downloaded pickle")


def _check_plain(value: Any, depth: int = 0) -> None:
    if depth > 8:
        raise InputError("livecodebench: hidden tests are nested too deeply.")
    if isinstance(value, str):
        return
    if isinstance(value, list):
        for item in value:
            _check_plain(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError("livecodebench: hidden tests hold a non-string key.")
            _check_plain(item, depth + 1)
        return
    raise InputError(f"livecodebench: hidden tests hold a {type(value).__name__}; only str, list, dict expected.")


def decode_private_tests(text: str) -> list[dict[str, Any]]:
    """The hidden test cases of one problem: JSON, or base64(zlib(pickle(JSON string)))."""
    try:
        value: Any = json.loads(text)
    except ValueError:
        try:
            packed = base64.b64decode(text.encode("ascii"), validate=True)
            inflater = zlib.decompressobj()
            raw = inflater.decompress(packed, MAX_DECOMPRESSED)
            if inflater.unconsumed_tail:
                raise InputError("livecodebench: hidden tests larger than 2 GiB.")
            value = _PlainUnpickler(io.BytesIO(raw)).load()
        except (binascii.Error, zlib.error, pickle.UnpicklingError, UnicodeEncodeError, EOFError) as error:
            raise InputError(f"livecodebench: cannot decode hidden tests ({error}).") from None
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        _check_plain(value)
        if isinstance(value, str):
            value = json.loads(value)
    return _cases(value, "hidden")


def _cases(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InputError(f"livecodebench: {what} tests are not a list.")
    cases = []
    for case in value:
        if not isinstance(case, dict) or not all(isinstance(case.get(key), str) for key in ("input", "output")):
            raise InputError(f"livecodebench: a {what} test is not {{input, output}} strings: {str(case)[:120]}")
        cases.append({"input": case["input"], "output": case["output"], "testtype": case.get("testtype")})
    return cases


def _question(row: dict[str, Any], fn_name: str | None) -> str:
    text = row["question_content"].strip()
    starter = (row.get("starter_code") or "").strip("\n")
    if starter.strip():
        target = f"`{fn_name}`" if fn_name else "the function"
        return (
            f"{text}\n\nComplete this starter code, keeping its class and method signature; the tests call "
            f"{target} directly:\n```python\n{starter}\n```"
        )
    return f"{text}\n\nWrite a complete Python program that reads the input from standard input and prints the answer."


def convert_row(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(row, test entry) of one upstream problem."""
    metadata = json.loads(row.get("metadata") or "{}")
    fn_name = metadata.get("func_name") or None
    public = _cases(json.loads(row["public_test_cases"]), "public")
    hidden = decode_private_tests(row["private_test_cases"])
    testtype = "functional" if fn_name else "stdin"
    converted = {
        "id": row["question_id"],
        "question": _question(row, fn_name),
        "question_title": row["question_title"],
        "platform": row["platform"],
        "difficulty": row["difficulty"],
        "contest_id": row["contest_id"],
        "contest_date": row["contest_date"],
        "starter_code": row.get("starter_code") or "",
        "testtype": testtype,
        "fn_name": fn_name,
    }
    cases = [{"input": c["input"], "output": c["output"]} for c in public + hidden]
    entry = {"id": row["question_id"], "io_tests": {"testtype": testtype, "fn_name": fn_name, "cases": cases}}
    entry["io_tests"]["num_public"] = len(public)
    return converted, entry


def in_window(row: dict[str, Any], start: str, end: str) -> bool:
    """The contest month (YYYY-MM of `contest_date`) lies within [start, end]."""
    return start <= str(row["contest_date"])[:7] <= end


def convert(
    rows: Iterable[dict[str, Any]], start: str, end: str, converted: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Test entries of the problems in the window, one at a time (hidden tests are large); their rows are
    appended to `converted`. A question id seen twice is kept once."""
    seen: set[str] = set()
    for row in rows:
        if not in_window(row, start, end) or row["question_id"] in seen:
            continue
        seen.add(row["question_id"])
        problem, entry = convert_row(row)
        converted.append(problem)
        yield entry


def iter_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def prepare(ctx: PrepareContext) -> None:
    for split in ctx.splits:
        version, start, end = parse_split(split)
        paths = [ctx.hf_file(REPO, name) for name in RELEASE_FILES[:version]]
        rows: list[dict[str, Any]] = []
        write_tests_file(ctx, split, convert((row for path in paths for row in iter_rows(path)), start, end, rows))
        ctx.write_split(split, rows)
