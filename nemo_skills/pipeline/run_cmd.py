"""`ns run_cmd`: run any command as a job on any executor, optionally next to a self-hosted model server."""

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


@dataclass
class RunCommandPlan:
    command: str
    log_dir: str
    container: str = "nemo-skills"
    num_gpus: int = 0
    num_nodes: int = 1
    num_tasks: int = 1  # per node
    server: ServerOptions = field(default_factory=ServerOptions)
    job: JobOptions = field(default_factory=lambda: JobOptions(expname="run_cmd"))


def build_run_cmd_pipeline(plan: RunCommandPlan):
    from nemo_skills.pipeline.cluster import load_cluster_config
    from nemo_skills.pipeline.declarative import Command, CommandGroup, HardwareConfig, Job, Pipeline
    from nemo_skills.pipeline.scripts import UserCommandScript

    if not plan.command.strip():
        raise ConfigError("Give the command to run: ns run_cmd --command '...' (or after the options).")
    if plan.server.server_gpus is not None or plan.server.server_address:
        plan.server.check()
    cluster = load_cluster_config(plan.job.cluster, plan.job.config_dir)
    server = server_command(plan.server)
    script = UserCommandScript(
        name="cmd",
        shell=plan.command,
        server=server.script if server else None,
        server_wait_s=plan.server.server_wait_s,
    )
    main = Command(
        script, container=plan.container, gpus=plan.num_gpus, nodes=plan.num_nodes, tasks_per_node=plan.num_tasks
    )
    if plan.server.server_address:
        main.env["NEMO_SKILLS_SERVER_URL"] = plan.server.server_address
    hardware = HardwareConfig(plan.job.partition, plan.job.qos, plan.job.time_min, plan.job.exclusive)
    commands = [c for c in (server, main) if c is not None]
    job = Job(plan.job.expname, [CommandGroup(commands, hardware)], run_after=list(plan.job.run_after))
    return Pipeline(plan.job.expname, cluster, [job], str(Path(plan.log_dir).resolve()))


def run_command(plan: RunCommandPlan):
    from nemo_skills.pipeline.run import run_pipeline

    return run_pipeline(build_run_cmd_pipeline(plan), dry_run=plan.job.dry_run)


@app.command("run_cmd", context_settings=EXTRA_ARGS)
def run_cmd_command(
    ctx: typer.Context,
    command: Annotated[
        Optional[str], typer.Option("--command", help="Shell command (or give it after the options).")
    ] = None,
    log_dir: Annotated[str, typer.Option("--log_dir", help="Where the job's logs go.")] = "run_cmd-logs",
    container: Annotated[
        str, typer.Option("--container", help="Container name (or, with none, Python env).")
    ] = "nemo-skills",
    num_gpus: Annotated[int, typer.Option("--num_gpus", help="GPUs per node for the command.")] = 0,
    num_nodes: Annotated[int, typer.Option("--num_nodes", help="Nodes for the command.")] = 1,
    num_tasks: Annotated[int, typer.Option("--num_tasks", help="Processes per node (Slurm).")] = 1,
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
    """Run a command as a job. Next to a server, $NEMO_SKILLS_SERVER_URL holds its URL once it answers."""
    if command and ctx.args:
        raise ConfigError("Give the command either with --command or after the options, not both.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = from_values(ServerOptions, locals())
    job = from_values(JobOptions, {**locals(), "expname": expname or "run_cmd", "run_after": run_after or []})
    plan = RunCommandPlan(
        command or " ".join(ctx.args), log_dir, container, num_gpus, num_nodes, num_tasks, server, job
    )
    run_command(plan)
