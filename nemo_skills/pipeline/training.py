"""The plans behind `ns sft_nemo_rl`, `ns grpo_nemo_rl`, `ns ppo_verl` (commands in training_commands.py): the
framework's own trainer on a Ray cluster across the job's nodes, chained jobs that resume from the latest checkpoint,
then a job that converts the result to Hugging Face.

Every override the launcher renders and every `++key=value` of the user is checked against the framework's real
config before anything is submitted (see `nemo_skills.training.launchers`)."""

from __future__ import annotations

import logging
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Optional

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline.common import JobOptions
from nemo_skills.pipeline.scripts import RenderContext, SandboxScript, Script
from nemo_skills.training.launchers.common import TrainerCommand, TrainerInputs
from nemo_skills.training.launchers.ray_cluster import RayClusterSpec, ray_start_script

if TYPE_CHECKING:
    from nemo_skills.pipeline.cluster import ClusterConfig
    from nemo_skills.pipeline.declarative import Pipeline
    from nemo_skills.training.checkpoints import ConvertConfig
    from nemo_skills.training.launchers.nemo_rl import NemoRlJob

LOG = logging.getLogger(__name__)


@dataclass
class TrainingOptions:
    """What every launcher takes: the model, the data, the hardware, the chain, the conversion, W&B."""

    model: str
    training_data: str
    output_dir: str
    num_gpus: int  # per node
    validation_data: Optional[str] = None
    num_nodes: int = 1
    num_training_jobs: int = 1  # chained jobs (afterany), each resuming from the latest checkpoint
    conversion_step: str = "last"  # `last`, a step number, or `none` (no conversion job)
    average_steps: Optional[str] = None  # e.g. "100,200,300": average these checkpoints instead
    final_hf_path: Optional[str] = None  # default <output_dir>/final_hf_model
    wandb_project: str = "nemo-skills"
    wandb_name: Optional[str] = None  # default: the experiment name
    wandb_group: Optional[str] = None
    disable_wandb: bool = False
    with_sandbox: bool = False
    container: Optional[str] = None  # default: nemo-rl / verl
    ray_join_timeout_s: int = 900
    overrides: list[str] = field(default_factory=list)  # the user's ++key=value, forwarded to the framework


@dataclass
class NemoRlOptions:
    config: Optional[str] = None  # default: <nemo_rl_dir>/examples/configs/{sft,grpo_math_1B}.yaml
    nemo_rl_dir: Optional[str] = None  # NeMo-RL's checkout in the job; default $NEMO_RL_DIR, else /opt/nemo-rl
    backend: Literal["dtensor", "megatron"] = "dtensor"
    entry_script: Optional[str] = None  # default examples/run_sft.py / examples/run_grpo.py
    input_key: str = "input"  # GRPO data (`ns prepare_rl_data`): the prompt field and the answer field
    output_key: str = "output"


@dataclass
class VerlOptions:
    verl_config_dir: Optional[str] = None  # default: veRL's own (installed or cached) trainer configs
    config_name: str = "ppo_trainer"
    save_freq: int = 20
    reward: str = "math"  # math | tool_call (ours, nemo_skills/training/rewards/verl_reward.py) | verl (veRL's own)


@dataclass
class NemoRlPlan:
    algorithm: Literal["sft", "grpo"]
    training: TrainingOptions
    nemo_rl: NemoRlOptions = field(default_factory=NemoRlOptions)
    job: JobOptions = field(default_factory=lambda: JobOptions(expname="nemo_rl", exclusive=True))


@dataclass
class VerlPlan:
    training: TrainingOptions
    verl: VerlOptions = field(default_factory=VerlOptions)
    job: JobOptions = field(default_factory=lambda: JobOptions(expname="ppo_verl", exclusive=True))


@dataclass(kw_only=True, eq=False)
class RayTrainerScript(Script):
    """The trainer of a training job: the Ray start-up on every node, the trainer command on node 0."""

    default_container: ClassVar[str] = "nemo-rl"
    trainer: TrainerCommand
    cluster: RayClusterSpec
    sandbox: Optional[SandboxScript] = None
    title: str = "trainer"

    def command(self, ctx: RenderContext) -> str:
        env = dict(self.trainer.env)
        if self.sandbox is not None:
            env.update(self.sandbox.env_for_clients(ctx))
        return ray_start_script(self.cluster, self.trainer.shell(), env)

    def describe(self) -> str:
        spec = self.cluster
        where = f"{spec.num_nodes} node(s) x {spec.gpus_per_node} GPU(s), Ray port {spec.port}"
        return f"{self.name}: {self.title} on {where}\n      trainer: {self.trainer.shell()}"


@dataclass(kw_only=True, eq=False)
class ConversionScript(Script):
    """The job after training: `python -m nemo_skills.training.checkpoints` with the trainer's container."""

    config: ConvertConfig

    def command(self, ctx: RenderContext) -> str:
        from nemo_skills.training.checkpoints import conversion_command

        return shlex.join(conversion_command(self.config, ctx.python_for(self)))

    def describe(self) -> str:
        return f"{self.name}: checkpoints in {self.config.input[0]} -> Hugging Face model {self.config.output}"


class _Paths:
    """Host paths as the job sees them (through the cluster config's mounts)."""

    def __init__(self, cluster: ClusterConfig):
        self.cluster = cluster

    def data(self, path: str, what: str) -> str:
        local = Path(path).expanduser()
        if not local.exists() and self.cluster.executor == "none":
            raise ConfigError(f"{what} {path} does not exist.")
        return self.cluster.container_path(str(local.resolve()))

    def folder(self, path: str) -> str:
        return self.cluster.container_path(str(Path(path).expanduser().resolve()))

    def model(self, model: str) -> str:
        """A local model folder is translated; anything else is a Hugging Face name, passed as is."""
        local = Path(model).expanduser()
        return self.cluster.container_path(str(local.resolve())) if local.exists() else model


def _parse_steps(text: Optional[str]) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--average_steps {text!r}: give checkpoint steps like 100,200,300.") from None


def _check_training(training: TrainingOptions) -> None:
    if training.num_gpus < 0 or training.num_nodes < 1 or training.num_training_jobs < 1:
        raise ConfigError("--num_gpus must be ≥ 0, --num_nodes and --num_training_jobs ≥ 1.")
    step = training.conversion_step
    if step not in ("last", "none") and not step.isdigit():
        raise ConfigError(f"--conversion_step {step!r}: use `last`, a step number, or `none`.")
    if training.average_steps and step not in ("last", "none"):
        raise ConfigError("Give --conversion_step or --average_steps, not both.")
    _parse_steps(training.average_steps)


def _inputs(training: TrainingOptions, paths: _Paths, expname: str) -> TrainerInputs:
    from nemo_skills.training.launchers.common import WandbSettings

    wandb = None
    if not training.disable_wandb:
        wandb = WandbSettings(training.wandb_project, training.wandb_name or expname, training.wandb_group)
    return TrainerInputs(
        model=paths.model(training.model),
        training_data=paths.data(training.training_data, "Training data"),
        validation_data=paths.data(training.validation_data, "Validation data") if training.validation_data else None,
        output_dir=paths.folder(training.output_dir),
        num_gpus=training.num_gpus,
        num_nodes=training.num_nodes,
        wandb=wandb,
    )


def _nemo_rl_job(plan: NemoRlPlan, cluster: ClusterConfig) -> NemoRlJob:
    from nemo_skills.training.launchers.common import save_deadline
    from nemo_skills.training.launchers.nemo_rl import DEFAULT_CONFIGS, DEFAULT_NEMO_RL_DIR, NemoRlJob

    options_ = plan.nemo_rl
    nemo_rl_dir = options_.nemo_rl_dir or os.environ.get("NEMO_RL_DIR") or DEFAULT_NEMO_RL_DIR
    job_config: str | None
    if options_.config:  # a file on this machine: the job gets its checked, composed content (no mount needed)
        config, job_config = str(Path(options_.config).expanduser().resolve()), None
    else:  # the framework's example config, inside its checkout (the job's path; read here too)
        config = job_config = f"{nemo_rl_dir.rstrip('/')}/{DEFAULT_CONFIGS[plan.algorithm]}"
    save_by = None
    if cluster.executor == "slurm":
        save_by = save_deadline(cluster.timeout_for(plan.job.partition or cluster.partition))
    return NemoRlJob(
        algorithm=plan.algorithm,
        config_path=config,
        job_config=job_config,
        nemo_rl_dir=nemo_rl_dir,
        backend=options_.backend,
        entry_script=options_.entry_script,
        checkpoint_must_save_by=save_by,
        input_key=options_.input_key,
        output_key=options_.output_key,
    )


def build_nemo_rl_pipeline(plan: NemoRlPlan) -> Pipeline:
    """Check everything (the overrides against NeMo-RL's config included) and build the training pipeline."""
    from nemo_skills.pipeline.cluster import load_cluster_config
    from nemo_skills.training.launchers.nemo_rl import render_nemo_rl

    _check_training(plan.training)
    cluster = load_cluster_config(plan.job.cluster, plan.job.config_dir)
    paths = _Paths(cluster)
    inputs = _inputs(plan.training, paths, plan.job.expname)
    trainer = render_nemo_rl(_nemo_rl_job(plan, cluster), inputs, plan.training.overrides)
    title = f"NeMo-RL {plan.algorithm.upper()} ({plan.nemo_rl.backend})"
    return _pipeline(
        plan.training, plan.job, cluster, inputs, trainer, "nemo_rl", plan.training.container or "nemo-rl", title
    )


def build_verl_pipeline(plan: VerlPlan) -> Pipeline:
    """Check everything (the overrides against veRL's config included) and build the training pipeline."""
    from nemo_skills.pipeline.cluster import load_cluster_config
    from nemo_skills.training.launchers.verl import IMAGE_REWARD_FILE, VerlJob, local_reward_file, render_verl
    from nemo_skills.training.launchers.verl_config import find_config_dir

    _check_training(plan.training)
    cluster = load_cluster_config(plan.job.cluster, plan.job.config_dir)
    paths = _Paths(cluster)
    inputs = _inputs(plan.training, paths, plan.job.expname)
    explicit = plan.verl.verl_config_dir
    container = plan.training.container or "verl"
    job = VerlJob(
        config_dir=str(find_config_dir(explicit)),
        job_config_dir=cluster.container_path(str(Path(explicit).expanduser().resolve())) if explicit else None,
        config_name=plan.verl.config_name,
        save_freq=plan.verl.save_freq,
        python=cluster.python_env_for(container) or "python3",  # a `containers` entry naming veRL's interpreter
        reward=plan.verl.reward,
        reward_file=IMAGE_REWARD_FILE if cluster.image_for(container) else local_reward_file(),
    )
    trainer = render_verl(job, inputs, plan.training.overrides)
    return _pipeline(plan.training, plan.job, cluster, inputs, trainer, "verl", container, "veRL PPO")


def _pipeline(
    training: TrainingOptions,
    job_options: JobOptions,
    cluster: ClusterConfig,
    inputs: TrainerInputs,
    trainer: TrainerCommand,
    framework: str,
    container: str,
    title: str,
) -> Pipeline:
    from nemo_skills.inference.server.local import free_port
    from nemo_skills.pipeline.declarative import Command, CommandGroup, HardwareConfig, Job, Pipeline
    from nemo_skills.training.launchers.conversion import conversion_config

    hardware = HardwareConfig(job_options.partition, job_options.qos, job_options.time_min, job_options.exclusive)
    if inputs.wandb is not None and "WANDB_API_KEY" not in cluster.resolved_env():
        LOG.warning("W&B logging is on but WANDB_API_KEY is not set here: export it, or pass --disable_wandb.")
    log_dir = str(Path(training.output_dir).expanduser().resolve() / "logs")
    expname = job_options.expname
    jobs: list[Job] = []
    for index in range(training.num_training_jobs):
        spec = RayClusterSpec(
            num_nodes=training.num_nodes,
            gpus_per_node=training.num_gpus,
            port=free_port(),
            marker_dir=cluster.container_path(log_dir),
            join_timeout_s=training.ray_join_timeout_s,
            on_slurm=cluster.executor == "slurm",
        )
        sandbox = SandboxScript(name="sandbox", port=free_port()) if training.with_sandbox else None
        script = RayTrainerScript(name="trainer", trainer=trainer, cluster=spec, sandbox=sandbox, title=title)
        commands = [
            Command(script, container=container, gpus=training.num_gpus, nodes=training.num_nodes, tasks_per_node=1)
        ]
        if sandbox is not None:
            commands.append(Command(sandbox))
        previous = jobs[-1] if jobs else None
        jobs.append(
            Job(
                expname + (f"-dep{index}" if index else ""),
                [CommandGroup(commands, hardware)],
                dependencies=[previous] if previous else [],
                run_after=list(job_options.run_after) if previous is None else [],
                # a chained job resumes from whatever checkpoint its predecessor left, even after a time-out
                dependency_type="afterany" if previous else None,
            )
        )
    if training.conversion_step != "none":
        config = conversion_config(
            framework,
            trainer.checkpoint_backend,
            inputs.checkpoint_dir,
            inputs.model,
            _Paths(cluster).folder(training.final_hf_path or f"{training.output_dir}/final_hf_model"),
            training.conversion_step,
            _parse_steps(training.average_steps),
        )
        convert = ConversionScript(name="convert", config=config)
        jobs.append(Job(f"{expname}-convert", [CommandGroup([Command(convert, container=container)])], [jobs[-1]]))
    return Pipeline(expname, cluster, jobs, log_dir)


def run_nemo_rl(plan: NemoRlPlan):
    """Check, build and run (or with dry_run, print) a NeMo-RL SFT or GRPO training and its conversion."""
    from nemo_skills.pipeline.run import run_pipeline

    return run_pipeline(build_nemo_rl_pipeline(plan), dry_run=plan.job.dry_run)


def run_ppo_verl(plan: VerlPlan):
    """Check, build and run (or with dry_run, print) a veRL PPO training and its conversion."""
    from nemo_skills.pipeline.run import run_pipeline

    return run_pipeline(build_verl_pipeline(plan), dry_run=plan.job.dry_run)
