"""Test data of code benchmarks, kept beside the split file instead of inside its rows.

Generation copies every field of an input row into each output row (one file per seed), so heavy test data
(EvalPlus inputs, LiveCodeBench's hidden tests: gigabytes for a release) lives in `<split>.tests.jsonl` next to
`<split>.jsonl`: one line per problem, `{"id": ..., "plus_tests": {...}}` and/or `{"id": ..., "io_tests": {...}}`,
the id first. The code grader streams that file and keeps only the problems it grades in memory.

* `plus_tests` (EvalPlus differential tests): `dataset` (humaneval | mbpp), `source`, `entry_point`, `reference`
  (trusted code: EvalPlus prompt + canonical solution), `base_inputs` and `plus_inputs` (lists of argument lists,
  JSON as upstream), `atol`, `input_transform` (how JSON lists become the tuples/sets the function takes, or null),
  `oracle` (how outputs are compared: exact, set_eq, not_none, ...).
* `io_tests` (LiveCodeBench): `testtype` (stdin | functional), `fn_name`, `cases` (`{"input", "output"}`, public
  cases first), `num_public`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nemo_skills.errors import InputError
from nemo_skills.utils.jsonl import write_jsonl_atomic

if TYPE_CHECKING:
    from nemo_skills.dataset.prepare import PrepareContext

TESTS_SUFFIX = ".tests.jsonl"
_LEADING_ID = re.compile(rb'^\{"id":\s*("(?:[^"\\]|\\.)*")')


def code_tests_file(data_file: str | Path) -> Path:
    """`<dir>/<split>.jsonl` -> `<dir>/<split>.tests.jsonl`."""
    path = Path(data_file)
    stem = path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else path.stem
    return path.with_name(stem + TESTS_SUFFIX)


def write_tests_file(ctx: PrepareContext, split: str, entries: Iterable[dict[str, Any]]) -> Path:
    """Write the split's test file (each entry's id first); an empty one removes a stale file."""
    path = code_tests_file(ctx.benchmark.data_file(split, ctx.data_dir))
    ordered = ({"id": entry["id"], **{k: v for k, v in entry.items() if k != "id"}} for entry in entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    if write_jsonl_atomic(path, ordered) == 0:  # streamed: entries may be produced while converting
        path.unlink()
    return path


def iter_test_entries(path: str | Path, wanted: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """The entries of a test file, in file order; with `wanted`, only those ids (others are skipped unparsed)."""
    path = Path(path)
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            if wanted is not None:
                match = _LEADING_ID.match(raw)
                if match is not None and json.loads(match.group(1)) not in wanted:
                    continue
            try:
                entry = json.loads(raw)
            except ValueError as error:
                raise InputError(f"{path}:{line_number}: not valid JSON ({error}).") from None
            if not isinstance(entry, dict) or "id" not in entry:
                raise InputError(f"{path}:{line_number}: each line must be an object with an `id`.")
            if wanted is None or str(entry["id"]) in wanted:
                yield entry
