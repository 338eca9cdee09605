"""JSONL reading with errors that name the file and line, and atomic writing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nemo_skills.errors import InputError


@dataclass(frozen=True)
class JsonlRow:
    line_number: int  # 1-based line in the file
    data: dict[str, Any]
    raw: bytes  # the line as stored, used to notice input changes between a run and its resumption


def read_jsonl_rows(path: str | Path) -> list[JsonlRow]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Input file {path} does not exist.")
    rows = []
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError as error:
                raise InputError(f"{path}:{line_number}: not valid JSON ({error}). Fix or remove that line.") from None
            if not isinstance(data, dict):
                raise InputError(f"{path}:{line_number}: each line must be a JSON object, got {type(data).__name__}.")
            rows.append(JsonlRow(line_number, data, raw.rstrip(b"\r\n")))
    return rows


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    return [row.data for row in read_jsonl_rows(path)]


def write_jsonl_atomic(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write to a temporary file beside `path` and rename it into place: readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return count
