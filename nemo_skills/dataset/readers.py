"""Read downloaded source files into rows (dicts). Parquet needs pyarrow, imported only when used."""

from __future__ import annotations

import csv
import io
import json
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nemo_skills.errors import InputError
from nemo_skills.utils.jsonl import read_jsonl

__all__ = ["read_jsonl", "read_json", "read_csv", "read_parquet", "iter_tar_members", "iter_zip_members"]


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}).") from None


def read_csv(path: Path, **kwargs: Any) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, **kwargs))


def read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except Exception as error:  # pyarrow raises several unrelated types for a corrupt file
        raise InputError(f"{path}: not a readable parquet file ({error}).") from None


def iter_tar_members(path: Path, suffix: str = "") -> Iterator[tuple[str, bytes]]:
    """(name, content) for each regular file in a (compressed) tar archive whose name ends with `suffix`."""
    with tarfile.open(path) as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(suffix):
                handle = archive.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def iter_zip_members(path: Path, suffix: str = "") -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(suffix) and not name.endswith("/"):
                yield name, archive.read(name)


def csv_rows_from_bytes(content: bytes, **kwargs: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8")), **kwargs))
