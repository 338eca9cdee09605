"""Metrics from graded output files: find the benchmarks under a results folder, compute, print, save.

Layouts: `<dir>/output*.jsonl` (one benchmark, named after the folder), `<dir>/eval-results/<name>/` or
`<dir>/<name>/`. A benchmark folder holds `output.jsonl` (one greedy run) or `output-rs<seed>.jsonl` files (one per
seed), never both. Files whose generation has not finished (no `.done` marker) are left out with a warning; chunk
files are ignored. The metrics type comes from `metric_type` or the benchmark's spec.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.evaluation.metrics.kinds import METRIC_KINDS
from nemo_skills.evaluation.metrics.kinds.base import MetricsKind, Modes, load_problem_rows
from nemo_skills.inference.output_files import is_done

LOG = logging.getLogger(__name__)
_SEED_FILE = re.compile(r"output-rs(\d+)\.jsonl")
_HIDDEN_SUFFIXES = ("_std_dev_across_runs", "_std_err_across_runs", "_statistics")


@dataclass(frozen=True)
class BenchmarkResults:
    name: str
    folder: Path
    files: list[Path]  # seed order
    skipped: list[Path]  # unfinished


def output_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(finished, unfinished) output files of one benchmark folder, seed files in numeric seed order."""
    greedy = folder / "output.jsonl"
    seeds = sorted(
        (path for path in folder.glob("output-rs*.jsonl") if _SEED_FILE.fullmatch(path.name)),
        key=lambda path: int(_SEED_FILE.fullmatch(path.name).group(1)),  # type: ignore[union-attr]
    )
    if greedy.is_file() and seeds:
        raise InputError(
            f"{folder} holds both output.jsonl and output-rs*.jsonl; keep one kind (move the other elsewhere)."
        )
    files = seeds or ([greedy] if greedy.is_file() else [])
    return [p for p in files if is_done(p)], [p for p in files if not is_done(p)]


def find_benchmarks(results_dir: str | Path, benchmarks: list[str] | None = None) -> list[BenchmarkResults]:
    root = Path(results_dir)
    if not root.is_dir():
        raise InputError(f"Results folder {root} does not exist.")
    if (root / "eval-results").is_dir():
        root = root / "eval-results"
    candidates = [root] if any(root.glob("output*.jsonl")) else sorted(p for p in root.iterdir() if p.is_dir())
    found = []
    for folder in candidates:
        if folder.name.endswith("-logs"):
            continue
        finished, unfinished = output_files(folder)
        if not finished and not unfinished:
            continue
        if benchmarks is not None and folder.name not in benchmarks:
            continue
        found.append(BenchmarkResults(folder.name, folder, finished, unfinished))
    if benchmarks is not None:
        missing = sorted(set(benchmarks) - {b.name for b in found})
        if missing:
            raise InputError(f"No output files for {', '.join(missing)} under {root}.")
    if not found:
        raise InputError(f"No output files (output.jsonl or output-rs<seed>.jsonl) under {root}.")
    return found


def metrics_kind_for(name: str, metric_type: str | None, extra_datasets: tuple[str, ...] = ()) -> MetricsKind:
    if metric_type is None:
        from nemo_skills.dataset.catalog import get_benchmark
        from nemo_skills.dataset.spec import BenchmarkSpec

        try:
            spec = get_benchmark(name, extra_datasets).spec
        except ConfigError as error:
            raise ConfigError(f"{error} Pass --metric_type to summarize {name!r}.") from None
        if not isinstance(spec, BenchmarkSpec):
            raise ConfigError(f"{name} is a benchmark group; summarize its members.")
        metric_type = spec.metrics_type
    return METRIC_KINDS.get(metric_type)()


def benchmark_metrics(
    results: BenchmarkResults, kind: MetricsKind, max_samples: int | None = None
) -> dict[str, Modes]:
    """`{name: modes}`, plus `{name}-{subset}` entries when rows carry `subset_for_metrics` (e.g. MMLU subjects)."""
    for path in results.skipped:
        LOG.warning("Leaving out %s: its generation is unfinished (no .done marker).", path)
    if not results.files:
        raise InputError(f"{results.folder}: no finished output files; finish the generation first.")
    problems = load_problem_rows(results.files, max_samples)
    if not problems:
        raise InputError(f"{results.folder}: the output files are empty.")
    computed = {results.name: kind.compute(problems, str(results.folder))}
    subsets: dict[str, list] = {}
    for rows in problems:
        subset = rows[0].get("subset_for_metrics")
        if subset is not None:
            subsets.setdefault(str(subset), []).append(rows)
    for subset, members in sorted(subsets.items()):
        computed[f"{results.name}-{subset}"] = kind.compute(members, f"{results.folder} (subset {subset})")
    return computed


def _cell(metrics: dict[str, Any], key: str) -> str:
    value = metrics.get(key)
    if value is None:
        return "-" if key in metrics else ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        spread = metrics.get(f"{key}_std_dev_across_runs")
        return f"{value:.2f}%" + (f" ± {spread:.2f}%" if isinstance(spread, float) else "")
    return str(value)


def _columns(modes: Modes, order: tuple[str, ...]) -> list[str]:
    keys: list[str] = []
    for metrics in modes.values():
        for key, value in metrics.items():
            if key in keys or isinstance(value, dict | list) or key.endswith(_HIDDEN_SUFFIXES):
                continue
            keys.append(key)
    truncated = any((metrics.get("truncated") or 0) > 0 for metrics in modes.values())
    if not truncated:  # the completed-only figures repeat the main ones when nothing was truncated
        keys = [key for key in keys if not key.endswith("_completed_only") and key != "truncated"]
    first = [key for key in order if key in keys]
    return first + sorted(key for key in keys if key not in first)


def format_table(name: str, modes: Modes, order: tuple[str, ...] = ()) -> str:
    columns = _columns(modes, order)
    header = ["evaluation_mode", *columns]
    rows = [[mode, *(_cell(metrics, key) for key in columns)] for mode, metrics in modes.items()]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    width = max(len(line) for line in lines)
    title = f" {name} ".center(width, "-")
    warnings = [w for metrics in modes.values() for w in metrics.get("warnings", [])]
    return "\n".join([title, *lines, *warnings])


@dataclass
class SummarizeConfig:
    results_dir: str = ""
    benchmarks: Optional[list[str]] = None  # default: every benchmark folder found
    metric_type: Optional[str] = None  # default: each benchmark's own
    max_samples: Optional[int] = None  # only the first N problems
    save_metrics_path: Optional[str] = None  # default <results_dir>/metrics.json (eval-results/ when present)
    extra_datasets: list[str] = field(default_factory=list)  # folders of extra benchmark packages
    groups: list[str] = field(default_factory=list)  # benchmark groups whose scores to compute from their members


def summarize_results(cfg: SummarizeConfig) -> tuple[dict[str, Modes], str]:
    """(metrics by benchmark, the printed tables); writes metrics.json."""
    found = find_benchmarks(cfg.results_dir, cfg.benchmarks)
    all_metrics: dict[str, Modes] = {}
    tables = []
    for results in found:
        kind = metrics_kind_for(results.name, cfg.metric_type, tuple(cfg.extra_datasets))
        for name, modes in benchmark_metrics(results, kind, cfg.max_samples).items():
            all_metrics[name] = modes
            tables.append(format_table(name, modes, kind.display_order))
    for group in cfg.groups:
        all_metrics[group] = group_metrics(group, all_metrics, tuple(cfg.extra_datasets))
        tables.append(format_table(group, all_metrics[group], ("num_benchmarks_in_group",)))
    save_path = Path(cfg.save_metrics_path) if cfg.save_metrics_path else _default_metrics_path(cfg.results_dir, found)
    save_path.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(save_path.read_text()) if save_path.is_file() and cfg.benchmarks else {}
    save_path.write_text(json.dumps({**existing, **all_metrics}, indent=2) + "\n")
    return all_metrics, "\n\n\n".join(tables)


def mean_over_members(members: dict[str, Modes]) -> Modes:
    """Per mode shared by every member, the mean of each number every member reports (ints stay ints)."""
    modes = [set(m) for m in members.values()]
    shared_modes = [mode for mode in next(iter(members.values())) if all(mode in m for m in modes)]
    result: Modes = {}
    for mode in shared_modes:
        values = [metrics[mode] for metrics in members.values()]
        keys = [k for k, v in values[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
        averaged: dict[str, Any] = {"num_benchmarks_in_group": len(members)}
        for key in keys:
            numbers = [v.get(key) for v in values]
            if key == "num_entries" or not all(isinstance(n, int | float) for n in numbers):
                continue
            mean = sum(numbers) / len(numbers)
            averaged[key] = round(mean) if all(isinstance(n, int) for n in numbers) else mean
        result[mode] = averaged
    return result


def group_metrics(name: str, computed: dict[str, Modes], extra_datasets: tuple[str, ...] = ()) -> Modes:
    """A group's scores from its members' metrics: its `score_function` ("module:function") or the mean."""
    import importlib

    from nemo_skills.dataset.catalog import get_benchmark
    from nemo_skills.dataset.spec import BenchmarkGroup

    spec = get_benchmark(name, extra_datasets).spec
    if not isinstance(spec, BenchmarkGroup):
        raise ConfigError(f"{name} is not a benchmark group.")
    missing = [m.name for m in spec.members if m.name not in computed]
    if missing:
        raise InputError(f"Group {name}: no metrics for member(s) {', '.join(missing)}; evaluate them first.")
    members = {m.name: computed[m.name] for m in spec.members}
    if spec.score_function is None:
        return mean_over_members(members)
    module_name, _, function_name = spec.score_function.partition(":")
    return getattr(importlib.import_module(module_name), function_name)(members)


def _default_metrics_path(results_dir: str, found: list[BenchmarkResults]) -> Path:
    root = Path(results_dir)
    if len(found) == 1 and found[0].folder == root:
        return root / "metrics.json"
    return (root / "eval-results" if (root / "eval-results").is_dir() else root) / "metrics.json"


def main(argv: list[str] | None = None) -> int:
    from nemo_skills.utils.entry import run_with_overrides

    def run(cfg: SummarizeConfig) -> None:
        if not cfg.results_dir:
            raise ConfigError("Set ++results_dir (the evaluation's output folder).")
        print(summarize_results(cfg)[1])

    return run_with_overrides(__doc__, SummarizeConfig, run, argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())
