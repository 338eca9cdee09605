"""`ns eval`: generate, grade, judge and summarize benchmarks as one pipeline, on any executor.

Jobs: the benchmark tasks (Slurm: one job per task, or `--num_jobs` batches; elsewhere one job running every task
next to one shared server), then one judge job per judged benchmark, then a summary job writing `metrics.json`. A
finished task (final file generated, judged and graded) is skipped on the next run, so rerunning the same command
resumes a killed evaluation; `--rerun_done` starts over.
"""

from __future__ import annotations

import logging
import shlex
from pathlib import Path
from typing import Annotated, Optional

import typer

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline import options
from nemo_skills.pipeline.cli import EXTRA_ARGS, app
from nemo_skills.pipeline.common import JobOptions, ServerOptions, from_values, server_command
from nemo_skills.pipeline.eval_plan import (
    EVALUATE_MODULE,
    SUMMARIZE_MODULE,
    BenchmarkRun,
    EvalPlan,
    EvalTask,
    JudgeOptions,
    check_inputs,
    is_task_finished,
)

LOG = logging.getLogger(__name__)


def _override_value(overrides: list[str], key: str) -> Optional[str]:
    value = None
    for override in overrides:
        name, _, text = override.lstrip("+").partition("=")
        if name == key:
            value = text
    return value


def generation_overrides(plan: EvalPlan, task: EvalTask, path) -> list[str]:
    run, spec = task.run, task.run.spec
    args = [
        f"++input_file={path(run.input_file)}",
        f"++output_file={path(run.output_file(task.seed, run.generation_dir))}",
        f"++server.server_type={plan.server.server_type}",
    ]
    if plan.server.model:
        args.append(f"++server.model={plan.server.model}")
    if spec.prompt_config:
        args.append(f"++prompt_config={spec.prompt_config}")
    if task.seed is not None:
        args.append(f"++inference.random_seed={task.seed}")
    if task.chunk is not None:
        args += [f"++num_chunks={plan.num_chunks}", f"++chunk_id={task.chunk}"]
    if plan.rerun_done:
        args.append("++skip_filled=False")
    return args + list(spec.generation_args) + list(plan.overrides)


def evaluation_args(
    output_file: str, eval_type: str, eval_config: dict, extra: list[str], key: str, data_file: str | None = None
) -> list[str]:
    from nemo_skills.utils.overrides import hydra_value

    args = [f"++input_files={hydra_value([output_file])}", f"++eval_type={eval_type}", f"++generation_key={key}"]
    if data_file is not None:  # graders may read test data kept beside the prepared split
        args.append(f"++data_file={hydra_value(data_file)}")
    args += [f"++eval_config.{name}={hydra_value(value)}" for name, value in eval_config.items()]
    return args + list(extra)


def judge_spec_args(runs: list[BenchmarkRun], source: Path) -> list[str]:
    """The judge spec's own generation arguments for the benchmark whose output `source` is."""
    for run in runs:
        if run.spec.judge is not None and source.parent == run.generation_dir:
            return list(run.spec.judge.generation_args)
    return []


def check_plan(plan: EvalPlan, runs: list[BenchmarkRun]) -> None:
    """Every generation and evaluation config is built and checked here, before any job starts."""
    from nemo_skills.evaluation.evaluate import EvaluateConfig, build_evaluator
    from nemo_skills.inference.generate import GenerateConfig, check_config
    from nemo_skills.utils.overrides import build_config

    plan.server.check()
    check_inputs(runs)
    for run in runs:
        task = EvalTask(run, run.seeds[0], None if plan.num_chunks is None else 0)
        overrides = [*generation_overrides(plan, task, str), "++server.base_url=http://127.0.0.1:1/v1"]
        check_config(build_config(GenerateConfig, overrides))
        temperature = _override_value(overrides, "inference.temperature")
        if len(run.seeds) > 1 and (temperature is None or float(temperature) == 0.0):
            raise ConfigError(
                f"{run.name}:{len(run.seeds)} asks for {len(run.seeds)} samples per problem at temperature 0, which "
                "makes them identical; set e.g. ++inference.temperature=0.7 ++inference.top_p=0.95."
            )
        steps = [(run.spec.eval_type, run.spec.eval_config, plan.extra_eval_args)]
        if run.spec.judge is not None:
            steps.append((run.spec.judge.eval_type, run.spec.judge.eval_config, []))
        for eval_type, eval_config, extra in steps:
            cfg = build_config(EvaluateConfig, evaluation_args("x.jsonl", eval_type, eval_config, extra, "generation"))
            build_evaluator(cfg.eval_type, cfg.eval_config)


def _needs_sandbox(plan: EvalPlan, runs: list[BenchmarkRun]) -> bool:
    return plan.with_sandbox or any(run.spec.requires_sandbox for run in runs)


class EvalPipelineBuilder:
    """Turns a checked plan and its pending tasks into declarative jobs."""

    def __init__(self, plan: EvalPlan, runs: list[BenchmarkRun]):
        from nemo_skills.pipeline.cluster import load_cluster_config
        from nemo_skills.pipeline.declarative import HardwareConfig

        self.plan = plan
        self.runs = runs
        self.cluster = load_cluster_config(plan.job.cluster, plan.job.config_dir)
        self.hardware = HardwareConfig(plan.job.partition, plan.job.qos, plan.job.time_min, plan.job.exclusive)
        self.jobs: list = []

    def path(self, host_path) -> str:
        return self.cluster.container_path(str(Path(host_path).resolve()))

    def _sandbox(self, needed: bool):
        if not needed:
            return None
        from nemo_skills.inference.server.local import free_port
        from nemo_skills.pipeline.declarative import Command
        from nemo_skills.pipeline.scripts import SandboxScript

        return Command(SandboxScript(name="sandbox", port=free_port()))

    def _client(self, task: EvalTask, server, sandbox, options: ServerOptions, overrides: list[str], eval_step):
        from nemo_skills.pipeline.scripts import GenerationClientScript

        return GenerationClientScript(
            name=f"client-{task.label}",
            server=server.script if server else None,
            sandbox=sandbox.script if sandbox else None,
            server_address=options.server_address,
            server_wait_s=options.server_wait_s,
            overrides=overrides,
            after_modules=[eval_step],
        )

    def _main_client(self, task: EvalTask, server, sandbox):
        spec, run = task.run.spec, task.run
        key = _override_value([*spec.generation_args, *self.plan.overrides], "generation_key") or "generation"
        output = self.path(run.output_file(task.seed, run.generation_dir))
        eval_step = (
            EVALUATE_MODULE,
            evaluation_args(
                output, spec.eval_type, spec.eval_config, self.plan.extra_eval_args, key, self.path(run.input_file)
            ),
        )
        overrides = generation_overrides(self.plan, task, self.path)
        return self._client(task, server, sandbox, self.plan.server, overrides, eval_step)

    def _job(self, name: str, commands: list, dependencies: list):
        from nemo_skills.pipeline.declarative import CommandGroup, Job

        job = Job(name, [CommandGroup(commands, self.hardware)], dependencies=dependencies)
        if not dependencies:
            job.run_after = list(self.plan.job.run_after)
        self.jobs.append(job)
        return job

    def main_jobs(self, pending: list[EvalTask]) -> dict[str, list]:
        """The generation+grading jobs; returns the jobs holding each benchmark's tasks."""
        from nemo_skills.pipeline.declarative import Command
        from nemo_skills.pipeline.scripts import SequenceScript

        by_benchmark: dict[str, list] = {}
        expname = self.plan.job.expname
        if self.cluster.executor == "slurm":
            num_jobs = self.plan.num_jobs or len(pending)
            batches = [pending[i::num_jobs] for i in range(min(num_jobs, len(pending)))]
            for index, batch in enumerate(batches):
                server = server_command(self.plan.server)
                sandbox = self._sandbox(_needs_sandbox(self.plan, [t.run for t in batch]))
                clients = [self._main_client(task, server, sandbox) for task in batch]
                main = clients[0] if len(clients) == 1 else SequenceScript(name="clients", parts=clients)
                name = f"{expname}-{batch[0].label}" if len(batch) == 1 else f"{expname}-batch{index}"
                job = self._job(name, [c for c in (server, sandbox) if c] + [Command(main)], [])
                for task in batch:
                    by_benchmark.setdefault(task.run.name, []).append(job)
        else:
            server = server_command(self.plan.server)
            sandbox = self._sandbox(_needs_sandbox(self.plan, [t.run for t in pending]))
            clients = [Command(self._main_client(task, server, sandbox)) for task in pending]
            job = self._job(expname, [c for c in (server, sandbox) if c] + clients, [])
            for task in pending:
                by_benchmark.setdefault(task.run.name, []).append(job)
        return by_benchmark

    def _judge_overrides(self, options: ServerOptions, source: Path, target: Path, prompt: str, key: str) -> list[str]:
        judge = self.plan.judge
        overrides = [
            f"++input_file={self.path(source)}",
            f"++output_file={self.path(target)}",
            f"++server.server_type={options.server_type}",
            f"++prompt_config={prompt}",
            f"++generation_key={key}",
        ]
        if options.model:
            overrides.append(f"++server.model={options.model}")
        if self.plan.rerun_done:
            overrides.append("++skip_filled=False")
        return overrides + [*judge_spec_args(self.runs, source), *shlex.split(judge.extra_judge_args)]

    def judge_job(self, run: BenchmarkRun, dependencies: list):
        """Per seed: judge the main output into the final file (a pairwise judge plays a second, swapped game
        first into an intermediate file), then parse the verdicts."""
        from nemo_skills.pipeline.declarative import Command
        from nemo_skills.pipeline.scripts import GenerationClientScript, SequenceScript

        judge = run.spec.judge
        assert judge is not None
        options = self.plan.judge.server_for(judge)
        server = server_command(options)
        clients = []
        for seed in run.seeds:
            task = EvalTask(run, seed, None)
            source, final = run.output_file(seed, run.generation_dir), run.output_file(seed)
            eval_args = evaluation_args(self.path(final), judge.eval_type, judge.eval_config, [], "generation")
            if judge.swapped_prompt_config is None:
                overrides = self._judge_overrides(options, source, final, judge.prompt_config, judge.generation_key)
                clients.append(self._client(task, server, None, options, overrides, (EVALUATE_MODULE, eval_args)))
                continue
            first_game = run.generation_dir / f"judged-first-{final.name}"
            first = GenerationClientScript(
                name=f"judge-{task.label}-first",
                server=server.script if server else None,
                server_address=options.server_address,
                server_wait_s=options.server_wait_s,
                overrides=self._judge_overrides(
                    options, source, first_game, judge.prompt_config, judge.generation_key
                ),
            )
            second_overrides = self._judge_overrides(
                options, first_game, final, judge.swapped_prompt_config, judge.swapped_generation_key
            )
            second = self._client(task, server, None, options, second_overrides, (EVALUATE_MODULE, eval_args))
            clients.append(SequenceScript(name=f"judge-{task.label}", parts=[first, second]))
        if self.cluster.executor == "slurm" and len(clients) > 1:
            clients = [SequenceScript(name="judges", parts=clients)]
        name = f"{self.plan.job.expname}-{run.name}-judge"
        return self._job(name, [c for c in (server,) if c] + [Command(c) for c in clients], dependencies)

    def summary_job(self, dependencies: list):
        from nemo_skills.pipeline.declarative import Command
        from nemo_skills.pipeline.scripts import ModuleScript
        from nemo_skills.utils.overrides import hydra_value

        results = self.path(Path(self.plan.output_dir) / "eval-results")
        args = [f"++results_dir={hydra_value(results)}", f"++benchmarks={hydra_value([r.name for r in self.runs])}"]
        if self.plan.extra_datasets:
            args.append(f"++extra_datasets={hydra_value([self.path(d) for d in self.plan.extra_datasets])}")
        if self.plan.groups():
            args.append(f"++groups={hydra_value(self.plan.groups())}")
        script = ModuleScript(name="summarize", module=SUMMARIZE_MODULE, args=args)
        return self._job(f"{self.plan.job.expname}-summarize", [Command(script)], dependencies)

    def _summarized(self) -> bool:
        import json

        metrics_file = Path(self.plan.output_dir) / "eval-results" / "metrics.json"
        try:
            saved = json.loads(metrics_file.read_text())
        except (OSError, ValueError):
            return False
        return all(run.name in saved for run in self.runs)

    def build(self, pending: list[EvalTask]):
        from nemo_skills.pipeline.declarative import Pipeline

        by_benchmark = self.main_jobs(pending) if pending else {}
        for run in self.runs:
            if run.spec.judge is not None and not all(is_task_finished(EvalTask(run, s, None)) for s in run.seeds):
                self.judge_job(run, list(dict.fromkeys(by_benchmark.get(run.name, []))))
        if self.plan.auto_summarize_results and (self.jobs or not self._summarized()):
            self.summary_job(list(self.jobs))
        log_dir = str(Path(self.plan.output_dir).resolve() / "eval-logs")
        return Pipeline(self.plan.job.expname, self.cluster, self.jobs, log_dir)


def pending_tasks(plan: EvalPlan, runs: list[BenchmarkRun]) -> list[EvalTask]:
    """Tasks whose graded output (for judged benchmarks: the graded main output before judging) is missing."""
    from nemo_skills.evaluation.evaluate import graded_record_path
    from nemo_skills.inference.output_files import chunk_output_file, is_done

    if plan.rerun_done:
        return plan.tasks(runs)
    pending = []
    for task in plan.tasks(runs):
        generated = task.run.output_file(task.seed, task.run.generation_dir)
        graded = is_done(generated) and graded_record_path(generated).is_file()
        chunk_done = task.chunk is not None and is_done(chunk_output_file(generated, task.chunk))
        if is_task_finished(task) or graded or (chunk_done and not is_done(generated)):
            continue
        pending.append(task)
    return pending


def run_eval(plan: EvalPlan):
    """Check everything, then run (or with dry_run, print) the evaluation pipeline."""
    from nemo_skills.pipeline.run import run_pipeline

    runs = plan.runs()
    check_plan(plan, runs)
    pending = pending_tasks(plan, runs)
    LOG.info("%d of %d evaluation task(s) to run", len(pending), len(plan.tasks(runs)))
    pipeline = EvalPipelineBuilder(plan, runs).build(pending)
    if not pipeline.jobs:
        LOG.info("Every benchmark in %s is evaluated; nothing to run (use --rerun_done).", plan.output_dir)
        return None
    return run_pipeline(pipeline, dry_run=plan.job.dry_run)


BenchmarksOption = Annotated[
    str,
    typer.Option("--benchmarks", help="Comma list of name or name:N (N samples per problem), e.g. gsm8k:4,math-500."),
]


@app.command("eval", context_settings=EXTRA_ARGS)
def eval_command(
    ctx: typer.Context,
    benchmarks: BenchmarksOption,
    output_dir: options.OutputDir,
    server_type: options.ServerType = "vllm",
    model: options.Model = None,
    server_address: options.ServerAddress = None,
    server_gpus: options.ServerGpus = None,
    server_nodes: options.ServerNodes = 1,
    server_args: options.ServerArgs = "",
    server_port: options.ServerPort = None,
    server_container: options.ServerContainer = None,
    server_entrypoint: options.ServerEntrypoint = None,
    server_wait_s: options.ServerWait = 600.0,
    data_dir: Annotated[
        Optional[str], typer.Option("--data_dir", help="Prepared data (default: the packages').")
    ] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="Evaluate this split of every benchmark.")] = None,
    extra_datasets: Annotated[
        Optional[list[str]], typer.Option("--extra_datasets", help="Folders with more benchmark packages.")
    ] = None,
    judge_model: Annotated[Optional[str], typer.Option("--judge_model")] = None,
    judge_server_type: Annotated[Optional[str], typer.Option("--judge_server_type")] = None,
    judge_server_address: Annotated[Optional[str], typer.Option("--judge_server_address")] = None,
    judge_server_gpus: Annotated[Optional[int], typer.Option("--judge_server_gpus")] = None,
    judge_server_args: Annotated[str, typer.Option("--judge_server_args")] = "",
    extra_judge_args: Annotated[str, typer.Option("--extra_judge_args", help="++ arguments for the judges.")] = "",
    extra_eval_args: Annotated[str, typer.Option("--extra_eval_args", help="++ arguments for grading.")] = "",
    starting_seed: Annotated[int, typer.Option("--starting_seed")] = 0,
    num_chunks: Annotated[
        Optional[int], typer.Option("--num_chunks", help="Split each benchmark in N chunks.")
    ] = None,
    num_jobs: Annotated[Optional[int], typer.Option("--num_jobs", help="Slurm: batch the tasks in N jobs.")] = None,
    rerun_done: Annotated[bool, typer.Option("--rerun_done", help="Start over, even where outputs are done.")] = False,
    with_sandbox: Annotated[bool, typer.Option("--with_sandbox", help="Start a code sandbox for every job.")] = False,
    auto_summarize_results: Annotated[
        bool, typer.Option("--auto_summarize_results/--no_auto_summarize_results")
    ] = True,
    cluster: options.Cluster = None,
    config_dir: options.ConfigDir = None,
    expname: options.Expname = None,
    partition: options.Partition = None,
    qos: options.Qos = None,
    time_min: options.TimeMin = None,
    exclusive: options.Exclusive = False,
    run_after: options.RunAfter = None,
    dry_run: options.DryRun = False,
) -> None:
    """Evaluate a model on benchmarks. Extra `++key=value` arguments configure every generation."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    values = locals()
    plan = EvalPlan(
        benchmarks=benchmarks,
        output_dir=output_dir,
        server=from_values(ServerOptions, values),
        job=from_values(JobOptions, {**values, "expname": expname or "eval", "run_after": run_after or []}),
        judge=from_values(JudgeOptions, values),
        data_dir=data_dir,
        split=split,
        extra_datasets=list(extra_datasets or []),
        starting_seed=starting_seed,
        num_chunks=num_chunks,
        num_jobs=num_jobs,
        rerun_done=rerun_done,
        with_sandbox=with_sandbox,
        auto_summarize_results=auto_summarize_results,
        extra_eval_args=shlex.split(extra_eval_args),
        overrides=list(ctx.args),
    )
    result = run_eval(plan)
    if result is not None and not dry_run and plan.auto_summarize_results:
        print_local_summary(plan)


def print_local_summary(plan: EvalPlan) -> None:
    """After a run on this machine, print the tables the summary job computed."""
    from nemo_skills.pipeline.cluster import load_cluster_config

    if load_cluster_config(plan.job.cluster, plan.job.config_dir).executor == "slurm":
        return
    from nemo_skills.evaluation.summarize import SummarizeConfig, summarize_results

    names = [run.name for run in plan.runs()]
    results_dir = str(Path(plan.output_dir) / "eval-results")
    config = SummarizeConfig(results_dir, benchmarks=names, extra_datasets=plan.extra_datasets, groups=plan.groups())
    print(summarize_results(config)[1])
