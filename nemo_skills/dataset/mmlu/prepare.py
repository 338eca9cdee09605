"""MMLU from the authors' tarball: `data/<split>/<subject>_<split>.csv`, header-less rows of question, the four
options and the answer letter. Rows are ordered by subject, then as in the file; `subset_for_metrics` is the
subject."""

from __future__ import annotations

import csv
import io
from typing import Any

from nemo_skills.dataset.mcq import letter_index, mcq_row
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import iter_tar_members
from nemo_skills.errors import InputError

URL = "https://people.eecs.berkeley.edu/~hendrycks/data.tar"


def subject_files(members: list[tuple[str, bytes]], split: str) -> dict[str, bytes]:
    """{subject: csv content} for the split's files in the tarball."""
    suffix = f"_{split}.csv"
    files = {}
    for name, content in members:
        folder, _, filename = name.rpartition("/")
        if folder.endswith(f"data/{split}") and filename.endswith(suffix):
            files[filename[: -len(suffix)]] = content
    return files


def convert(files: dict[str, bytes], split: str) -> list[dict[str, Any]]:
    rows = []
    for subject in sorted(files):
        records = csv.reader(io.StringIO(files[subject].decode("utf-8-sig"), newline=""))
        for index, record in enumerate(records):
            where = f"mmlu/{split} {subject} row {index}"
            if len(record) != 6:
                raise InputError(f"{where}: expected 6 columns (question, A-D, answer), got {len(record)}.")
            question, *options, answer = record
            rows.append(
                mcq_row(f"mmlu-{split}-{subject}-{index}", question, options, letter_index(answer, where), subject)
            )
    return rows


def prepare(ctx: PrepareContext) -> None:
    folders = tuple(f"data/{split}/" for split in ctx.splits)
    archive = ctx.download(URL)
    members = [(name, data) for name, data in iter_tar_members(archive, ".csv") if any(f in name for f in folders)]
    for split in ctx.splits:
        files = subject_files(members, split)
        if not files:
            raise InputError(f"mmlu: the tarball has no data/{split}/*_{split}.csv files.")
        ctx.write_split(split, convert(files, split))
