"""Crash-safe progress of one generation run.

Each finished sample is appended at once, as one line and one write, to `<output>-async` with its position in the
input and a hash of the input line. After a crash (even `kill -9`) the file holds every sample that finished; a
torn last line is dropped, and a record whose input line changed since is not trusted. The final output is written
in input order only when every sample is there; records are read back by offset, so memory stays small.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nemo_skills.utils.jsonl import write_jsonl_atomic

LOG = logging.getLogger(__name__)
POSITION_KEY = "_async_position"
INPUT_HASH_KEY = "_input_hash"


def input_hash(raw_line: bytes) -> str:
    return hashlib.blake2b(raw_line, digest_size=8).hexdigest()


class ProgressFile:
    def __init__(self, output_file: str | Path):
        self.output_file = Path(output_file)
        self.path = self.output_file.with_name(self.output_file.name + "-async")
        self._offsets: dict[int, tuple[int, int]] = {}  # position -> (offset, length) of its line
        self._size = 0
        self._fd: int | None = None

    @property
    def finished(self) -> set[int]:
        return set(self._offsets)

    def load(self, expected_hashes: dict[int, str]) -> set[int]:
        """Positions already finished whose input line is unchanged. Repairs a torn tail."""
        self._offsets.clear()
        if not self.path.exists():
            self._size = 0
            return set()
        data = self.path.read_bytes()
        offset = 0
        stale = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # torn by a kill in the middle of a write
            try:
                record = json.loads(line)
                position = record[POSITION_KEY]
            except (ValueError, KeyError, TypeError):
                break
            expected = expected_hashes.get(position)
            if expected == record.get(INPUT_HASH_KEY):
                self._offsets[position] = (offset, len(line))
            elif expected is not None:  # positions outside this run (e.g. a smaller max_samples) are not stale
                stale += 1
            offset += len(line)
        if offset < len(data):
            LOG.warning("Dropping a torn record at the end of %s (%d bytes)", self.path, len(data) - offset)
            with self.path.open("r+b") as handle:
                handle.truncate(offset)
        if stale:
            LOG.warning("%d saved records in %s no longer match the input and will be regenerated", stale, self.path)
        self._size = offset
        return self.finished

    def append(self, position: int, hash_: str, record: dict[str, Any]) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        line = json.dumps({**record, POSITION_KEY: position, INPUT_HASH_KEY: hash_}, ensure_ascii=False) + "\n"
        data = memoryview(line.encode())
        self._offsets[position] = (self._size, len(data))
        self._size += len(data)
        while data:
            data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _records(self, positions: list[int]) -> Iterator[dict[str, Any]]:
        if not positions:
            return
        with self.path.open("rb") as handle:
            for position in positions:
                offset, length = self._offsets[position]
                handle.seek(offset)
                record = json.loads(handle.read(length))
                record.pop(POSITION_KEY, None)
                record.pop(INPUT_HASH_KEY, None)
                yield record

    def finalize(self, positions: list[int]) -> int:
        """Write the output in input order. Every position must be finished."""
        self.close()
        missing = [p for p in positions if p not in self._offsets]
        if missing:
            raise RuntimeError(f"cannot finalize {self.output_file}: {len(missing)} samples unfinished")
        return write_jsonl_atomic(self.output_file, self._records(positions))

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
