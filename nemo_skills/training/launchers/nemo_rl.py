"""NeMo-RL's SFT and GRPO commands: its own entry scripts with `--config <yaml>` and Hydra overrides, run with
`uv run python` from the NeMo-RL checkout, as NeMo-RL documents; every override checked against the real config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nemo_skills.errors import ConfigError
from nemo_skills.training.launchers.common import TrainerCommand, TrainerInputs
from nemo_skills.training.launchers.schema import hydra_value

Algorithm = Literal["sft", "grpo"]
Backend = Literal["dtensor", "megatron"]
ENTRY_SCRIPTS: dict[str, str] = {"sft": "examples/run_sft.py", "grpo": "examples/run_grpo.py"}
DEFAULT_CONFIGS: dict[str, str] = {"sft": "examples/configs/sft.yaml", "grpo": "examples/configs/grpo_math_1B.yaml"}
DEFAULT_NEMO_RL_DIR = "/opt/nemo-rl"  # where NeMo-RL's image keeps its checkout
DATASET = "ResponseDataset"  # NeMo-RL's dataset class for local JSONL files (`messages`, or input/output keys)


@dataclass(frozen=True)
class NemoRlJob:
    algorithm: Algorithm
    config_path: str  # the YAML on this machine: read to check the overrides
    job_config: str | None  # the same YAML as the job sees it; None: the job gets the checked config, composed
    nemo_rl_dir: str  # NeMo-RL's checkout, as the job sees it
    backend: Backend = "dtensor"
    entry_script: str | None = None  # relative to nemo_rl_dir; default ENTRY_SCRIPTS[algorithm]
    checkpoint_must_save_by: str | None = None  # DD:HH:MM:SS
    input_key: str = "input"  # GRPO rows (ResponseDataset): the prompt field ...
    output_key: str = "output"  # ... and the ground truth the math environment checks against


def launcher_overrides(job: NemoRlJob, inputs: TrainerInputs, config: Any) -> list[str]:
    """What the launcher sets; `key=value` where the config has the key, `+key=value` where NeMo-RL's typed
    config accepts a key its YAML leaves out."""
    from omegaconf import OmegaConf

    tree = OmegaConf.to_container(config, resolve=False)
    assert isinstance(tree, dict)
    setter = _Setter(tree)
    wandb = inputs.wandb
    out = [
        setter("policy.model_name", inputs.model),
        setter("cluster.gpus_per_node", inputs.num_gpus),
        setter("cluster.num_nodes", inputs.num_nodes),
        setter("checkpointing.checkpoint_dir", inputs.checkpoint_dir),
        setter("logger.log_dir", inputs.log_dir),
        setter("logger.wandb_enabled", wandb is not None),
    ]
    if job.checkpoint_must_save_by:
        out.append(setter("checkpointing.checkpoint_must_save_by", job.checkpoint_must_save_by))
    if wandb is not None:
        out += [setter("logger.wandb.project", wandb.project), setter("logger.wandb.name", wandb.name)]
    out += [
        setter("policy.dtensor_cfg.enabled", job.backend == "dtensor"),
        setter("policy.megatron_cfg.enabled", job.backend == "megatron"),
    ]
    return out + _data_overrides(job, inputs, tree, setter)


def _data_overrides(job: NemoRlJob, inputs: TrainerInputs, tree: dict[str, Any], setter: _Setter) -> list[str]:
    data = tree.get("data") or {}
    train = data.get("train")
    if not isinstance(train, Mapping):
        raise ConfigError(
            "The NeMo-RL config lists several training datasets (data.train is a list); the launcher sets one "
            "from --training_data. Start from a config with one dataset, or set data.train with ++ overrides."
        )
    out = [
        setter("data.train.dataset_name", DATASET),
        setter("data.train.data_path", inputs.training_data),
        setter("data.train.split", "train"),  # a local JSONL file loads as one `train` split
    ]
    if job.algorithm == "grpo":
        out += [setter("data.default.input_key", job.input_key), setter("data.default.output_key", job.output_key)]
    validation = data.get("validation")
    if inputs.validation_data:
        if isinstance(validation, Mapping):
            out += [
                setter("data.validation.dataset_name", DATASET),
                setter("data.validation.data_path", inputs.validation_data),
                setter("data.validation.split", "train"),
            ]
        else:  # null (or absent): one mapping
            value = f"{{dataset_name:{DATASET},data_path:{hydra_value(inputs.validation_data)},split:train}}"
            out.append(("" if "validation" in data else "+") + f"data.validation={value}")
        if train.get("split_validation_size"):
            out.append(setter("data.train.split_validation_size", 0))
    else:  # validate on a held-out share of the training data, as NeMo-RL's GRPO example does
        if not train.get("split_validation_size"):
            out.append(setter("data.train.split_validation_size", 0.05))
        if validation is not None:
            out.append("data.validation=null")
    return out


class _Setter:
    def __init__(self, tree: dict[str, Any]):
        self.tree = tree

    def __call__(self, key: str, value: object) -> str:
        node: Any = self.tree
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return f"+{key}={hydra_value(value)}"
            node = node[part]
        return f"{key}={hydra_value(value)}"


def render_nemo_rl(job: NemoRlJob, inputs: TrainerInputs, user_overrides: Sequence[str]) -> TrainerCommand:
    """The trainer command, after checking every override (ours, then the user's) against the real config."""
    from omegaconf import OmegaConf

    from nemo_skills.training.launchers.nemo_rl_config import check_nemo_rl_overrides, load_nemo_rl_config

    config = load_nemo_rl_config(job.config_path)
    launcher = launcher_overrides(job, inputs, config)
    check_nemo_rl_overrides(job.config_path, launcher, user_overrides)
    files = {}
    job_config = job.job_config
    if job_config is None:  # exactly the config that was checked, with its `defaults:` parents merged in
        job_config = f"{inputs.output_dir}/nemo_rl_{job.algorithm}_config.yaml"
        files[job_config] = OmegaConf.to_yaml(config, resolve=False)
    script = job.entry_script or ENTRY_SCRIPTS[job.algorithm]
    argv = ["uv", "run", "python", script, "--config", job_config, *launcher, *user_overrides]
    env = {"RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}  # NeMo-RL builds its worker venvs once per node itself
    if inputs.wandb is not None:
        env.update(inputs.wandb.env(inputs.output_dir))
    return TrainerCommand(argv=argv, workdir=job.nemo_rl_dir, env=env, checkpoint_backend=job.backend, files=files)
