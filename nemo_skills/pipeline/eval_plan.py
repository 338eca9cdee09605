"""What `ns eval` runs: benchmark tasks (benchmark x seed x chunk), their judge tasks, and the summary.

Each task generates into `<output_dir>/eval-results/<benchmark>/output[-rs<seed>].jsonl` and grades the file in the
same shell chain; a benchmark with a judge generates into `tmp-eval-results/` first and its judge task writes the
final file. Nothing here touches a model: this module only decides files, arguments and job structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from nemo_skills.dataset.catalog import Benchmark
from nemo_skills.dataset.spec import BenchmarkSpec, JudgeSpec
from nemo_skills.errors import ConfigError, InputError
from nemo_skills.pipeline.common import JobOptions, ServerOptions

_BENCHMARK_ENTRY = re.compile(r"^([A-Za-z0-9_.\-]+)(?::(\d+))?$")
EVALUATE_MODULE = "nemo_skills.evaluation.evaluate"
SUMMARIZE_MODULE = "nemo_skills.evaluation.summarize"


def parse_benchmarks(text: str) -> list[tuple[str, Optional[int]]]:
    """`gsm8k:4,math-500` -> [("gsm8k", 4), ("math-500", None)]."""
    entries = []
    for part in text.split(","):
        part = part.strip()
        match = _BENCHMARK_ENTRY.match(part)
        if not match:
            raise ConfigError(f"Cannot parse benchmark {part!r} in --benchmarks={text!r}; use name or name:N.")
        entries.append((match.group(1), None if match.group(2) is None else int(match.group(2))))
    names = [name for name, _ in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"--benchmarks lists {', '.join(duplicates)} more than once.")
    return entries


@dataclass
class JudgeOptions:
    judge_model: Optional[str] = None
    judge_server_type: Optional[str] = None
    judge_server_address: Optional[str] = None
    judge_server_gpus: Optional[int] = None
    judge_server_args: str = ""
    extra_judge_args: str = ""  # `++key=value ...` for every judge generation

    def server_for(self, spec: JudgeSpec) -> ServerOptions:
        self_hosted = self.judge_server_gpus is not None and self.judge_server_address is None
        return ServerOptions(
            server_type=self.judge_server_type or spec.server_type,
            model=self.judge_model or spec.model,
            server_address=self.judge_server_address or (None if self_hosted else spec.base_url),
            server_gpus=self.judge_server_gpus,
            server_args=self.judge_server_args,
        )


@dataclass(frozen=True)
class BenchmarkRun:
    benchmark: Benchmark
    seeds: tuple[Optional[int], ...]  # (None,) for one greedy run
    input_file: Path
    output_dir: Path  # where the final graded files go

    @property
    def name(self) -> str:
        return self.benchmark.name

    @property
    def spec(self) -> BenchmarkSpec:
        assert isinstance(self.benchmark.spec, BenchmarkSpec)
        return self.benchmark.spec

    @property
    def generation_dir(self) -> Path:
        """The main generation's folder: the final one, or tmp-eval-results/ when a judge writes the final files."""
        if self.spec.judge is None:
            return self.output_dir
        return self.output_dir.parent.parent / "tmp-eval-results" / self.name

    def output_file(self, seed: Optional[int], folder: Path | None = None) -> Path:
        from nemo_skills.inference.output_files import seed_output_file

        return seed_output_file(folder or self.output_dir, seed)


@dataclass(frozen=True)
class EvalTask:
    run: BenchmarkRun
    seed: Optional[int]
    chunk: Optional[int]

    @property
    def label(self) -> str:
        label = self.run.name
        if self.seed is not None:
            label += f"-rs{self.seed}"
        if self.chunk is not None:
            label += f"-chunk{self.chunk}"
        return label


@dataclass
class EvalPlan:
    benchmarks: str
    output_dir: str
    server: ServerOptions = field(default_factory=ServerOptions)
    job: JobOptions = field(default_factory=lambda: JobOptions(expname="eval"))
    judge: JudgeOptions = field(default_factory=JudgeOptions)
    data_dir: Optional[str] = None
    split: Optional[str] = None
    extra_datasets: list[str] = field(default_factory=list)
    starting_seed: int = 0
    num_chunks: Optional[int] = None
    num_jobs: Optional[int] = None  # Slurm default: one job per task; elsewhere one job
    rerun_done: bool = False
    with_sandbox: bool = False
    auto_summarize_results: bool = True
    extra_eval_args: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)  # `++` for every generation

    def runs(self) -> list[BenchmarkRun]:
        from nemo_skills.dataset.catalog import get_benchmark
        from nemo_skills.dataset.spec import BenchmarkGroup

        runs = []
        results = Path(self.output_dir).resolve() / "eval-results"
        for name, count in parse_benchmarks(self.benchmarks):
            benchmark = get_benchmark(name, tuple(self.extra_datasets))
            members: list[tuple[Benchmark, Optional[int], Optional[str]]] = [(benchmark, count, None)]
            if isinstance(benchmark.spec, BenchmarkGroup):
                members = [
                    (
                        get_benchmark(m.name, tuple(self.extra_datasets)),
                        count if count is not None else m.num_samples,
                        m.eval_split,
                    )
                    for m in benchmark.spec.members
                ]
            for member, member_count, member_split in members:
                spec = member.spec
                assert isinstance(spec, BenchmarkSpec)
                samples = spec.num_samples if member_count is None else member_count
                seeds: tuple[Optional[int], ...] = (
                    tuple(range(self.starting_seed, self.starting_seed + samples)) if samples > 0 else (None,)
                )
                split = self.split or member_split or spec.eval_split
                input_file = member.data_file(split, self.data_dir)
                runs.append(BenchmarkRun(member, seeds, input_file, results / member.name))
        names = [run.name for run in runs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ConfigError(f"{', '.join(duplicates)} would be evaluated twice (listed directly and in a group).")
        return runs

    def groups(self) -> list[str]:
        """The benchmark groups named in --benchmarks (their scores are computed after their members')."""
        from nemo_skills.dataset.catalog import get_benchmark

        extra = tuple(self.extra_datasets)
        return [name for name, _ in parse_benchmarks(self.benchmarks) if get_benchmark(name, extra).is_group]

    def tasks(self, runs: list[BenchmarkRun]) -> list[EvalTask]:
        chunks: list[Optional[int]] = [None] if self.num_chunks is None else list(range(self.num_chunks))
        return [EvalTask(run, seed, chunk) for run in runs for seed in run.seeds for chunk in chunks]


def check_inputs(runs: list[BenchmarkRun]) -> None:
    for run in runs:
        if not run.input_file.is_file():
            raise InputError(
                f"{run.name}: no prepared data at {run.input_file}; run `ns prepare_data {run.name}` "
                "(with --data_dir if you keep data elsewhere)."
            )


def is_task_finished(task: EvalTask) -> bool:
    """The final file of the task's seed is generated (and judged) and graded."""
    from nemo_skills.evaluation.evaluate import graded_record_path
    from nemo_skills.inference.output_files import is_done

    final = task.run.output_file(task.seed)
    return is_done(final) and graded_record_path(final).is_file()
