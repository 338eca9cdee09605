"""Prepare benchmarks: run each benchmark's `prepare.py` and write checked `<data_dir>/<name>/<split>.jsonl`.

A benchmark's `prepare.py` defines `prepare(ctx: PrepareContext) -> None`: it downloads its sources through
`ctx.download` / `ctx.hf_file` and hands converted rows to `ctx.write_split`, which checks them (required fields
present, problems non-empty, ids unique) and writes the file atomically. Converters stay pure functions of the
upstream rows so tests can run them on fixture rows. Each prepared folder gets `prepared.json`: the sources with
their sha256, the row counts and when it was prepared.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nemo_skills.dataset.catalog import Benchmark, expand_benchmarks, get_benchmark, list_benchmarks
from nemo_skills.dataset.download import download, hf_dataset_url, sha256_of
from nemo_skills.dataset.spec import BenchmarkSpec
from nemo_skills.errors import ConfigError, InputError
from nemo_skills.utils.jsonl import write_jsonl_atomic

LOG = logging.getLogger(__name__)


@dataclass
class PrepareContext:
    benchmark: Benchmark
    splits: tuple[str, ...]  # the splits to write
    data_dir: Path | None = None
    sources: list[dict[str, str]] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)

    @property
    def spec(self) -> BenchmarkSpec:
        assert isinstance(self.benchmark.spec, BenchmarkSpec)
        return self.benchmark.spec

    def wants(self, split: str) -> bool:
        return split in self.splits

    def download(self, url: str, *, sha256: str | None = None, filename: str | None = None) -> Path:
        path = download(url, sha256=sha256, filename=filename)
        self.sources.append({"url": url, "sha256": sha256 or sha256_of(path)})
        return path

    def hf_file(self, repo: str, path: str, *, revision: str = "main", sha256: str | None = None) -> Path:
        return self.download(hf_dataset_url(repo, path, revision), sha256=sha256, filename=Path(path).name)

    def write_split(self, split: str, rows: Iterable[dict[str, Any]]) -> Path:
        if split not in self.spec.splits:
            raise ConfigError(f"{self.benchmark.name}: split {split!r} is not one of its splits {self.spec.splits}.")
        checked = check_rows(self.benchmark.name, split, list(rows), self.spec.required_fields)
        path = self.benchmark.data_file(split, self.data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl_atomic(path, checked)
        self.written[split] = len(checked)
        LOG.info("%s: wrote %d rows to %s", self.benchmark.name, len(checked), path)
        return path


def check_rows(name: str, split: str, rows: list[dict[str, Any]], required: tuple[str, ...]) -> list[dict[str, Any]]:
    if not rows:
        raise InputError(f"{name}/{split}: the converter produced no rows; the upstream format may have changed.")
    seen: set[str] = set()
    for index, row in enumerate(rows):
        missing = [key for key in required if row.get(key) is None or row.get(key) == ""]
        if missing:
            raise InputError(f"{name}/{split} row {index}: missing {', '.join(missing)} (row: {str(row)[:200]}).")
        if "id" in row:
            key = str(row["id"])
            if key in seen:
                raise InputError(f"{name}/{split}: id {key!r} appears twice; ids must be unique.")
            seen.add(key)
    return rows


@dataclass(frozen=True)
class PreparedBenchmark:
    name: str
    files: dict[str, Path]  # split -> file
    rows: dict[str, int]
    seconds: float


def prepare_benchmark(
    benchmark: Benchmark, splits: tuple[str, ...] | None, data_dir: Path | None
) -> PreparedBenchmark:
    spec = benchmark.spec
    if not isinstance(spec, BenchmarkSpec):
        raise ConfigError(f"{benchmark.name} is a group; prepare its members.")
    wanted = splits or spec.splits
    unknown = [split for split in wanted if split not in spec.splits]
    if unknown:
        raise ConfigError(f"{benchmark.name} has no split {', '.join(unknown)}; it has {', '.join(spec.splits)}.")
    start = time.monotonic()
    context = PrepareContext(benchmark=benchmark, splits=tuple(wanted), data_dir=data_dir)
    benchmark.prepare_module().prepare(context)
    missing = [split for split in wanted if split not in context.written]
    if missing:
        raise InputError(f"{benchmark.name}: prepare.py did not write split(s) {', '.join(missing)}.")
    files = {split: benchmark.data_file(split, data_dir) for split in context.written}
    record = {
        "benchmark": benchmark.name,
        "prepared_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rows": context.written,
        "sources": context.sources,
    }
    next(iter(files.values())).parent.joinpath("prepared.json").write_text(json.dumps(record, indent=2) + "\n")
    return PreparedBenchmark(benchmark.name, files, dict(context.written), time.monotonic() - start)


def select_benchmarks(
    names: list[str], dataset_groups: list[str] | None = None, extra_dirs: tuple[str | Path, ...] = ()
) -> list[Benchmark]:
    if not names and not dataset_groups:
        raise ConfigError("Name the benchmarks to prepare (or --dataset_groups math,multichoice,...).")
    selected = expand_benchmarks(names, extra_dirs) if names else []
    if dataset_groups:
        chosen = {b.name for b in selected}
        for name in list_benchmarks(extra_dirs):
            benchmark = get_benchmark(name, extra_dirs)
            spec = benchmark.spec
            if isinstance(spec, BenchmarkSpec) and spec.group in dataset_groups and name not in chosen:
                selected.append(benchmark)
    return selected


def prepare_benchmarks(
    names: list[str],
    *,
    splits: tuple[str, ...] | None = None,
    data_dir: str | Path | None = None,
    dataset_groups: list[str] | None = None,
    extra_dirs: tuple[str | Path, ...] = (),
) -> list[PreparedBenchmark]:
    benchmarks = select_benchmarks(names, dataset_groups, extra_dirs)
    return [prepare_benchmark(b, splits, Path(data_dir) if data_dir else None) for b in benchmarks]
