"""`ns start_server`: serve a model here until interrupted, or as a job on a cluster."""

from __future__ import annotations

import logging
import shlex
import time
from typing import Annotated

import typer

from nemo_skills.pipeline import options
from nemo_skills.pipeline.cli import app


@app.command("start_server")
def start_server_command(
    model: options.Model,
    server_type: options.ServerType = "vllm",
    server_gpus: Annotated[int, typer.Option("--server_gpus", help="GPUs for the server (0: CPU).")] = 0,
    server_args: options.ServerArgs = "",
    server_port: options.ServerPort = None,
    server_python: options.ServerPython = None,
    server_wait_s: options.ServerWait = 600.0,
    log_file: Annotated[str, typer.Option("--log_file", help="Where the server's output goes.")] = "server.log",
    server_nodes: options.ServerNodes = 1,
    server_container: options.ServerContainer = None,
    server_entrypoint: options.ServerEntrypoint = None,
    cluster: options.Cluster = None,
    config_dir: options.ConfigDir = None,
    expname: options.Expname = None,
    partition: options.Partition = None,
    qos: options.Qos = None,
    time_min: options.TimeMin = None,
    exclusive: options.Exclusive = False,
    dry_run: options.DryRun = False,
) -> None:
    """Start a model server, wait until it answers, print its URL and keep it running until Ctrl-C.

    With a --cluster whose executor is local or slurm, the server is a job of its own instead."""
    from pathlib import Path

    from nemo_skills.errors import ConfigError
    from nemo_skills.inference.server.local import LocalServer, LocalServerConfig
    from nemo_skills.pipeline.cluster import load_cluster_config

    if not model:
        raise ConfigError("--model is required.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cluster_config = load_cluster_config(cluster, config_dir)
    if cluster_config.executor != "none":
        from nemo_skills.pipeline.common import JobOptions, ServerOptions, from_values

        server = from_values(ServerOptions, locals())
        job = from_values(JobOptions, {**locals(), "expname": expname or "start_server"})
        submit_server_job(server, job, cluster_config, str(Path(log_file).resolve().parent))
        return
    cfg = LocalServerConfig(
        server_type=server_type,
        model=model,
        num_gpus=server_gpus or 0,
        port=server_port,
        extra_args=shlex.split(server_args),
        python=server_python,
        log_file=Path(log_file),
        start_timeout_s=server_wait_s,
    )
    with LocalServer(cfg) as server:
        print(f"Serving {model} at {server.base_url} (Ctrl-C stops it)", flush=True)
        try:
            while server.process is not None and server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


def submit_server_job(server, job, cluster, log_dir: str) -> None:
    """The server as a job of its own; its node is known once Slurm schedules it (see its log)."""
    from nemo_skills.inference.server.local import free_port
    from nemo_skills.pipeline.declarative import Command, CommandGroup, HardwareConfig, Job, Pipeline
    from nemo_skills.pipeline.run import run_pipeline
    from nemo_skills.pipeline.scripts import StandaloneServerScript

    script = StandaloneServerScript(
        name="server",
        server_type=server.server_type,
        model=server.model,
        port=server.server_port or free_port(),
        gpus=server.server_gpus or 0,
        nodes=server.server_nodes,
        server_args=shlex.split(server.server_args),
        entrypoint=server.server_entrypoint,
    )
    hardware = HardwareConfig(job.partition, job.qos, job.time_min, job.exclusive)
    command = Command(script, container=server.server_container, gpus=script.gpus, nodes=script.nodes)
    pipeline = Pipeline(job.expname, cluster, [Job(job.expname, [CommandGroup([command], hardware)])], log_dir)
    run_pipeline(pipeline, dry_run=job.dry_run)
    if not job.dry_run:
        print(
            f"Server job {job.expname} submitted: it listens on port {script.port} of its node "
            f"(log: {log_dir}/{job.expname}_server.log)."
        )
