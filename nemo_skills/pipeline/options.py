"""Typer options declared once and reused by every command (names keep their underscores)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

OutputDir = Annotated[str, typer.Option("--output_dir", help="Where outputs and logs go.")]
Model = Annotated[Optional[str], typer.Option("--model", help="Model path or name to serve / query.")]
ServerType = Annotated[
    str, typer.Option("--server_type", help="vllm, sglang, trtllm, megatron, openai, azureopenai, gemini, generic.")
]
ServerAddress = Annotated[
    Optional[str], typer.Option("--server_address", help="Base URL of a running server (then none is started).")
]
ServerGpus = Annotated[
    Optional[int],
    typer.Option("--server_gpus", help="GPUs for a self-hosted server (0: CPU). Unset: hosted elsewhere."),
]
ServerNodes = Annotated[int, typer.Option("--server_nodes", help="Nodes for a self-hosted server.")]
ServerArgs = Annotated[str, typer.Option("--server_args", help="Extra arguments for the server, as one string.")]
ServerPort = Annotated[Optional[int], typer.Option("--server_port", help="Server port (default: a free one).")]
ServerPython = Annotated[
    Optional[str],
    typer.Option("--server_python", help="Python interpreter of the server's environment (e.g. a vLLM venv)."),
]
ServerWait = Annotated[float, typer.Option("--server_wait_s", help="Seconds to wait for the server to be ready.")]
DryRun = Annotated[bool, typer.Option("--dry_run", help="Print what would run; run nothing.")]
ServerContainer = Annotated[
    Optional[str],
    typer.Option(
        "--server_container",
        help="Container (name in the cluster config, or image) of the server; with executor none, its Python.",
    ),
]
ServerEntrypoint = Annotated[
    Optional[str], typer.Option("--server_entrypoint", help="Module or .py file of a `generic` server.")
]
Cluster = Annotated[
    Optional[str], typer.Option("--cluster", help="Cluster config name (or .yaml path). Default: this machine.")
]
ConfigDir = Annotated[Optional[str], typer.Option("--config_dir", help="Where cluster configs are looked up.")]
Expname = Annotated[Optional[str], typer.Option("--expname", help="Experiment name (also names the jobs).")]
Partition = Annotated[Optional[str], typer.Option("--partition", help="Slurm partition.")]
Qos = Annotated[Optional[str], typer.Option("--qos", help="Slurm QoS.")]
TimeMin = Annotated[Optional[str], typer.Option("--time_min", help="Slurm --time-min.")]
Exclusive = Annotated[bool, typer.Option("--exclusive", help="Ask Slurm for whole nodes.")]
RunAfter = Annotated[
    Optional[list[str]], typer.Option("--run_after", help="Start after these earlier experiments (by name).")
]
DependentJobs = Annotated[
    int, typer.Option("--dependent_jobs", help="Chain N extra copies of each job to resume after time limits.")
]
