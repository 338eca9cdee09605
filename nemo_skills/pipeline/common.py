"""Option groups shared by the `ns` commands, and the server every command can start next to its work."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, fields
from typing import Any, Optional, TypeVar

from nemo_skills.errors import ConfigError

HOSTED_SERVER_TYPES = ("openai", "azureopenai", "gemini")
T = TypeVar("T")


def from_values(cls: type[T], values: dict[str, Any]) -> T:
    """An option group from a command's parameters (`locals()`): each field takes the parameter of its name."""
    return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})  # type: ignore[call-arg]


@dataclass
class ServerOptions:
    server_type: str = "vllm"
    model: Optional[str] = None
    server_address: Optional[str] = None
    server_gpus: Optional[int] = None  # None: no server is started
    server_nodes: int = 1
    server_args: str = ""
    server_port: Optional[int] = None
    server_container: Optional[str] = None
    server_entrypoint: Optional[str] = None
    server_wait_s: float = 600.0

    @property
    def self_hosted(self) -> bool:
        return self.server_gpus is not None and self.server_address is None

    def check(self) -> None:
        if self.self_hosted and not self.model:
            raise ConfigError("--server_gpus starts a server, which needs --model.")
        if not self.self_hosted and not self.server_address and self.server_type not in HOSTED_SERVER_TYPES:
            raise ConfigError("Give --server_address of a running server, or --server_gpus (0 on CPU) to start one.")


@dataclass
class JobOptions:
    cluster: Optional[str] = None
    config_dir: Optional[str] = None
    expname: str = "generate"
    partition: Optional[str] = None
    qos: Optional[str] = None
    time_min: Optional[str] = None
    exclusive: bool = False
    run_after: list[str] = field(default_factory=list)
    dependent_jobs: int = 0
    dry_run: bool = False


def server_command(options: ServerOptions):
    """The self-hosted server's Command (None when the work uses a running or hosted server)."""
    from nemo_skills.inference.server.local import free_port
    from nemo_skills.pipeline.declarative import Command
    from nemo_skills.pipeline.scripts import ServerScript

    if not options.self_hosted:
        return None
    script = ServerScript(
        name="server",
        server_type=options.server_type,
        model=options.model or "",
        port=options.server_port or free_port(),
        port_fixed=options.server_port is not None,
        gpus=options.server_gpus or 0,
        nodes=options.server_nodes,
        server_args=shlex.split(options.server_args),
        entrypoint=options.server_entrypoint,
    )
    # megatron and multi-node trtllm start one process per GPU: the launch command says how many per node
    tasks = script.launch().num_tasks
    return Command(
        script, container=options.server_container, gpus=script.gpus, nodes=script.nodes, tasks_per_node=tasks
    )
