"""Cluster configs: a typed, closed schema for `cluster_configs/*.yaml`, found by name, checked before submission."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from nemo_skills.errors import ConfigError
from nemo_skills.utils.registry import did_you_mean

CONFIG_DIR_ENV = "NEMO_SKILLS_CONFIG_DIR"
CONFIG_FILE_ENV = "NEMO_SKILLS_CONFIG"
# forwarded to every job when set in the launching shell, so users need not list them
FORWARDED_SECRETS = (
    "HF_TOKEN",
    "WANDB_API_KEY",
    "NVIDIA_API_KEY",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "NGC_API_KEY",
)
_TIME_RE = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$|^\d+:\d{2}:\d{2}:\d{2}$")
_ENV_REF_RE = re.compile(r"\{(\w+)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mount(_Strict):
    source: str
    destination: str

    @classmethod
    def parse(cls, text: str, environ: dict[str, str]) -> Mount:
        resolved = _expand_braces(text, environ, f"mount {text!r}")
        source, sep, destination = resolved.partition(":")
        if not sep or not source or not destination.startswith("/"):
            raise ConfigError(f"Mount {text!r} must look like /host/path:/container/path.")
        return cls(source=source, destination=destination.split(":")[0])


class SSHTunnelConfig(_Strict):
    host: str
    user: str | None = None
    job_dir: str
    identity: str | None = None
    shell: str | None = None
    pre_command: str | None = None


class ClusterConfig(_Strict):
    executor: Literal["none", "local", "slurm"]
    # name -> image (local/slurm), or for `none` a Python interpreter/venv that runs that component
    containers: dict[str, str] = {}
    mounts: list[str] = []
    env_vars: list[str] = []  # NAME (copied from the launching shell if set) or NAME=value
    required_env_vars: list[str] = []  # like env_vars, but a missing one stops the submission
    ssh_tunnel: SSHTunnelConfig | None = None
    job_dir: str | None = None  # slurm from a login node (no ssh_tunnel): where job files go
    account: str | None = None
    partition: str | None = None
    cpu_partition: str | None = None
    qos: str | None = None
    gpus_per_node: int | None = None
    disable_gpus_per_node: bool = False
    timeouts: dict[str, str] = {}  # partition -> time limit
    default_timeout: str | None = None
    job_name_prefix: str = ""
    mail_type: str | None = None
    mail_user: str | None = None
    dependency_type: Literal["afterok", "afterany", "afternotok"] = "afterok"
    num_workers: int = 4
    skip_hf_home_check: bool = False

    @field_validator("timeouts")
    @classmethod
    def _check_times(cls, timeouts: dict[str, str]) -> dict[str, str]:
        for partition, value in timeouts.items():
            if not _TIME_RE.match(str(value)):
                raise ValueError(f"timeouts.{partition}={value!r} is not a Slurm time (HH:MM:SS or D-HH:MM:SS)")
        return timeouts

    @model_validator(mode="after")
    def _check_slurm(self) -> ClusterConfig:
        if self.executor == "slurm" and self.ssh_tunnel is None and self.job_dir is None:
            raise ValueError("a slurm config needs ssh_tunnel (submit over SSH) or job_dir (submit from this host)")
        for path in [self.job_dir, self.ssh_tunnel.job_dir if self.ssh_tunnel else None]:
            if path is not None and not path.startswith("/"):
                raise ValueError(f"job_dir must be an absolute path, got {path!r}")
        return self

    # ---- derived values ----
    @property
    def uses_images(self) -> bool:
        """Whether jobs run in containers (then host paths must be mounted); else they see this file system."""
        return any(self.image_for(name) for name in self.containers)

    def image_for(self, container: str) -> str | None:
        """The image a component runs in; None when it runs without a container (executor none, or a Python env).

        `container` is a key of `containers`, or itself an image (`repo/name:tag`)."""
        entry = self.containers.get(container) or (container if ":" in container or "/" in container else None)
        if self.executor == "none" or not entry or _is_path(entry):
            return None
        return entry

    def python_env_for(self, container: str) -> str | None:
        """The interpreter a `containers` entry (or `container` itself) names: a python binary or a virtualenv."""
        entry = self.containers.get(container) or (container if _is_path(container) else None)
        if not entry or not (_is_path(entry) or self.executor == "none"):
            return None
        path = Path(os.path.expanduser(entry))
        return str(path / "bin" / "python") if path.is_dir() else str(path)

    def timeout_for(self, partition: str | None) -> str | None:
        return self.timeouts.get(partition or "", self.default_timeout)

    def resolved_mounts(self, environ: dict[str, str] | None = None) -> list[Mount]:
        environ = dict(os.environ) if environ is None else environ
        return [Mount.parse(text, environ) for text in self.mounts]

    def resolved_env(self, environ: dict[str, str] | None = None) -> dict[str, str]:
        """The environment every job gets. Raises ConfigError naming a missing required variable."""
        environ = dict(os.environ) if environ is None else environ
        resolved: dict[str, str] = {}
        for entry in self.required_env_vars:
            name, value = _env_entry(entry, environ)
            if value is None:
                raise ConfigError(
                    f"Required environment variable {name} is not set (required_env_vars of the "
                    "cluster config): export it before submitting."
                )
            resolved[name] = value
        for entry in self.env_vars:
            name, value = _env_entry(entry, environ)
            if value is not None:
                resolved.setdefault(name, value)
        for name in FORWARDED_SECRETS:
            if environ.get(name):
                resolved.setdefault(name, environ[name])
        return resolved

    def container_path(self, host_path: str, environ: dict[str, str] | None = None) -> str:
        """Where a host path is seen inside containers (identity for `none` and for configs without containers)."""
        if not self.uses_images:
            return host_path
        for mount in self.resolved_mounts(environ):
            source = mount.source.rstrip("/")
            if host_path == source or host_path.startswith(source + "/"):
                return mount.destination.rstrip("/") + host_path[len(source) :]
        raise ConfigError(f"Path {host_path} is not under any mount of the cluster config; add a mount for it.")

    def check_before_submit(self, environ: dict[str, str] | None = None, check_hf_home: bool = True) -> None:
        """Everything that would fail on the cluster, found here first: env vars, mount sources, HF_HOME."""
        environ = dict(os.environ) if environ is None else environ
        env = self.resolved_env(environ)
        mounts = self.resolved_mounts(environ)
        if self.executor != "slurm" or self.ssh_tunnel is None:  # sources are on this host
            for mount in mounts:
                if not Path(mount.source).exists():
                    raise ConfigError(
                        f"Mount source {mount.source} does not exist on this host (mount "
                        f"{mount.source}:{mount.destination}); create it or fix the cluster config."
                    )
        if check_hf_home and self.uses_images and not self.skip_hf_home_check:
            hf_home = env.get("HF_HOME")
            if hf_home is None:
                raise ConfigError(
                    "HF_HOME is not set for jobs: add HF_HOME=/path to env_vars (under a mount) or set "
                    "skip_hf_home_check: true."
                )
            if not any(
                hf_home.startswith(m.destination.rstrip("/") + "/") or hf_home == m.destination for m in mounts
            ):
                raise ConfigError(f"HF_HOME={hf_home} is not under any mount destination; mount it so models persist.")


def _is_path(entry: str) -> bool:
    return entry.startswith(("/", "~", "."))


def _env_entry(entry: str, environ: dict[str, str]) -> tuple[str, str | None]:
    name, sep, value = entry.partition("=")
    name = name.strip()
    if not sep:
        return name, environ.get(name)
    if "$" in value:  # expand references to the launching shell's variables
        missing = [ref for ref in re.findall(r"\$\{?(\w+)\}?", value) if ref not in environ]
        if missing:
            raise ConfigError(f"env var {name}={value} refers to {missing[0]}, which is not set in this shell.")
        value = re.sub(r"\$\{?(\w+)\}?", lambda m: environ[m.group(1)], value)
    return name, value


def _expand_braces(text: str, environ: dict[str, str], what: str) -> str:
    def value(match: re.Match[str]) -> str:
        if match.group(1) not in environ:
            raise ConfigError(f"{what} uses {{{match.group(1)}}}, which is not set in this shell.")
        return environ[match.group(1)]

    return _ENV_REF_RE.sub(value, text)


def config_search_dirs(config_dir: str | None) -> list[Path]:
    dirs = [Path(config_dir)] if config_dir else []
    if os.environ.get(CONFIG_DIR_ENV):
        dirs.append(Path(os.environ[CONFIG_DIR_ENV]))
    dirs.append(Path.cwd() / "cluster_configs")
    dirs.append(Path(__file__).resolve().parents[2] / "cluster_configs")
    return dirs


def find_cluster_config(cluster: str, config_dir: str | None = None) -> Path:
    if cluster.endswith((".yaml", ".yml")):
        path = Path(cluster)
        if not path.is_file():
            raise ConfigError(f"Cluster config file {cluster} does not exist.")
        return path
    dirs = config_search_dirs(config_dir)
    for folder in dirs:
        candidate = folder / f"{cluster}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for folder in dirs if folder.is_dir() for p in folder.glob("*.yaml")})
    raise ConfigError(
        f"No cluster config {cluster!r} in {', '.join(str(d) for d in dirs)}.{did_you_mean(cluster, known)} "
        f"Known: {', '.join(known) or 'none'}. Write one with `ns setup` or pass --config_dir."
    )


def load_cluster_config(cluster: str | None, config_dir: str | None = None) -> ClusterConfig:
    """`--cluster NAME` (or a .yaml path); with none, $NEMO_SKILLS_CONFIG, else this machine without containers."""
    if cluster is None:
        if os.environ.get(CONFIG_FILE_ENV):
            return parse_cluster_config(Path(os.environ[CONFIG_FILE_ENV]))
        return ClusterConfig(executor="none")
    return parse_cluster_config(find_cluster_config(cluster, config_dir))


def parse_cluster_config(path: Path) -> ClusterConfig:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"Cannot read cluster config {path}: {error}") from None
    try:
        return ClusterConfig.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            key = ".".join(str(part) for part in item["loc"]) or "(top level)"
            hint = ""
            if item["type"] == "extra_forbidden":
                hint = did_you_mean(str(item["loc"][-1]), ClusterConfig.model_fields)
            problems.append(f"{key}: {item['msg']}{hint}")
        raise ConfigError(f"Invalid cluster config {path}: " + "; ".join(problems)) from None
