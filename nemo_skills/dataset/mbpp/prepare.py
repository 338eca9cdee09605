"""MBPP: split `test` from EvalPlus's MBPP+ release, split `sanitized` from Google's sanitized MBPP.

`test` rows: `id`/`task_id` (`Mbpp/2`), `question` (the task text and its example assert, without the docstring
quotes of EvalPlus's `prompt`), `prompt` (EvalPlus's docstring), `entry_point`, `canonical_solution`; the base and
plus inputs go to `test.tests.jsonl` (`plus_tests`). `sanitized` rows: `id` (`mbpp-<n>`), `task_id`, `question`
(the task and its asserts), `entry_point` (the function the asserts call), `canonical_solution`, `test_script`
(the test imports and asserts, run after the solution).
"""

from __future__ import annotations

import re
from typing import Any

from nemo_skills.dataset.code_tests import write_tests_file
from nemo_skills.dataset.evalplus import MBPP_PLUS_URL, MBPP_PLUS_VERSION, plus_tests, read_release
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_json
from nemo_skills.errors import InputError

SANITIZED_URL = "https://raw.githubusercontent.com/google-research/google-research/master/mbpp/sanitized-mbpp.json"
SANITIZED_TEST_IDS = range(11, 511)  # the MBPP paper's test tasks
_ASSERTED_CALL = re.compile(r"assert\b[^\n]*?\b([A-Za-z_]\w*)\s*\(")


def _question_from_docstring(prompt: str) -> str:
    text = prompt.strip()
    for quote in ('"""', "'''"):
        if text.startswith(quote) and text.endswith(quote) and len(text) >= 6:
            return text[3:-3].strip()
    return text


def convert_plus(tasks: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows, test entries) for MBPP+ tasks."""
    rows, entries = [], []
    source = f"MbppPlus {MBPP_PLUS_VERSION}"
    for task in tasks:
        rows.append(
            {
                "id": task["task_id"],
                "task_id": task["task_id"],
                "question": _question_from_docstring(task["prompt"]),
                "prompt": task["prompt"],
                "entry_point": task["entry_point"],
                "canonical_solution": task["canonical_solution"],
            }
        )
        entries.append({"id": task["task_id"], "plus_tests": plus_tests(task, "mbpp", source)})
    return rows, entries


def _entry_point(asserts: list[str], code: str) -> str:
    defined = set(re.findall(r"^def\s+([A-Za-z_]\w*)", code, re.MULTILINE))
    for line in asserts:
        for name in _ASSERTED_CALL.findall(line):
            if name in defined:
                return name
    raise InputError(f"mbpp: cannot tell which function the asserts call ({asserts[:1]}).")


def convert_sanitized(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for task in tasks:
        if task["task_id"] not in SANITIZED_TEST_IDS:
            continue
        asserts = [line.strip() for line in task["test_list"]]
        imports = [line.strip() for line in task.get("test_imports") or []]
        rows.append(
            {
                "id": f"mbpp-{task['task_id']}",
                "task_id": task["task_id"],
                "question": task["prompt"].strip() + "\nThe function must pass these tests:\n" + "\n".join(asserts),
                "entry_point": _entry_point(asserts, task["code"]),
                "canonical_solution": task["code"],
                "test_script": "\n".join([*imports, *asserts]) + "\n",
            }
        )
    return rows


def prepare(ctx: PrepareContext) -> None:
    if ctx.wants("test"):
        rows, entries = convert_plus(read_release(ctx.download(MBPP_PLUS_URL)))
        ctx.write_split("test", rows)
        write_tests_file(ctx, "test", entries)
    if ctx.wants("sanitized"):
        ctx.write_split("sanitized", convert_sanitized(read_json(ctx.download(SANITIZED_URL))))
        write_tests_file(ctx, "sanitized", [])
