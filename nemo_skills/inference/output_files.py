"""Output naming (seeds, chunks, `.done` markers) and merging chunk files, as users know them from the reference."""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path

from nemo_skills.utils.jsonl import read_jsonl, write_jsonl_atomic

LOG = logging.getLogger(__name__)


def done_marker(output_file: str | Path) -> Path:
    return Path(f"{output_file}.done")


def is_done(output_file: str | Path) -> bool:
    return done_marker(output_file).exists()


def mark_done(output_file: str | Path) -> None:
    done_marker(output_file).touch()


def seed_output_file(output_dir: str | Path, seed: int | None) -> Path:
    return Path(output_dir) / ("output.jsonl" if seed is None else f"output-rs{seed}.jsonl")


def chunk_output_file(output_file: str | Path, chunk_id: int) -> Path:
    path = Path(output_file)
    return path.with_name(f"{path.stem}_chunk{chunk_id}{path.suffix}")


def chunk_bounds(num_rows: int, num_chunks: int, chunk_id: int) -> tuple[int, int]:
    """[start, end) of one chunk: an even split, the remainder spread over the first chunks."""
    if num_chunks < 1 or not 0 <= chunk_id < num_chunks:
        raise ValueError(f"chunk_id must be in [0, {num_chunks}), got {chunk_id}")
    base, remainder = divmod(num_rows, num_chunks)
    start = chunk_id * base + min(chunk_id, remainder)
    return start, start + base + (1 if chunk_id < remainder else 0)


def merge_chunks(output_file: str | Path, num_chunks: int, remove_chunks: bool = True) -> bool:
    """Join finished chunks into `output_file` once all are done. Safe when several chunks finish together."""
    output_file = Path(output_file)
    lock_path = output_file.with_name(output_file.name + ".lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_done(output_file):
            lock_path.unlink(missing_ok=True)  # safe: whoever takes this lock next sees the merge done
            return True
        chunks = [chunk_output_file(output_file, chunk_id) for chunk_id in range(num_chunks)]
        missing = [str(chunk) for chunk in chunks if not is_done(chunk)]
        if missing:
            LOG.info("Not merging %s yet: %d of %d chunks unfinished", output_file, len(missing), num_chunks)
            return False
        count = write_jsonl_atomic(output_file, (record for chunk in chunks for record in read_jsonl(chunk)))
        mark_done(output_file)
        if remove_chunks:
            for chunk in chunks:  # a chunk's .done marker goes with it: it must not vouch for a missing file
                chunk.unlink(missing_ok=True)
                done_marker(chunk).unlink(missing_ok=True)
        LOG.info("Merged %d chunks into %s (%d rows)", num_chunks, output_file, count)
    lock_path.unlink(missing_ok=True)
    return True
