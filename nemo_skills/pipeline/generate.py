"""`ns generate`: generation for every (seed, chunk), next to a self-hosted server or against a running one.

This version runs on this machine (executor `none`); the declarative pipeline runs the same plan on Docker/Slurm.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Optional

import typer

from nemo_skills.errors import ConfigError, NemoSkillsError
from nemo_skills.pipeline import options
from nemo_skills.pipeline.cli import EXTRA_ARGS, app

LOG = logging.getLogger(__name__)


@dataclass
class GenerationPlan:
    """What `ns generate` runs: one generation task per (seed, chunk), and the server they share."""

    input_file: str
    output_dir: str
    server_type: str = "vllm"
    model: Optional[str] = None
    server_address: Optional[str] = None
    server_gpus: Optional[int] = None
    server_args: str = ""
    server_port: Optional[int] = None
    server_python: Optional[str] = None
    server_wait_s: float = 600.0
    random_seeds: list[Optional[int]] = field(default_factory=lambda: [None])
    num_chunks: Optional[int] = None
    chunk_ids: Optional[list[int]] = None
    rerun_done: bool = False
    dry_run: bool = False
    overrides: list[str] = field(default_factory=list)

    def tasks(self) -> list[tuple[Optional[int], Optional[int]]]:
        chunks: list[Optional[int]] = [None]
        if self.num_chunks is not None:
            chunks = list(self.chunk_ids if self.chunk_ids is not None else range(self.num_chunks))
        return [(seed, chunk) for seed in self.random_seeds for chunk in chunks]

    def output_file(self, seed: Optional[int]) -> Path:
        from nemo_skills.inference.output_files import seed_output_file

        return seed_output_file(self.output_dir, seed)

    def task_overrides(self, seed: Optional[int], chunk: Optional[int], base_url: str) -> list[str]:
        args = [
            f"++input_file={self.input_file}",
            f"++output_file={self.output_file(seed)}",
            f"++server.server_type={self.server_type}",
            f"++server.base_url={base_url}",
        ]
        if self.model and not any(o.lstrip("+").startswith("server.model=") for o in self.overrides):
            args.append(f"++server.model={self.model}")
        if seed is not None:
            args.append(f"++inference.random_seed={seed}")
        if chunk is not None:
            args += [f"++num_chunks={self.num_chunks}", f"++chunk_id={chunk}"]
        if self.rerun_done:
            args.append("++skip_filled=False")
        return args + list(self.overrides)


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


def run_generation(plan: GenerationPlan) -> list[Path]:
    """Run every unfinished task of `plan`, starting (and stopping) a local server when one is asked for."""
    from nemo_skills.inference.generate import GenerateConfig, check_config
    from nemo_skills.utils.overrides import build_config

    for seed, chunk in plan.tasks():  # every task's full config is checked before a server starts
        check_config(build_config(GenerateConfig, plan.task_overrides(seed, chunk, "http://127.0.0.1:1/v1")))
    self_hosted = plan.server_gpus is not None and plan.server_address is None
    if self_hosted and not plan.model:
        raise ConfigError("--server_gpus starts a server, which needs --model.")
    if not self_hosted and not plan.server_address and plan.server_type not in ("openai", "azureopenai", "gemini"):
        raise ConfigError("Give --server_address of a running server, or --server_gpus (0 on CPU) to start one.")
    if len(plan.random_seeds) > 1 and not any("inference.temperature=" in o for o in plan.overrides):
        LOG.warning("Several seeds with temperature 0 give identical samples; set ++inference.temperature.")
    pending = pending_tasks(plan)
    log_dir = Path(plan.output_dir) / "generation-logs"
    if not pending:
        LOG.info("Every output in %s is done; nothing to run (use --rerun_done to regenerate).", plan.output_dir)
        return []
    if plan.dry_run:
        _print_plan(plan, pending, self_hosted)
        return []
    log_dir.mkdir(parents=True, exist_ok=True)
    if self_hosted:
        from nemo_skills.inference.server.local import LocalServer, LocalServerConfig

        server_cfg = LocalServerConfig(
            server_type=plan.server_type,
            model=plan.model,
            num_gpus=plan.server_gpus,
            port=plan.server_port,
            extra_args=shlex.split(plan.server_args),
            python=plan.server_python,
            log_file=log_dir / "server.log",
            start_timeout_s=plan.server_wait_s,
        )
        with LocalServer(server_cfg) as server:
            return _run_tasks(plan, pending, server.base_url, log_dir)
    return _run_tasks(plan, pending, plan.server_address or "", log_dir)


def _run_tasks(plan: GenerationPlan, pending: list, base_url: str, log_dir: Path) -> list[Path]:
    outputs = []
    for seed, chunk in pending:
        argv = [sys.executable, "-m", "nemo_skills.inference.generate", *plan.task_overrides(seed, chunk, base_url)]
        name = plan.output_file(seed).stem + (f"_chunk{chunk}" if chunk is not None else "")
        log_file = log_dir / f"{name}.log"
        LOG.info("Generating %s (log: %s)", name, log_file)
        returncode = run_logged(argv, log_file)
        if returncode != 0:
            raise TaskFailedError(
                f"Generation task {name} failed (exit code {returncode}); log: {log_file}. Re-run the same command "
                "to resume: finished samples are kept."
            )
        outputs.append(plan.output_file(seed))
    return outputs


class TaskFailedError(NemoSkillsError):
    """A job component exited with an error."""


def run_logged(argv: list[str], log_file: Path) -> int:
    """Run argv with its output both on this terminal and in log_file (progress bars included)."""
    with log_file.open("ab") as log, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(65536):
            log.write(chunk)
            log.flush()
            sys.stderr.buffer.write(chunk)
            sys.stderr.buffer.flush()
    return proc.returncode


def _print_plan(plan: GenerationPlan, pending: list, self_hosted: bool) -> None:
    print(f"Plan: {len(pending)} generation task(s) of {len(plan.tasks())} (the rest are done)")
    if self_hosted:
        print(f"  server: {plan.server_type} serving {plan.model} on this machine ({plan.server_gpus} GPUs)")
    for seed, chunk in pending:
        argv = ["python", "-m", "nemo_skills.inference.generate", *plan.task_overrides(seed, chunk, "<server>")]
        print("  " + shlex.join(argv))


@app.command("generate", context_settings=EXTRA_ARGS)
def generate_command(
    ctx: typer.Context,
    input_file: Annotated[str, typer.Option("--input_file", help="JSONL file with one problem per line.")],
    output_dir: options.OutputDir,
    server_type: options.ServerType = "vllm",
    model: options.Model = None,
    server_address: options.ServerAddress = None,
    server_gpus: options.ServerGpus = None,
    server_args: options.ServerArgs = "",
    server_port: options.ServerPort = None,
    server_python: options.ServerPython = None,
    server_wait_s: options.ServerWait = 600.0,
    num_random_seeds: Annotated[Optional[int], typer.Option("--num_random_seeds", help="Seeds 0..N-1.")] = None,
    random_seeds: Annotated[Optional[str], typer.Option("--random_seeds", help="e.g. 0,1,2 or 0..3")] = None,
    num_chunks: Annotated[Optional[int], typer.Option("--num_chunks", help="Split the input in N chunks.")] = None,
    chunk_ids: Annotated[
        Optional[str], typer.Option("--chunk_ids", help="Only these chunks, e.g. 0,2 or 0..3")
    ] = None,
    rerun_done: Annotated[bool, typer.Option("--rerun_done", help="Regenerate outputs already done.")] = False,
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
    plan = GenerationPlan(
        input_file=input_file,
        output_dir=output_dir,
        server_type=server_type,
        model=model,
        server_address=server_address,
        server_gpus=server_gpus,
        server_args=server_args,
        server_port=server_port,
        server_python=server_python,
        server_wait_s=server_wait_s,
        random_seeds=seeds,
        num_chunks=num_chunks,
        chunk_ids=parse_int_list(chunk_ids),
        rerun_done=rerun_done,
        dry_run=dry_run,
        overrides=list(ctx.args),
    )
    run_generation(plan)
