"""What every trainer command is built from, and what a launcher renders: an argv, a working folder, an env."""

from __future__ import annotations

import base64
import hashlib
import posixpath
import re
import shlex
from dataclasses import dataclass, field

from nemo_skills.errors import ConfigError


@dataclass(frozen=True)
class WandbSettings:
    project: str
    name: str
    group: str | None = None

    def env(self, run_key: str) -> dict[str, str]:
        """W&B's own variables: chained jobs (same output folder) continue one run; the group if any."""
        run_id = hashlib.sha1(f"{self.project}/{self.name}/{run_key}".encode()).hexdigest()[:16]
        env = {"WANDB_RUN_ID": run_id, "WANDB_RESUME": "allow"}
        if self.group:
            env["WANDB_RUN_GROUP"] = self.group
        return env


@dataclass(frozen=True)
class TrainerInputs:
    """The model, the data and the hardware of a training run, with paths as the job sees them."""

    model: str
    training_data: str
    output_dir: str
    validation_data: str | None = None
    num_gpus: int = 1  # per node
    num_nodes: int = 1
    wandb: WandbSettings | None = None  # None: W&B off

    @property
    def checkpoint_dir(self) -> str:
        return f"{self.output_dir}/checkpoints"

    @property
    def log_dir(self) -> str:
        return f"{self.output_dir}/training-logs"


@dataclass(frozen=True)
class TrainerCommand:
    argv: list[str]
    workdir: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    checkpoint_backend: str = ""  # how the checkpoints are written: dtensor, megatron, fsdp
    files: dict[str, str] = field(default_factory=dict)  # written (path as the job sees it -> text) before the run

    def shell(self) -> str:
        steps = [_write_file_step(path, text) for path, text in self.files.items()]
        if self.workdir:
            steps.append(f"cd {shlex.quote(self.workdir)}")
        return " && ".join([*steps, shlex.join(self.argv)])


def _write_file_step(path: str, text: str) -> str:
    """One shell line that writes `text` to `path` (base64: any content survives sbatch scripts and quoting)."""
    encoded = base64.b64encode(text.encode()).decode()
    folder = shlex.quote(posixpath.dirname(path) or ".")
    return f"mkdir -p {folder} && echo {encoded} | base64 -d > {shlex.quote(path)}"


_SLURM_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def slurm_seconds(limit: str) -> int:
    """Seconds of a Slurm time limit: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`."""
    match = _SLURM_TIME.match(limit.strip())
    if not match:
        raise ConfigError(f"{limit!r} is not a Slurm time limit (like 04:00:00 or 1-12:00:00).")
    days, first, second, third = match.groups()
    numbers = [int(x) for x in (first, second, third) if x is not None]
    if days is not None:  # D-HH[:MM[:SS]]
        hours, minutes, seconds = (numbers + [0, 0])[:3]
        return ((int(days) * 24 + hours) * 60 + minutes) * 60 + seconds
    if len(numbers) == 3:
        return (numbers[0] * 60 + numbers[1]) * 60 + numbers[2]
    if len(numbers) == 2:
        return numbers[0] * 60 + numbers[1]
    return numbers[0] * 60


def save_deadline(limit: str | None, margin_s: int = 15 * 60) -> str | None:
    """`DD:HH:MM:SS` of the job's time limit less a margin (when a trainer must save before Slurm stops it)."""
    if not limit:
        return None
    total = slurm_seconds(limit) - margin_s
    if total <= 0:
        return None
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{days:02d}:{hours:02d}:{minutes:02d}:{seconds:02d}"
