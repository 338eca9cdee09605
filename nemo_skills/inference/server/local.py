"""Run a self-hosted model server on this machine for the duration of a `with` block."""

from __future__ import annotations

import importlib.util
import logging
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nemo_skills.errors import ConfigError
from nemo_skills.inference.server.commands import ServerLaunchSpec, build_server_command, to_shell
from nemo_skills.inference.server.wait import start_server_process, stop_server_process, wait_for_server

LOG = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free right now (bound and released), not a random guess."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def server_python(server_type: str, requested: str | None, num_gpus: int = 0) -> str:
    """The interpreter that runs the server: the one asked for, this one if it has the server, or the vLLM-CPU venv."""
    if requested:
        if not Path(requested).exists():
            raise ConfigError(f"--server_python {requested} does not exist.")
        return requested
    module = {"vllm": "vllm", "sglang": "sglang"}.get(server_type)
    if module is None or importlib.util.find_spec(module) is not None:
        return sys.executable
    if server_type == "vllm" and num_gpus == 0:
        from nemo_skills.inference.server.vllm_cpu_env import default_venv_dir, is_provisioned, venv_python

        if is_provisioned(default_venv_dir()):
            return str(venv_python(default_venv_dir()))
    hint = "pass --server_container /path/to/venv/bin/python (ns start_server here: --server_python), or name "
    hint += f"it under `containers: {{{server_type}: /path/to/venv}}` in the cluster config"
    if module == "vllm" and num_gpus == 0:
        hint += "; or provision vLLM for CPU: python -m nemo_skills.inference.server.vllm_cpu_env"
    raise ConfigError(f"{module} is not installed in this environment: {hint}.")


@dataclass
class LocalServerConfig:
    server_type: str
    model: str
    num_gpus: int = 0
    port: int | None = None
    extra_args: list[str] = field(default_factory=list)
    python: str | None = None
    log_file: Path = Path("server.log")
    start_timeout_s: float = 600.0


class LocalServer:
    """``with LocalServer(cfg) as server: server.base_url`` — started, health-checked, and always stopped."""

    def __init__(self, cfg: LocalServerConfig):
        self.cfg = cfg
        self.port = cfg.port or free_port()
        self.spec = ServerLaunchSpec(
            server_type=cfg.server_type,
            model=cfg.model,
            num_gpus=cfg.num_gpus,
            port=self.port,
            host="127.0.0.1",
            extra_args=list(cfg.extra_args),
            python=server_python(cfg.server_type, cfg.python, cfg.num_gpus),
        )
        self.command = build_server_command(self.spec)
        self.env: dict[str, str] = {}
        if cfg.server_type == "vllm" and cfg.num_gpus == 0:
            self.env["VLLM_CPU_KVCACHE_SPACE"] = "1"  # GiB; vLLM otherwise reserves most of the machine's memory
        self.process = None

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url if self.cfg.server_type == "megatron" else self.root_url + "/v1"

    def __enter__(self) -> LocalServer:
        LOG.info(
            "Starting %s server: %s (log: %s)", self.cfg.server_type, to_shell(self.command.argv), self.cfg.log_file
        )
        import os

        env = {key: value for key, value in self.env.items() if key not in os.environ}
        self.process = start_server_process(self.command, self.cfg.log_file, env)
        try:
            wait_for_server(
                self.root_url, timeout_s=self.cfg.start_timeout_s, process=self.process, log_file=self.cfg.log_file
            )
        except BaseException:
            stop_server_process(self.process)
            raise
        LOG.info("Server ready at %s", self.base_url)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            stop_server_process(self.process)
            self.process = None
