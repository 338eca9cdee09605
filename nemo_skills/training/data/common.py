"""What SFT and RL data preparation share: the base config, the filter funnel with its summary, contamination
lists, and atomic writing.

Contamination matching: a problem is contaminated when its *normalised* text equals the normalised text of an
entry of a contamination file. Normalising applies Unicode NFKC, then case folding, then removes every whitespace
character (`"What is  2 + 2?"` and `"what is 2+2?"` match). Whole texts are compared, not substrings, so a
short entry never removes every problem that contains it. Contamination files are JSONL (the `contamination_key`
field of each row, `problem` by default; for files ending in `.jsonl`) or plain text (one problem per non-empty
line, for any other name).
"""

from __future__ import annotations

import json
import os
import random
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, Optional, TypeVar

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.utils.jsonl import read_jsonl_rows

T = TypeVar("T")
SUMMARY_VERSION = 1


@dataclass
class CommonDataConfig:
    input_files: list[str] = field(default_factory=list)  # paths or glob patterns of generation outputs
    output_file: str = ""
    prompt_config: Optional[str] = None  # e.g. generic/math; None: the problem as is
    system_message: Optional[str] = None  # replaces (or adds) the system message
    problem_key: str = "problem"
    contamination_files: list[str] = field(default_factory=list)  # problems to exclude (see the module docstring)
    contamination_key: str = "problem"  # field holding the problem in JSONL contamination files
    deduplicate: bool = True
    shuffle: bool = True
    seed: int = 42
    max_rows: Optional[int] = None  # keep at most this many rows (after shuffling)


def normalize_problem(text: str) -> str:
    """NFKC, case-folded, with every whitespace character removed: the key contamination matching compares."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def load_contamination(files: Sequence[str], key: str) -> set[str]:
    """The normalised problems of every contamination file."""
    problems: set[str] = set()
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise ConfigError(f"Contamination file {path} does not exist.")
        if path.name.endswith(".jsonl"):
            for row in read_jsonl_rows(path):
                value = row.data.get(key)
                if not isinstance(value, str):
                    raise InputError(f"{path}:{row.line_number}: no text `{key}` field; set contamination_key.")
                problems.add(normalize_problem(value))
        else:
            problems.update(normalize_problem(line) for line in path.read_text().splitlines() if line.strip())
    problems.discard("")
    return problems


@dataclass
class FilterStep:
    name: str  # the config field (and CLI option) that controls this step
    reason: str  # what a dropped row failed
    dropped: int


@dataclass
class PreparationSummary:
    kind: str  # sft | rl
    input_files: list[str]
    num_input_rows: int
    steps: list[FilterStep]
    num_written: int
    output_file: str
    output_format: str
    config: dict[str, Any] = field(default_factory=dict)

    def format(self) -> str:
        lines = [f"Read {self.num_input_rows} rows from {len(self.input_files)} file(s)."]
        width = max((len(step.name) for step in self.steps), default=0)
        lines += [f"  {step.name:<{width}}  {step.dropped:>7} dropped: {step.reason}" for step in self.steps]
        lines.append(
            f"Kept {self.num_written} of {self.num_input_rows} rows: {self.output_file} ({self.output_format})"
        )
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        record = {"summary_version": SUMMARY_VERSION, "written_at": time.time(), **asdict(self)}
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


class Funnel(Generic[T]):
    """Rows passing through filters in order; each step's drop count is recorded, and a step that leaves nothing
    is an error that names it."""

    def __init__(self, items: list[T], source: str):
        if not items:
            raise InputError(f"No rows in {source}.")
        self.items = items
        self.steps: list[FilterStep] = []

    def keep(self, name: str, reason: str, predicate: Callable[[T], bool], hint: str | None = None) -> None:
        self.replace(name, reason, [item for item in self.items if predicate(item)], hint)

    def replace(self, name: str, reason: str, kept: list[T], hint: str | None = None) -> None:
        dropped = len(self.items) - len(kept)
        self.steps.append(FilterStep(name, reason, dropped))
        if not kept:
            history = " -> ".join(f"{step.name} -{step.dropped}" for step in self.steps)
            raise InputError(
                f"No rows left: `{name}` ({reason}) dropped all {dropped} remaining rows ({history}). "
                + (hint or f"Relax or turn off `{name}`.")
            )
        self.items = kept


def apply_order_and_limits(
    funnel: Funnel[T], config: CommonDataConfig, group: Callable[[T], str] | None = None, per_group: int | None = None
) -> None:
    """Seeded shuffle (when `shuffle`), then at most `per_group` rows per group, then at most `max_rows` rows."""
    if config.shuffle:
        items = list(funnel.items)
        random.Random(config.seed).shuffle(items)
        funnel.items = items
    if per_group is not None and group is not None:
        if per_group < 1:
            raise ConfigError(f"max_solutions_per_problem must be at least 1, got {per_group}.")
        counts: dict[str, int] = {}
        kept = []
        for item in funnel.items:
            key = group(item)
            counts[key] = counts.get(key, 0) + 1
            if counts[key] <= per_group:
                kept.append(item)
        funnel.replace("max_solutions_per_problem", f"more than {per_group} solutions of one problem", kept)
    if config.max_rows is not None:
        if config.max_rows < 1:
            raise ConfigError(f"max_rows must be at least 1, got {config.max_rows}.")
        funnel.replace("max_rows", f"beyond the first {config.max_rows} rows", funnel.items[: config.max_rows])


def check_output_file(config: CommonDataConfig, suffixes: tuple[str, ...]) -> Path:
    if not config.output_file:
        raise ConfigError("No output file given (--output_file / ++output_file).")
    path = Path(config.output_file)
    if not path.name.endswith(suffixes):
        raise ConfigError(f"Output file {path} should end with {' or '.join(suffixes)} for this format.")
    return path


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` then rename into place: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    write_atomic(path, write)


def summary_path(output_file: Path) -> Path:
    return output_file.with_name(output_file.name + ".summary.json")


def write_summary(
    kind: str, files: list[Path], num_input_rows: int, funnel: Funnel, num_written: int, output: Path, config: Any
) -> PreparationSummary:
    """The run's summary (the config as a dict), written beside the output file."""
    summary = PreparationSummary(
        kind,
        [str(f) for f in files],
        num_input_rows,
        funnel.steps,
        num_written,
        str(output),
        config.output_format,
        asdict(config),
    )
    summary.write(summary_path(output))
    return summary
