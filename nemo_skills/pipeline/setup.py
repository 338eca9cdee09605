"""`ns setup`: write a validated cluster config (flags for scripts; prompts for what is missing on a terminal)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline.cli import app


def _pairs(entries: list[str], what: str, sep: str = "=") -> dict[str, str]:
    pairs = {}
    for entry in entries:
        key, found, value = entry.partition(sep)
        if not found or not key or not value:
            raise ConfigError(f"{what} {entry!r} must look like NAME{sep}VALUE.")
        pairs[key.strip()] = value.strip()
    return pairs


def build_cluster_config(
    executor: str,
    containers: list[str],
    mounts: list[str],
    env_vars: list[str],
    hf_home: Optional[str],
    slurm: dict[str, Optional[str]],
    timeouts: Optional[str],
) -> dict:
    """A cluster config as a dict, validated by the same schema `--cluster` loads with."""
    from pydantic import ValidationError

    from nemo_skills.pipeline.cluster import ClusterConfig

    data: dict = {"executor": executor}
    if containers:
        data["containers"] = _pairs(containers, "--container")
    if mounts:
        data["mounts"] = list(mounts)
    env = list(env_vars) + ([f"HF_HOME={hf_home}"] if hf_home else [])
    if env:
        data["env_vars"] = env
    if executor == "slurm":
        if slurm.get("ssh_host"):
            tunnel = {
                "host": slurm["ssh_host"],
                "user": slurm.get("ssh_user"),
                "job_dir": slurm.get("job_dir"),
                "identity": slurm.get("ssh_key"),
            }
            data["ssh_tunnel"] = {k: v for k, v in tunnel.items() if v is not None}
        elif slurm.get("job_dir"):
            data["job_dir"] = slurm["job_dir"]
        for key in ("account", "partition", "cpu_partition"):
            if slurm.get(key):
                data[key] = slurm[key]
        if timeouts:
            data["timeouts"] = _pairs([t for t in timeouts.split(";") if t.strip()], "--timeouts entry")
    try:
        return ClusterConfig.model_validate(data).model_dump(exclude_defaults=True)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"The cluster config would be invalid: {problems}") from None


@app.command("setup")
def setup_command(
    name: Annotated[Optional[str], typer.Option("--name", help="Config name: --cluster NAME finds it.")] = None,
    executor: Annotated[Optional[str], typer.Option("--executor", help="none, local (Docker) or slurm.")] = None,
    config_dir: Annotated[str, typer.Option("--config_dir", help="Where to write NAME.yaml.")] = "cluster_configs",
    container: Annotated[Optional[list[str]], typer.Option("--container", help="NAME=IMAGE (repeatable).")] = None,
    mount: Annotated[Optional[list[str]], typer.Option("--mount", help="/host:/container (repeatable).")] = None,
    env_var: Annotated[Optional[list[str]], typer.Option("--env_var", help="NAME or NAME=VALUE (repeatable).")] = None,
    hf_home: Annotated[Optional[str], typer.Option("--hf_home", help="HF_HOME for jobs (under a mount).")] = None,
    ssh_host: Annotated[Optional[str], typer.Option("--ssh_host", help="Slurm login node to submit through.")] = None,
    ssh_user: Annotated[Optional[str], typer.Option("--ssh_user")] = None,
    ssh_key: Annotated[Optional[str], typer.Option("--ssh_key", help="SSH identity file.")] = None,
    job_dir: Annotated[Optional[str], typer.Option("--job_dir", help="Absolute path for job files on Slurm.")] = None,
    account: Annotated[Optional[str], typer.Option("--account")] = None,
    partition: Annotated[Optional[str], typer.Option("--partition")] = None,
    cpu_partition: Annotated[Optional[str], typer.Option("--cpu_partition")] = None,
    timeouts: Annotated[Optional[str], typer.Option("--timeouts", help="p1=HH:MM:SS;p2=...")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config.")] = False,
) -> None:
    """Write a cluster config. Flags make it scriptable; on a terminal, missing answers are asked for."""
    import yaml

    interactive = sys.stdin.isatty()
    if name is None:
        name = typer.prompt("Config name") if interactive else None
    if executor is None:
        executor = typer.prompt("Executor (none, local, slurm)", default="none") if interactive else None
    if not name or not executor:
        raise ConfigError("ns setup needs --name and --executor (or a terminal to ask on).")
    if executor == "slurm" and not (job_dir or ssh_host) and interactive:
        ssh_host = typer.prompt("SSH host of the login node (empty: submit from this host)", default="") or None
        job_dir = typer.prompt("Absolute job_dir on the cluster")
    slurm = {
        "ssh_host": ssh_host,
        "ssh_user": ssh_user,
        "ssh_key": ssh_key,
        "job_dir": job_dir,
        "account": account,
        "partition": partition,
        "cpu_partition": cpu_partition,
    }
    data = build_cluster_config(executor, container or [], mount or [], env_var or [], hf_home, slurm, timeouts)
    path = Path(config_dir) / f"{name}.yaml"
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; pass --force to overwrite it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    print(
        f"Wrote {path}. Use it with --cluster {name} --config_dir {config_dir} "
        f"(or export NEMO_SKILLS_CONFIG_DIR={path.parent.resolve()})."
    )
