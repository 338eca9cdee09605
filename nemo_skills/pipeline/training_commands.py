"""The typer commands `ns sft_nemo_rl`, `ns grpo_nemo_rl` and `ns ppo_verl`: options in, a plan of
`nemo_skills.pipeline.training` out."""

from __future__ import annotations

import logging
from typing import Annotated, Literal, Optional

import typer

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline import options
from nemo_skills.pipeline.cli import EXTRA_ARGS, app
from nemo_skills.pipeline.common import JobOptions, from_values
from nemo_skills.pipeline.training import (
    NemoRlOptions,
    NemoRlPlan,
    TrainingOptions,
    VerlOptions,
    VerlPlan,
    run_nemo_rl,
    run_ppo_verl,
)

Model = Annotated[str, typer.Option("--model", help="Hugging Face model to start from: a local folder or a name.")]
TrainingData = Annotated[
    str, typer.Option("--training_data", help="Training data file (prepared JSONL; veRL: parquet).")
]
ValidationData = Annotated[
    Optional[str], typer.Option("--validation_data", help="Validation data file. Unset: see the docs (per framework).")
]
OutputDir = Annotated[str, typer.Option("--output_dir", help="Checkpoints, logs and the final HF model go here.")]
NumGpus = Annotated[int, typer.Option("--num_gpus", help="GPUs per node.")]
NumNodes = Annotated[int, typer.Option("--num_nodes", help="Nodes (a Ray cluster spans them).")]
NumTrainingJobs = Annotated[
    int, typer.Option("--num_training_jobs", help="Chained jobs (afterany), each resuming from the latest checkpoint.")
]
ConversionStep = Annotated[
    str, typer.Option("--conversion_step", help="Checkpoint converted to HF: `last`, a step number, or `none`.")
]
AverageSteps = Annotated[
    Optional[str],
    typer.Option("--average_steps", help="Average these checkpoint steps (e.g. 100,200,300) into the HF model."),
]
FinalHfPath = Annotated[
    Optional[str], typer.Option("--final_hf_path", help="Where the HF model goes (<output_dir>/final_hf_model).")
]
WandbProject = Annotated[str, typer.Option("--wandb_project", help="W&B project.")]
WandbName = Annotated[Optional[str], typer.Option("--wandb_name", help="W&B run name (default: the experiment name).")]
WandbGroup = Annotated[Optional[str], typer.Option("--wandb_group", help="W&B run group.")]
DisableWandb = Annotated[bool, typer.Option("--disable_wandb", help="No W&B logging.")]
WithSandbox = Annotated[
    bool, typer.Option("--with_sandbox", help="Start a code-execution sandbox next to the trainer.")
]
Container = Annotated[Optional[str], typer.Option("--container", help="Container of the trainer (nemo-rl / verl).")]
Exclusive = Annotated[bool, typer.Option("--exclusive/--not_exclusive", help="Whole nodes on Slurm (default on).")]
NemoRlConfig = Annotated[
    Optional[str],
    typer.Option("--config", help="NeMo-RL YAML to start from, on this machine (default: the framework's example)."),
]
NemoRlDir = Annotated[
    Optional[str], typer.Option("--nemo_rl_dir", help="NeMo-RL checkout in the job ($NEMO_RL_DIR, else /opt/nemo-rl).")
]
Backend = Annotated[str, typer.Option("--backend", help="NeMo-RL training backend: dtensor or megatron.")]


def _training(values: dict, ctx: typer.Context) -> TrainingOptions:
    return from_values(TrainingOptions, {**values, "overrides": list(ctx.args)})


def _job(values: dict, default_expname: str) -> JobOptions:
    expname = values.get("expname") or default_expname
    return from_values(JobOptions, {**values, "expname": expname, "run_after": values.get("run_after") or []})


def _nemo_rl_command(algorithm: Literal["sft", "grpo"], values: dict, ctx: typer.Context) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if values["backend"] not in ("dtensor", "megatron"):
        raise ConfigError(f"--backend {values['backend']!r}: use dtensor or megatron.")
    nemo_rl = from_values(NemoRlOptions, values)
    plan = NemoRlPlan(algorithm, _training(values, ctx), nemo_rl, _job(values, f"{algorithm}_nemo_rl"))
    run_nemo_rl(plan)


@app.command("sft_nemo_rl", context_settings=EXTRA_ARGS)
def sft_nemo_rl_command(
    ctx: typer.Context,
    model: Model,
    training_data: TrainingData,
    output_dir: OutputDir,
    num_gpus: NumGpus,
    validation_data: ValidationData = None,
    num_nodes: NumNodes = 1,
    num_training_jobs: NumTrainingJobs = 1,
    backend: Backend = "dtensor",
    config: NemoRlConfig = None,
    nemo_rl_dir: NemoRlDir = None,
    conversion_step: ConversionStep = "last",
    average_steps: AverageSteps = None,
    final_hf_path: FinalHfPath = None,
    wandb_project: WandbProject = "nemo-skills",
    wandb_name: WandbName = None,
    wandb_group: WandbGroup = None,
    disable_wandb: DisableWandb = False,
    container: Container = None,
    cluster: options.Cluster = None,
    config_dir: options.ConfigDir = None,
    expname: options.Expname = None,
    partition: options.Partition = None,
    qos: options.Qos = None,
    time_min: options.TimeMin = None,
    exclusive: Exclusive = True,
    run_after: options.RunAfter = None,
    dry_run: options.DryRun = False,
) -> None:
    """Supervised fine-tuning with NeMo-RL. Extra `++key=value` arguments go to NeMo-RL's config (checked first)."""
    _nemo_rl_command("sft", locals(), ctx)


@app.command("grpo_nemo_rl", context_settings=EXTRA_ARGS)
def grpo_nemo_rl_command(
    ctx: typer.Context,
    model: Model,
    training_data: TrainingData,
    output_dir: OutputDir,
    num_gpus: NumGpus,
    validation_data: ValidationData = None,
    num_nodes: NumNodes = 1,
    num_training_jobs: NumTrainingJobs = 1,
    backend: Backend = "dtensor",
    config: NemoRlConfig = None,
    nemo_rl_dir: NemoRlDir = None,
    input_key: Annotated[str, typer.Option("--input_key", help="Field of the prompt in the data.")] = "input",
    output_key: Annotated[str, typer.Option("--output_key", help="Field of the reference answer.")] = "output",
    with_sandbox: WithSandbox = False,
    conversion_step: ConversionStep = "last",
    average_steps: AverageSteps = None,
    final_hf_path: FinalHfPath = None,
    wandb_project: WandbProject = "nemo-skills",
    wandb_name: WandbName = None,
    wandb_group: WandbGroup = None,
    disable_wandb: DisableWandb = False,
    container: Container = None,
    cluster: options.Cluster = None,
    config_dir: options.ConfigDir = None,
    expname: options.Expname = None,
    partition: options.Partition = None,
    qos: options.Qos = None,
    time_min: options.TimeMin = None,
    exclusive: Exclusive = True,
    run_after: options.RunAfter = None,
    dry_run: options.DryRun = False,
) -> None:
    """GRPO with NeMo-RL (math environment). Extra `++key=value` arguments go to NeMo-RL's config (checked first)."""
    _nemo_rl_command("grpo", locals(), ctx)


@app.command("ppo_verl", context_settings=EXTRA_ARGS)
def ppo_verl_command(
    ctx: typer.Context,
    model: Model,
    training_data: TrainingData,
    output_dir: OutputDir,
    num_gpus: NumGpus,
    validation_data: ValidationData = None,
    num_nodes: NumNodes = 1,
    num_training_jobs: NumTrainingJobs = 1,
    verl_config_dir: Annotated[
        Optional[str], typer.Option("--verl_config_dir", help="veRL config folder (default: veRL's own).")
    ] = None,
    config_name: Annotated[str, typer.Option("--config_name", help="veRL config name.")] = "ppo_trainer",
    save_freq: Annotated[int, typer.Option("--save_freq", help="Steps between checkpoints.")] = 20,
    reward: Annotated[
        str, typer.Option("--reward", help="math | tool_call (our rewards) | verl (veRL's own, by data_source).")
    ] = "math",
    with_sandbox: WithSandbox = False,
    conversion_step: ConversionStep = "last",
    average_steps: AverageSteps = None,
    final_hf_path: FinalHfPath = None,
    wandb_project: WandbProject = "nemo-skills",
    wandb_name: WandbName = None,
    wandb_group: WandbGroup = None,
    disable_wandb: DisableWandb = False,
    container: Container = None,
    cluster: options.Cluster = None,
    config_dir: options.ConfigDir = None,
    expname: options.Expname = None,
    partition: options.Partition = None,
    qos: options.Qos = None,
    time_min: options.TimeMin = None,
    exclusive: Exclusive = True,
    run_after: options.RunAfter = None,
    dry_run: options.DryRun = False,
) -> None:
    """PPO with veRL (`verl.trainer.main_ppo`). Extra `++key=value` arguments go to veRL's config (checked first)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    values = locals()
    plan = VerlPlan(_training(values, ctx), from_values(VerlOptions, values), _job(values, "ppo_verl"))
    run_ppo_verl(plan)
