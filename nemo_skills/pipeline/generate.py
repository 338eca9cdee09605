"""`ns generate`: one generation task per (seed, chunk) not yet done, next to a self-hosted server or against a
running one, as declarative jobs on any executor."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Optional

import typer

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline import options
from nemo_skills.pipeline.cli import EXTRA_ARGS, app
from nemo_skills.pipeline.common import JobOptions, ServerOptions, from_values, server_command

LOG = logging.getLogger(__name__)


@dataclass
class GenerationPlan:
    """What `ns generate` runs: one generation task per (seed, chunk)."""

    input_file: str
    output_dir: str
    server: ServerOptions = field(default_factory=ServerOptions)
    job: JobOptions = field(default_factory=JobOptions)
    random_seeds: list[Optional[int]] = field(default_factory=lambda: [None])
    num_chunks: Optional[int] = None
    chunk_ids: Optional[list[int]] = None
    rerun_done: bool = False
    with_sandbox: bool = False
    overrides: list[str] = field(default_factory=list)

    def tasks(self) -> list[tuple[Optional[int], Optional[int]]]:
        chunks: list[Optional[int]] = [None]
        if self.num_chunks is not None:
            chunks = list(self.chunk_ids if self.chunk_ids is not None else range(self.num_chunks))
        return [(seed, chunk) for seed in self.random_seeds for chunk in chunks]

    def output_file(self, seed: Optional[int]) -> Path:
        from nemo_skills.inference.output_files import seed_output_file

        return seed_output_file(self.output_dir, seed)

    def task_overrides(
        self, seed: Optional[int], chunk: Optional[int], path=lambda p: str(p), start_over: bool | None = None
    ) -> list[str]:
        """The `++` arguments of one task; `path` maps host paths to where the task sees them."""
        args = [f"++input_file={path(self.input_file)}", f"++output_file={path(self.output_file(seed))}"]
        args.append(f"++server.server_type={self.server.server_type}")
        if self.server.model and not any(o.lstrip("+").startswith("server.model=") for o in self.overrides):
            args.append(f"++server.model={self.server.model}")
        if seed is not None:
            args.append(f"++inference.random_seed={seed}")
        if chunk is not None:
            args += [f"++num_chunks={self.num_chunks}", f"++chunk_id={chunk}"]
        if self.rerun_done if start_over is None else start_over:
            args.append("++skip_filled=False")
        return args + list(self.overrides)

    def task_name(self, seed: Optional[int], chunk: Optional[int]) -> str:
        name = self.job.expname
        if seed is not None:
            name += f"-rs{seed}"
        if chunk is not None:
            name += f"-chunk{chunk}"
        return name


def parse_int_list(value: Optional[str]) -> Optional[list[int]]:
    """`0,1,5` or an inclusive range `0..3`."""
    if value is None:
        return None
    try:
        if ".." in value:
            start, end = value.split("..", 1)
            return list(range(int(start), int(end) + 1))
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        message = f"Cannot parse {value!r}: use a comma list like 0,1,2 or an inclusive range like 0..3."
        raise ConfigError(message) from None


def pending_tasks(plan: GenerationPlan) -> list[tuple[Optional[int], Optional[int]]]:
    from nemo_skills.inference.output_files import chunk_output_file, is_done

    if plan.rerun_done:
        return plan.tasks()
    pending = []
    for seed, chunk in plan.tasks():
        output = plan.output_file(seed)
        finished = is_done(output) or (chunk is not None and is_done(chunk_output_file(output, chunk)))
        if not finished:
            pending.append((seed, chunk))
    return pending


def check_tasks(plan: GenerationPlan) -> None:
    """Every task's full generation config, checked before anything is started or submitted."""
    from nemo_skills.inference.generate import GenerateConfig, check_config
    from nemo_skills.utils.overrides import build_config

    plan.server.check()
    for seed, chunk in plan.tasks():
        overrides = [*plan.task_overrides(seed, chunk), "++server.base_url=http://127.0.0.1:1/v1"]
        check_config(build_config(GenerateConfig, overrides))
    if len(plan.random_seeds) > 1 and not any("inference.temperature=" in o for o in plan.overrides):
        LOG.warning("Several seeds with temperature 0 give identical samples; set ++inference.temperature.")


def build_pipeline(plan: GenerationPlan, pending: list[tuple[Optional[int], Optional[int]]]):
    """Slurm: one job per task (each with its own server). Elsewhere: one job, one server shared by all tasks."""
    from nemo_skills.pipeline.cluster import load_cluster_config
    from nemo_skills.pipeline.declarative import Command, CommandGroup, HardwareConfig, Job, Pipeline
    from nemo_skills.pipeline.scripts import GenerationClientScript

    cluster = load_cluster_config(plan.job.cluster, plan.job.config_dir)
    hardware = HardwareConfig(plan.job.partition, plan.job.qos, plan.job.time_min, plan.job.exclusive)
    options = plan.server

    def path(host_path) -> str:
        return cluster.container_path(str(Path(host_path).resolve()))

    def sandbox() -> Command | None:
        if not plan.with_sandbox:
            return None
        from nemo_skills.inference.server.local import free_port
        from nemo_skills.pipeline.scripts import SandboxScript

        return Command(SandboxScript(name="sandbox", port=free_port()))

    def client(seed, chunk, server: Command | None, sandbox: Command | None, resume: bool = False) -> Command:
        script = GenerationClientScript(
            name="client" + plan.task_name(seed, chunk)[len(plan.job.expname) :],
            server=server.script if server else None,  # type: ignore[arg-type]
            sandbox=sandbox.script if sandbox else None,  # type: ignore[arg-type]
            server_address=options.server_address,
            server_wait_s=options.server_wait_s,
            # a dependent copy resumes its predecessor's work, even under --rerun_done
            overrides=plan.task_overrides(seed, chunk, path, start_over=False if resume else None),
        )
        return Command(script)

    jobs: list[Job] = []
    if cluster.executor == "slurm":
        for seed, chunk in pending:
            previous = None
            for copy in range(plan.job.dependent_jobs + 1):
                server, box = server_command(options), sandbox()
                commands = [c for c in (server, box, client(seed, chunk, server, box, copy > 0)) if c is not None]
                name = plan.task_name(seed, chunk) + (f"-dep{copy}" if copy else "")
                job = Job(
                    name,
                    [CommandGroup(commands, hardware)],
                    dependencies=[previous] if previous else [],
                    run_after=list(plan.job.run_after) if previous is None else [],
                    # a copy resumes whatever its predecessor left, even when that one hit its time limit
                    dependency_type="afterany" if previous else None,
                )
                jobs.append(job)
                previous = job
    else:
        server, box = server_command(options), sandbox()
        clients = [client(seed, chunk, server, box) for seed, chunk in pending]
        commands = [c for c in (server, box) if c is not None] + clients
        jobs.append(Job(plan.job.expname, [CommandGroup(commands, hardware)], run_after=list(plan.job.run_after)))
    log_dir = str(Path(plan.output_dir).resolve() / "generation-logs")
    return Pipeline(plan.job.expname, cluster, jobs, log_dir)


def run_generation(plan: GenerationPlan):
    """Check everything, then run (or with dry_run, print) the jobs of every unfinished task."""
    from nemo_skills.pipeline.run import run_pipeline

    check_tasks(plan)
    pending = pending_tasks(plan)
    if not pending:
        LOG.info("Every output in %s is done; nothing to run (use --rerun_done to regenerate).", plan.output_dir)
        return None
    pipeline = build_pipeline(plan, pending)
    if plan.job.dry_run:
        print(request_summary(plan, pending))
    return run_pipeline(pipeline, dry_run=plan.job.dry_run)


def request_summary(plan: GenerationPlan, pending: list[tuple[Optional[int], Optional[int]]]) -> str:
    """How many requests the pending tasks send at most (rows already generated by a killed run are skipped)."""
    from nemo_skills.inference.output_files import chunk_bounds

    try:
        with open(plan.input_file, "rb") as handle:
            num_rows = sum(1 for line in handle if line.strip())
    except OSError:
        return f"{len(pending)} of {len(plan.tasks())} generation task(s) to run; {plan.input_file} is not here"
    total = 0
    for _, chunk in pending:
        start, end = chunk_bounds(num_rows, plan.num_chunks, chunk) if chunk is not None else (0, num_rows)
        total += end - start
    return (
        f"{len(pending)} of {len(plan.tasks())} generation task(s) to run ({len(plan.tasks()) - len(pending)} done); "
        f"{num_rows} input rows; at most {total} requests"
    )


@app.command("generate", context_settings=EXTRA_ARGS)
def generate_command(
    ctx: typer.Context,
    input_file: Annotated[str, typer.Option("--input_file", help="JSONL file with one problem per line.")],
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
    num_random_seeds: Annotated[Optional[int], typer.Option("--num_random_seeds", help="Seeds 0..N-1.")] = None,
    random_seeds: Annotated[Optional[str], typer.Option("--random_seeds", help="e.g. 0,1,2 or 0..3")] = None,
    num_chunks: Annotated[Optional[int], typer.Option("--num_chunks", help="Split the input in N chunks.")] = None,
    chunk_ids: Annotated[
        Optional[str], typer.Option("--chunk_ids", help="Only these chunks, e.g. 0,2 or 0..3")
    ] = None,
    rerun_done: Annotated[bool, typer.Option("--rerun_done", help="Regenerate outputs already done.")] = False,
    with_sandbox: Annotated[
        bool, typer.Option("--with_sandbox", help="Start a code-execution sandbox next to each generation job.")
    ] = False,
    cluster: options.Cluster = None,
    config_dir: options.ConfigDir = None,
    expname: options.Expname = None,
    partition: options.Partition = None,
    qos: options.Qos = None,
    time_min: options.TimeMin = None,
    exclusive: options.Exclusive = False,
    run_after: options.RunAfter = None,
    dependent_jobs: options.DependentJobs = 0,
    dry_run: options.DryRun = False,
) -> None:
    """Generate outputs for a JSONL file. Extra `++key=value` arguments configure the generation script."""
    if num_random_seeds is not None and random_seeds is not None:
        raise ConfigError("Use either --num_random_seeds or --random_seeds, not both.")
    seeds: list[Optional[int]] = [None]
    if num_random_seeds is not None:
        seeds = list(range(num_random_seeds))
    elif random_seeds is not None:
        seeds = list(parse_int_list(random_seeds) or [])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = from_values(ServerOptions, locals())
    job = from_values(JobOptions, {**locals(), "expname": expname or "generate", "run_after": run_after or []})
    plan = GenerationPlan(
        input_file=input_file,
        output_dir=output_dir,
        server=server,
        job=job,
        random_seeds=seeds,
        num_chunks=num_chunks,
        chunk_ids=parse_int_list(chunk_ids),
        rerun_done=rerun_done,
        with_sandbox=with_sandbox,
        overrides=list(ctx.args),
    )
    run_generation(plan)
