"""`ns start_server`: serve a model on this machine until interrupted."""

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
) -> None:
    """Start a model server, wait until it answers, print its URL and keep it running until Ctrl-C."""
    from pathlib import Path

    from nemo_skills.errors import ConfigError
    from nemo_skills.inference.server.local import LocalServer, LocalServerConfig

    if not model:
        raise ConfigError("--model is required.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
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
