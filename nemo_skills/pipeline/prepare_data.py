"""`ns prepare_data`: fetch benchmarks from their upstream sources and write `<data_dir>/<name>/<split>.jsonl`."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from nemo_skills.pipeline.cli import app


@app.command("prepare_data")
def prepare_data_command(
    names: Annotated[Optional[list[str]], typer.Argument(help="Benchmarks (or groups) to prepare.")] = None,
    data_dir: Annotated[
        Optional[str], typer.Option("--data_dir", help="Where to write (default: next to each benchmark package).")
    ] = None,
    split: Annotated[Optional[list[str]], typer.Option("--split", help="Only these splits.")] = None,
    dataset_groups: Annotated[
        Optional[str], typer.Option("--dataset_groups", help="Every benchmark of these groups, e.g. math,multichoice.")
    ] = None,
    extra_datasets: Annotated[
        Optional[list[str]], typer.Option("--extra_datasets", help="Folders with more benchmark packages.")
    ] = None,
) -> None:
    """Download and convert benchmarks. Set NEMO_SKILLS_DOWNLOAD_MIRROR to fetch through a mirror, HF_TOKEN for
    gated Hugging Face datasets."""
    from nemo_skills.dataset.prepare import prepare_benchmarks

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    prepared = prepare_benchmarks(
        list(names or []),
        splits=tuple(split) if split else None,
        data_dir=data_dir,
        dataset_groups=[g.strip() for g in dataset_groups.split(",")] if dataset_groups else None,
        extra_dirs=tuple(extra_datasets or ()),
    )
    for result in prepared:
        counts = ", ".join(f"{split}: {rows} rows" for split, rows in result.rows.items())
        where = ", ".join(str(path) for path in result.files.values())
        print(f"{result.name}: {counts} ({result.seconds:.1f}s) -> {where}")
