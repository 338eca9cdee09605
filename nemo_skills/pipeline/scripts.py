"""Typed parts of a job: what each component runs, and how components find each other.

A Script renders its command for a RenderContext, which knows where every script of the job runs. A client asks
the context for its server's host: `127.0.0.1` inside one allocation, the first node of the server's het group
on a Slurm heterogeneous job; and for its port: the one chosen here, or on Slurm one that the server's node finds
free when the job starts (see `nemo_skills.pipeline.ports`).
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from nemo_skills.errors import ConfigError


class RenderContext(Protocol):
    executor: str

    def host_of(self, script: Script) -> str: ...

    def bind_host(self, script: Script) -> str: ...

    def port_of(self, script: PortScript) -> str: ...

    def python_for(self, script: Script) -> str: ...


@dataclass(kw_only=True, eq=False)
class Script(ABC):
    """One process of a job. `service` scripts (servers, sandboxes) run until the job's main scripts are done."""

    name: str
    service: ClassVar[bool] = False
    default_container: ClassVar[str] = "nemo-skills"

    @abstractmethod
    def command(self, ctx: RenderContext) -> str:
        """The shell command this script runs."""

    def describe(self) -> str:
        return self.name


@dataclass(kw_only=True, eq=False)
class CommandScript(Script):
    """Any command: an argv list (quoted for you) or a shell string (used as is)."""

    argv: list[str] | None = None
    shell: str | None = None

    def __post_init__(self) -> None:
        if (self.argv is None) == (self.shell is None):
            raise ConfigError(f"Script {self.name!r} needs exactly one of argv or shell.")

    def command(self, ctx: RenderContext) -> str:
        return self.shell if self.shell is not None else shlex.join(self.argv or [])


@dataclass(kw_only=True, eq=False)
class UserCommandScript(Script):
    """A user's shell command; next to a server it waits for it and finds its URL in $NEMO_SKILLS_SERVER_URL."""

    shell: str
    server: ServerScript | None = None
    server_wait_s: float = 600.0

    def command(self, ctx: RenderContext) -> str:
        if self.server is None:
            return self.shell
        from nemo_skills.inference.server.commands import to_shell

        url = self.server.base_url(ctx)
        wait = [
            ctx.python_for(self),
            "-m",
            "nemo_skills.inference.server.wait",
            url,
            "--timeout_s",
            str(self.server_wait_s),
        ]
        export = to_shell(["export", f"NEMO_SKILLS_SERVER_URL={url}"])
        return f"{export} && {to_shell(wait)} && {self.shell}"


@dataclass(kw_only=True, eq=False)
class PortScript(Script):
    """A service that listens on a port. `port` is free on this machine; on Slurm, unless `port_fixed`, the service
    takes a port that is free on its own node when the job starts, and its clients learn it then."""

    port: int
    port_fixed: bool = False  # the user chose it: use it everywhere

    def port_description(self) -> str:
        return f"port {self.port}" if self.port_fixed else f"port {self.port}; on Slurm one free on its node at start"


@dataclass(kw_only=True, eq=False)
class ServerScript(PortScript):
    """A self-hosted model server (vllm, sglang, trtllm, megatron, generic) on `gpus` x `nodes`."""

    service: ClassVar[bool] = True
    server_type: str
    model: str
    gpus: int = 0
    nodes: int = 1
    server_args: list[str] = field(default_factory=list)
    entrypoint: str | None = None

    @property
    def container_name(self) -> str:
        return self.server_type

    def launch(self, python: str = "python3", port_text: str | None = None):
        from nemo_skills.inference.server.commands import ServerLaunchSpec, build_server_command

        spec = ServerLaunchSpec(
            server_type=self.server_type,
            model=self.model,
            num_gpus=self.gpus,
            num_nodes=self.nodes,
            port=self.port,
            extra_args=list(self.server_args),
            python=python,
            entrypoint=self.entrypoint,
            port_text=port_text,
        )
        return build_server_command(spec)

    def command(self, ctx: RenderContext) -> str:
        from nemo_skills.inference.server.commands import to_shell

        launch = self.launch(ctx.python_for(self), ctx.port_of(self))
        exports = [f"export {key}={shlex.quote(value)}" for key, value in launch.env.items()]
        if self.server_type == "vllm" and self.gpus == 0:
            # GiB of KV cache; without a cap vLLM on CPU reserves ~90% of the machine's memory. The user's value wins.
            exports.append("export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}")
        return " && ".join([*exports, to_shell(launch.argv)])

    def base_url(self, ctx: RenderContext) -> str:
        root = f"http://{ctx.host_of(self)}:{ctx.port_of(self)}"
        return root if self.server_type == "megatron" else root + "/v1"

    def describe(self) -> str:
        where = f"{self.port_description()}, {self.gpus} GPU(s) x {self.nodes} node(s)"
        return f"{self.name}: {self.server_type} serving {self.model} ({where})"


@dataclass(kw_only=True, eq=False)
class SandboxScript(PortScript):
    """The code-execution sandbox service, next to the clients that run model-written code."""

    service: ClassVar[bool] = True
    default_container: ClassVar[str] = "sandbox"
    workers: int | None = None

    def command(self, ctx: RenderContext) -> str:
        from nemo_skills.inference.server.commands import to_shell

        argv = [
            ctx.python_for(self),
            "-m",
            "nemo_skills.code_execution.server",
            "--host",
            ctx.bind_host(self),
            "--port",
            ctx.port_of(self),
        ]
        if self.workers:
            argv += ["--workers", str(self.workers)]
        return to_shell(argv)

    def env_for_clients(self, ctx: RenderContext) -> dict[str, str]:
        """What a client needs to reach this sandbox (the variables the generation task reads)."""
        return {"NEMO_SKILLS_SANDBOX_HOST": ctx.host_of(self), "NEMO_SKILLS_SANDBOX_PORT": ctx.port_of(self)}

    def describe(self) -> str:
        return f"{self.name}: code sandbox ({self.port_description()})"


@dataclass(kw_only=True, eq=False)
class StandaloneServerScript(ServerScript):
    """A server that is the job itself (`ns start_server` on a cluster): it runs until stopped or timed out. Its
    port is fixed, so that its users know where it listens."""

    service: ClassVar[bool] = False
    port_fixed: bool = True


@dataclass(kw_only=True, eq=False)
class GenerationClientScript(Script):
    """`python -m nemo_skills.inference.generate` with its `++` overrides, pointed at its server (if any)."""

    overrides: list[str] = field(default_factory=list)
    server: ServerScript | None = None
    server_address: str | None = None  # a server running elsewhere
    sandbox: SandboxScript | None = None
    server_wait_s: float = 600.0
    module: str = "nemo_skills.inference.generate"
    after: list[str] = field(default_factory=list)  # shell commands run (&&) after a successful generation
    # python modules (module, argv) run with the client's Python after `after`, e.g. grading the outputs
    after_modules: list[tuple[str, list[str]]] = field(default_factory=list)

    def server_overrides(self, ctx: RenderContext) -> list[str]:
        if self.server is not None:
            return [f"++server.base_url={self.server.base_url(ctx)}", f"++server_wait_timeout_s={self.server_wait_s}"]
        if self.server_address:
            return [f"++server.base_url={self.server_address}"]
        return []

    def argv(self, ctx: RenderContext) -> list[str]:
        python = ctx.python_for(self)
        return [python, "-m", self.module, *self.server_overrides(ctx), *self.overrides]

    def command(self, ctx: RenderContext) -> str:
        from nemo_skills.inference.server.commands import to_shell

        # the server's host may be a het-group placeholder, which to_shell leaves for the shell to expand
        parts = [to_shell(self.argv(ctx))]
        if self.sandbox is not None:
            exports = [f"export {key}={to_shell([value])}" for key, value in self.sandbox.env_for_clients(ctx).items()]
            parts.insert(0, " && ".join(exports))
        parts += self.after
        parts += [to_shell([ctx.python_for(self), "-m", module, *args]) for module, args in self.after_modules]
        return " && ".join(parts)


@dataclass(kw_only=True, eq=False)
class ModuleScript(Script):
    """`python -m <module> <args>` with the Python of the script's container (e.g. the summary of an evaluation)."""

    module: str
    args: list[str] = field(default_factory=list)

    def command(self, ctx: RenderContext) -> str:
        from nemo_skills.inference.server.commands import to_shell

        return to_shell([ctx.python_for(self), "-m", self.module, *self.args])

    def describe(self) -> str:
        return f"{self.name}: python -m {self.module}"


@dataclass(kw_only=True, eq=False)
class SequenceScript(Script):
    """Several scripts run one after another as one main process (`a && b && c`), e.g. many evaluation tasks
    batched into one Slurm job. Each part renders as if it were the job's (its server references resolve)."""

    parts: list[Script]

    def command(self, ctx: RenderContext) -> str:
        if not self.parts:
            raise ConfigError(f"Script {self.name!r} has no parts.")
        return " && ".join(f"( {part.command(_AsPart(ctx, self))} )" for part in self.parts)

    def describe(self) -> str:
        return f"{self.name}: " + ", ".join(part.describe() for part in self.parts)


class _AsPart:
    """A render context that answers for a SequenceScript's parts as for the sequence itself."""

    def __init__(self, ctx: RenderContext, sequence: SequenceScript):
        self._ctx, self._sequence = ctx, sequence
        self.executor = ctx.executor

    def host_of(self, script: Script) -> str:
        return self._ctx.host_of(self._sequence if script in self._sequence.parts else script)

    def bind_host(self, script: Script) -> str:
        return self._ctx.bind_host(self._sequence if script in self._sequence.parts else script)

    def port_of(self, script: PortScript) -> str:
        return self._ctx.port_of(script)

    def python_for(self, script: Script) -> str:
        return self._ctx.python_for(self._sequence if script in self._sequence.parts else script)
