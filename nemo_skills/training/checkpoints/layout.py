"""Where trainers put their checkpoints, and which of them to convert. No torch here: launchers import this.

NeMo-RL (DTensor backend) writes, under `checkpointing.checkpoint_dir`:

    step_<N>/config.yaml                 the run's config (`policy.model_name` is the base model)
    step_<N>/policy/weights/             torch.distributed.checkpoint: `.metadata` + `__<rank>_0.distcp`
    step_<N>/policy/weights/model/       ...or, with `model_save_format: safetensors`, HF-style safetensors shards
                                         and `.hf_metadata/config.json`
    step_<N>/policy/tokenizer/           the tokenizer (`save_pretrained`)
    step_<N>/policy/optimizer/           optimizer state (ignored here)
    tmp_step_<N>/                        a save in progress (never picked)

veRL (FSDP and FSDP2 workers) writes, under `trainer.default_local_dir`:

    global_step_<N>/actor/model_world_size_<W>_rank_<R>.pt   each rank's `state_dict()`: DTensor shards
    global_step_<N>/actor/huggingface/                        config, generation config and tokenizer
    global_step_<N>/actor/{optim,extra_state}_world_size_<W>_rank_<R>.pt, fsdp_config.json   (ignored here)
    latest_checkpointed_iteration.txt
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from nemo_skills.errors import ConfigError, InputError

CheckpointFormat = Literal["dcp", "fsdp", "hf"]
FORMATS: tuple[str, ...] = ("auto", "dcp", "fsdp", "hf")

NEMO_RL_STEP = re.compile(r"step_(\d+)")
VERL_STEP = re.compile(r"global_step_(\d+)")
VERL_RANK_FILE = re.compile(r"model_world_size_(\d+)_rank_(\d+)\.pt")
HF_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint to read: its weights and what the folder says about config and tokenizer."""

    format: CheckpointFormat
    weights: Path  # DCP folder, veRL actor folder or HF model folder
    step: int | None = None
    tokenizer: Path | None = None  # a folder saved with the checkpoint
    hf_config: Path | None = None  # a folder with config.json saved with the checkpoint
    base_model: str | None = None  # the model the run started from, as its config names it

    @property
    def name(self) -> str:
        return f"step {self.step} ({self.weights})" if self.step is not None else str(self.weights)


def is_hf_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and any((path / name).is_file() for name in HF_WEIGHT_FILES)


def _is_dcp_dir(path: Path) -> bool:
    return (path / ".metadata").is_file() or (path / "model" / ".hf_metadata").is_dir()


def _verl_rank_files(path: Path) -> list[Path]:
    return [p for p in path.glob("model_world_size_*_rank_*.pt") if VERL_RANK_FILE.fullmatch(p.name)]


def _nemo_rl_step(step_dir: Path, step: int | None) -> Checkpoint:
    weights = step_dir / "policy" / "weights"
    tokenizer = step_dir / "policy" / "tokenizer"
    hf_metadata = weights / "model" / ".hf_metadata"
    return Checkpoint(
        "dcp",
        weights,
        step,
        tokenizer if tokenizer.is_dir() else None,
        hf_metadata if (hf_metadata / "config.json").is_file() else None,
        _model_name_from_run_config(step_dir / "config.yaml"),
    )


def _verl_actor(actor_dir: Path, step: int | None) -> Checkpoint:
    hf_dir = actor_dir / "huggingface"
    has_config = (hf_dir / "config.json").is_file()
    has_tokenizer = (hf_dir / "tokenizer_config.json").is_file() or (hf_dir / "tokenizer.json").is_file()
    return Checkpoint("fsdp", actor_dir, step, hf_dir if has_tokenizer else None, hf_dir if has_config else None, None)


def _model_name_from_run_config(path: Path) -> str | None:
    if not path.is_file():
        return None
    import yaml

    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return None
    policy = config.get("policy") if isinstance(config, dict) else None
    name = policy.get("model_name") if isinstance(policy, dict) else None
    return name if isinstance(name, str) else None


def _single_checkpoint(path: Path) -> Checkpoint | None:
    """`path` is one checkpoint (a step folder, a weights folder, an actor folder or an HF model), or None."""
    if (path / "policy" / "weights").is_dir():
        match = NEMO_RL_STEP.fullmatch(path.name)
        return _nemo_rl_step(path, int(match.group(1)) if match else None)
    if _is_dcp_dir(path):
        step_dir = path.parent.parent if path.name == "weights" and path.parent.name == "policy" else None
        if step_dir is not None:
            match = NEMO_RL_STEP.fullmatch(step_dir.name)
            return _nemo_rl_step(step_dir, int(match.group(1)) if match else None)
        return Checkpoint("dcp", path)
    if (path / "actor").is_dir() and _verl_rank_files(path / "actor"):
        match = VERL_STEP.fullmatch(path.name)
        return _verl_actor(path / "actor", int(match.group(1)) if match else None)
    if _verl_rank_files(path):
        match = VERL_STEP.fullmatch(path.parent.name)
        return _verl_actor(path, int(match.group(1)) if match else None)
    if is_hf_model_dir(path):
        return Checkpoint("hf", path)
    return None


def find_steps(training_dir: str | Path) -> dict[int, Checkpoint]:
    """Every saved step under a NeMo-RL or veRL checkpoint folder (or its parent holding `checkpoints/`)."""
    root = Path(training_dir)
    for folder in (root, root / "checkpoints"):
        if not folder.is_dir():
            continue
        steps: dict[int, Checkpoint] = {}
        for child in folder.iterdir():
            if not child.is_dir():
                continue
            if match := NEMO_RL_STEP.fullmatch(child.name):
                steps[int(match.group(1))] = _nemo_rl_step(child, int(match.group(1)))
            elif match := VERL_STEP.fullmatch(child.name):
                steps[int(match.group(1))] = _verl_actor(child / "actor", int(match.group(1)))
        if steps:
            formats = {c.format for c in steps.values()}
            if len(formats) > 1:
                raise InputError(f"{folder} holds both NeMo-RL step_N and veRL global_step_N folders; pick one.")
            return dict(sorted(steps.items()))
    return {}


def select_checkpoints(
    path: str | Path,
    format: str = "auto",
    step: int | None = None,
    average_steps: Sequence[int] | None = None,
) -> list[Checkpoint]:
    """The checkpoints to convert: the final step (highest N), a given `step`, or each of `average_steps`."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"Checkpoint path {root} does not exist.")
    if step is not None and average_steps:
        raise ConfigError("Give either a step or average_steps, not both.")
    steps = find_steps(root)
    if not steps:
        single = _single_checkpoint(root)
        if single is None:
            raise InputError(
                f"{root} holds no checkpoint: expected NeMo-RL step_<N>/policy/weights (DCP), veRL "
                "global_step_<N>/actor/model_world_size_<W>_rank_<R>.pt (FSDP) or a Hugging Face model folder."
            )
        if step is not None or average_steps:
            raise ConfigError(
                f"{root} is a single checkpoint; point at the folder holding step_<N> folders to choose steps."
            )
        return [_check_format(single, format)]
    if average_steps:
        wanted = list(average_steps)
    elif step is not None:
        wanted = [step]
    else:
        wanted = [max(steps)]
    missing = [s for s in wanted if s not in steps]
    if missing:
        raise InputError(f"Step {missing[0]} is not in {root}; saved steps: {', '.join(map(str, steps))}.")
    return [_check_format(steps[s], format) for s in wanted]


def _check_format(checkpoint: Checkpoint, format: str) -> Checkpoint:
    if format not in FORMATS:
        raise ConfigError(f"Unknown checkpoint format {format!r}; choose one of {', '.join(FORMATS)}.")
    if format != "auto" and checkpoint.format != format:
        raise InputError(f"{checkpoint.weights} looks like a {checkpoint.format} checkpoint, not {format}.")
    return checkpoint
