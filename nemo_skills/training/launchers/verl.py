"""veRL's PPO command: `python -m verl.trainer.main_ppo` with Hydra overrides, checked against veRL's own config."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nemo_skills.errors import ConfigError
from nemo_skills.training.launchers.common import TrainerCommand, TrainerInputs
from nemo_skills.training.launchers.schema import hydra_value
from nemo_skills.training.launchers.verl_config import DEFAULT_CONFIG_NAME

DEFAULT_MODULE = "verl.trainer.main_ppo"
# our rewards as veRL custom reward functions (nemo_skills/training/rewards/verl_reward.py); `verl`: veRL's own
REWARD_FUNCTIONS = {"math": "compute_score", "tool_call": "compute_tool_call_score", "verl": None}
IMAGE_REWARD_FILE = "/opt/nemo_skills/nemo_skills/training/rewards/verl_reward.py"  # dockerfiles/Dockerfile.verl


def local_reward_file() -> str:
    """verl_reward.py of the installed nemo_skills (for jobs that run without a container)."""
    from pathlib import Path

    import nemo_skills

    return str(Path(nemo_skills.__file__).parent / "training" / "rewards" / "verl_reward.py")


@dataclass(frozen=True)
class VerlJob:
    config_dir: str  # veRL's config folder on this machine: read to check the overrides
    job_config_dir: str | None = None  # passed as --config-path when the job should use a folder of its own
    config_name: str = DEFAULT_CONFIG_NAME
    module: str = DEFAULT_MODULE
    save_freq: int = 20  # steps between checkpoints (veRL also saves at the last step when this is positive)
    python: str = "python3"
    reward: str = "math"  # a key of REWARD_FUNCTIONS
    reward_file: str = IMAGE_REWARD_FILE  # verl_reward.py as the job sees it


def launcher_overrides(job: VerlJob, inputs: TrainerInputs) -> list[str]:
    wandb = inputs.wandb
    loggers = "[console,wandb]" if wandb is not None else "[console]"
    out = [
        f"data.train_files={hydra_value(inputs.training_data)}",
        # veRL always builds a validation loader; without validation data it reads the training file and never runs
        f"data.val_files={hydra_value(inputs.validation_data or inputs.training_data)}",
        f"actor_rollout_ref.model.path={hydra_value(inputs.model)}",
        f"critic.model.path={hydra_value(inputs.model)}",
        f"trainer.n_gpus_per_node={inputs.num_gpus}",
        f"trainer.nnodes={inputs.num_nodes}",
        f"trainer.default_local_dir={hydra_value(inputs.checkpoint_dir)}",
        "trainer.resume_mode=auto",
        f"trainer.save_freq={job.save_freq}",
        f"trainer.logger={loggers}",
    ]
    if wandb is not None:
        out += [
            f"trainer.project_name={hydra_value(wandb.project)}",
            f"trainer.experiment_name={hydra_value(wandb.name)}",
        ]
    if not inputs.validation_data:
        out += ["trainer.val_before_train=false", "trainer.test_freq=-1"]
    function = REWARD_FUNCTIONS[job.reward]
    if function is not None:
        out += [f"custom_reward_function.path={hydra_value(job.reward_file)}"]
        out += [f"custom_reward_function.name={function}"]
    return out


def render_verl(job: VerlJob, inputs: TrainerInputs, user_overrides: Sequence[str]) -> TrainerCommand:
    """The trainer command, after checking every override (ours, then the user's) against veRL's config."""
    from nemo_skills.training.launchers.verl_config import check_verl_overrides

    if job.reward not in REWARD_FUNCTIONS:
        raise ConfigError(f"--reward {job.reward!r}: use one of {', '.join(REWARD_FUNCTIONS)}.")
    launcher = launcher_overrides(job, inputs)
    config = check_verl_overrides(job.config_dir, launcher, user_overrides, job.config_name)
    argv = [job.python, "-m", job.module]
    if job.job_config_dir:
        argv += ["--config-path", job.job_config_dir]
    if job.job_config_dir or job.config_name != DEFAULT_CONFIG_NAME:
        argv += ["--config-name", job.config_name]
    env = inputs.wandb.env(inputs.output_dir) if inputs.wandb is not None else {}
    strategy = str(config.actor_rollout_ref.actor.get("strategy", "fsdp"))
    backend = "megatron" if strategy == "megatron" else "fsdp"
    return TrainerCommand(argv=[*argv, *launcher, *user_overrides], env=env, checkpoint_backend=backend)
