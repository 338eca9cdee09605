"""Convert (and optionally average) training checkpoints into a Hugging Face model folder.

    python -m nemo_skills.training.checkpoints --input results/sft --output results/sft/final_hf_model
    python -m nemo_skills.training.checkpoints --input ckpts --output avg_hf --average_steps 100,200,300

This module imports no torch at load time: launchers render `conversion_command(...)` as a job step.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nemo_skills.errors import ConfigError, InputError, NemoSkillsError
from nemo_skills.training.checkpoints.layout import FORMATS, Checkpoint, is_hf_model_dir, select_checkpoints

if TYPE_CHECKING:
    import torch

LOG = logging.getLogger(__name__)
MODULE = "nemo_skills.training.checkpoints"
RECORD_NAME = "nemo_skills_conversion.json"
RECORD_VERSION = 1


@dataclass
class ConvertConfig:
    """What to convert and where. Fields are the command-line options (`--input`, `--average_steps 100,200`)."""

    input: list[str] = field(
        metadata={"help": "Training checkpoint folder (or one step); several HF model folders to average (hf)."}
    )
    output: str = field(metadata={"help": "The Hugging Face model folder to write."})
    format: str = field(default="auto", metadata={"help": "auto, dcp (NeMo-RL), fsdp (veRL) or hf."})
    base_model: str | None = field(
        default=None,
        metadata={"help": "HF model (name or path) the run started from: config, and tokenizer if none was saved."},
    )
    step: int | None = field(default=None, metadata={"help": "Step to convert (default: the final, highest one)."})
    average_steps: list[int] | None = field(
        default=None, metadata={"help": "Average these steps (comma-separated) into one model."}
    )
    average_weights: list[float] | None = field(
        default=None, metadata={"help": "Weights of the averaged checkpoints (comma-separated; default equal)."}
    )
    dtype: str = field(
        default="auto", metadata={"help": "auto (the base model's dtype), bfloat16, float16 or float32."}
    )
    overwrite: bool = field(default=False, metadata={"help": "Replace an existing output folder."})

    def __post_init__(self) -> None:
        if isinstance(self.input, str):
            self.input = [self.input]
        if not self.input:
            raise ConfigError("Give at least one --input.")
        if self.format not in FORMATS:
            raise ConfigError(f"Unknown format {self.format!r}; choose one of {', '.join(FORMATS)}.")
        if self.step is not None and self.average_steps:
            raise ConfigError("Give either --step or --average_steps, not both.")
        if self.average_steps is not None and len(set(self.average_steps)) != len(self.average_steps):
            raise ConfigError(f"--average_steps repeats a step: {self.average_steps}.")
        if len(self.input) > 1 and self.format not in ("auto", "hf"):
            raise ConfigError(f"Several --input folders can only be averaged as HF models, not {self.format}.")
        if len(self.input) > 1 and (self.step is not None or self.average_steps):
            raise ConfigError("--step and --average_steps choose steps of one training folder, not of several inputs.")
        if self.dtype not in ("auto", "bfloat16", "float16", "float32"):
            raise ConfigError(f"Unknown dtype {self.dtype!r}; choose auto, bfloat16, float16 or float32.")


# ------------------------------------------------------------------------------------- the command line


def cli_args(config: ConvertConfig) -> list[str]:
    """The options that reproduce `config` (defaults left out); `parse_args` reads them back."""
    args: list[str] = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if value == f.default:
            continue
        if isinstance(value, bool):
            args.append(f"--{f.name}")
        elif f.name == "input":
            for item in value:
                args += ["--input", item]
        elif isinstance(value, list):
            args += [f"--{f.name}", ",".join(str(v) for v in value)]
        else:
            args += [f"--{f.name}", str(value)]
    return args


def conversion_command(config: ConvertConfig, python: str = "python") -> list[str]:
    """The argv of a job step that runs this conversion (`shlex.join` it at the edge)."""
    return [python, "-m", MODULE, *cli_args(config)]


def parse_list(text: str | None, kind: type, option: str) -> list[Any] | None:
    if text is None or not text.strip():
        return None
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise ConfigError(f"{option} takes comma-separated {kind.__name__}s, got {text!r}.") from error


def parse_step(text: str | None) -> int | None:
    if text is None or text.strip().lower() in ("", "final", "last"):
        return None
    try:
        return int(text)
    except ValueError as error:
        raise ConfigError(f"--step takes a number or 'final', got {text!r}.") from error


def parse_args(argv: Sequence[str]) -> ConvertConfig:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n\n")[0])
    for f in dataclasses.fields(ConvertConfig):
        help_text = f.metadata.get("help")
        if f.name == "input":
            parser.add_argument("--input", action="append", required=True, help=help_text)
        elif f.type == "bool":
            parser.add_argument(f"--{f.name}", action="store_true", help=help_text)
        else:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            parser.add_argument(f"--{f.name}", required=required, help=help_text)
    values = vars(parser.parse_args(list(argv)))
    values["step"] = parse_step(values["step"])
    values["average_steps"] = parse_list(values["average_steps"], int, "--average_steps")
    values["average_weights"] = parse_list(values["average_weights"], float, "--average_weights")
    return ConvertConfig(**{k: v for k, v in values.items() if v is not None})


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        path = convert_checkpoint(parse_args(sys.argv[1:] if argv is None else argv))
    except NemoSkillsError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    print(path)


# ------------------------------------------------------------------------------------------ conversion


@dataclass(frozen=True)
class _Plan:
    checkpoints: list[Checkpoint]
    config_source: str | None
    tokenizer_source: str | None


def _plan(config: ConvertConfig) -> _Plan:
    if len(config.input) > 1 or (config.format in ("auto", "hf") and is_hf_model_dir(Path(config.input[0]))):
        checkpoints = [Checkpoint("hf", Path(p)) for p in config.input]
        for checkpoint in checkpoints:
            if not is_hf_model_dir(checkpoint.weights):
                raise InputError(f"{checkpoint.weights} is not a Hugging Face model folder (config.json + weights).")
        return _Plan(checkpoints, None, None)
    checkpoints = select_checkpoints(config.input[0], config.format, config.step, config.average_steps)
    if checkpoints[0].format == "hf":
        return _Plan(checkpoints, None, None)
    last = checkpoints[-1]
    hf_config = str(last.hf_config) if last.hf_config else None
    config_source = config.base_model or hf_config or last.base_model
    if config_source is None:
        raise ConfigError(
            f"{last.weights} does not name its base model; give --base_model (the HF model the run started from)."
        )
    tokenizer_source = str(last.tokenizer) if last.tokenizer else config_source
    return _Plan(checkpoints, config_source, tokenizer_source)


def _load(checkpoint: Checkpoint, spec: Any) -> dict[str, torch.Tensor]:
    LOG.info("Reading %s checkpoint %s", checkpoint.format, checkpoint.name)
    if checkpoint.format == "dcp":
        from nemo_skills.training.checkpoints.dcp import load_dcp_state_dict

        return load_dcp_state_dict(checkpoint.weights, spec.shapes.keys() if spec else None)
    if checkpoint.format == "fsdp":
        from nemo_skills.training.checkpoints.fsdp import load_fsdp_state_dict

        return load_fsdp_state_dict(checkpoint.weights, spec.shapes if spec else None)
    from nemo_skills.training.checkpoints.hf import load_hf_state_dict

    return load_hf_state_dict(checkpoint.weights)


def _check_output(output: Path, overwrite: bool) -> None:
    if output.exists() and (not output.is_dir() or any(output.iterdir())) and not overwrite:
        raise InputError(f"{output} already exists and is not empty; pass --overwrite to replace it.")


def _prepare_output(output: Path, overwrite: bool) -> Path:
    _check_output(output, overwrite)
    staging = output.with_name(f".{output.name}.converting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def convert_checkpoint(config: ConvertConfig) -> Path:
    """Write `config.output` as an HF model folder loadable with `from_pretrained`; returns its path.

    The folder appears only when complete (written beside it, then renamed).
    """
    plan = _plan(config)  # before importing torch: a wrong path fails at once
    _check_output(Path(config.output), config.overwrite)

    from nemo_skills.training.checkpoints import hf
    from nemo_skills.training.checkpoints.average import average_state_dicts, check_weights

    if config.average_weights and len(plan.checkpoints) == 1:
        raise ConfigError("--average_weights needs several checkpoints (--average_steps or several --input).")
    weights = check_weights(config.average_weights, len(plan.checkpoints)) if config.average_weights else None
    model_config = hf.load_config(plan.config_source) if plan.config_source else None
    spec = hf.model_spec(model_config) if model_config is not None else None
    names = [c.name for c in plan.checkpoints]

    def state_dicts() -> Iterator[dict[str, torch.Tensor]]:
        for checkpoint in plan.checkpoints:
            yield _load(checkpoint, spec)

    if len(plan.checkpoints) == 1:
        state_dict = next(state_dicts())
    else:
        state_dict = average_state_dicts(state_dicts(), weights, names)
    if spec is not None:
        state_dict = hf.check_against_spec(state_dict, spec, names[-1])
    output = Path(config.output)
    staging = _prepare_output(output, config.overwrite)
    try:
        if model_config is not None:
            dtype = hf.output_dtype(config.dtype, model_config)
            hf.write_safetensors(hf.cast_floats(state_dict, dtype), staging)
            hf.save_config(model_config, staging, dtype)
            hf.copy_generation_config(plan.config_source or "", staging)
            hf.copy_tokenizer(plan.tokenizer_source or plan.config_source or "", staging)
        else:  # HF inputs: their own config and tokenizer
            dtype = hf.output_dtype(config.dtype, None)
            hf.copy_model_files(plan.checkpoints[0].weights, staging)
            hf.write_safetensors(hf.cast_floats(state_dict, dtype), staging)
            if dtype is not None:
                hf.save_config(hf.load_config(str(staging)), staging, dtype)
        _write_record(staging, config, plan, weights, dtype)
        if output.is_dir():
            shutil.rmtree(output)
        elif output.exists():
            output.unlink()
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    LOG.info("Wrote %s", output)
    return output


def _write_record(folder: Path, config: ConvertConfig, plan: _Plan, weights: list[float] | None, dtype: Any) -> None:
    import torch

    record = {
        "version": RECORD_VERSION,
        "config": dataclasses.asdict(config),
        "checkpoints": [
            {"format": c.format, "step": c.step, "weights": str(c.weights.resolve())} for c in plan.checkpoints
        ],
        "average_weights": weights,
        "config_source": plan.config_source,
        "tokenizer_source": plan.tokenizer_source,
        "dtype": str(dtype).removeprefix("torch.") if dtype is not None else "as saved",
        "torch_version": torch.__version__,
    }
    (folder / RECORD_NAME).write_text(json.dumps(record, indent=2) + "\n")
