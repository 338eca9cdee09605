"""Run rendered jobs through nemo-run: `none` (this machine), `local` (Docker) and `slurm` (sbatch)."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline.cluster import ClusterConfig
from nemo_skills.pipeline.declarative import HardwareConfig, RenderedCommand, RenderedJob

LOG = logging.getLogger(__name__)
DEFAULT_ACCOUNT = "nemo_skills"


def _run():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import nemo_run as run

    _omit_unset_sbatch_flags()
    return run


def _omit_unset_sbatch_flags() -> None:
    """nemo-run writes `#SBATCH --gpus-per-node=None` for a GPU-less group of a het job after a GPU group; sbatch
    rejects that. Unset values are left out instead."""
    from nemo_run.core.execution import slurm

    original = slurm._as_sbatch_flag
    if getattr(original, "_omits_none", False):
        return

    def as_sbatch_flag(key: str, value: Any) -> str:
        return f"# --{key.replace('_', '-')} not set" if value is None else original(key, value)

    as_sbatch_flag._omits_none = True  # type: ignore[attr-defined]
    slurm._as_sbatch_flag = as_sbatch_flag


@dataclass(frozen=True)
class ExperimentPaths:
    """Where nemo-run keeps experiments: under the tunnel's job_dir on Slurm, else ~/.nemo_run (or $NEMORUN_HOME)."""

    base_dir: str

    @classmethod
    def for_cluster(cls, cluster: ClusterConfig) -> ExperimentPaths:
        if cluster.executor == "slurm":
            return cls(cluster.ssh_tunnel.job_dir if cluster.ssh_tunnel else str(cluster.job_dir))
        return cls(os.environ.get("NEMORUN_HOME", str(Path.home() / ".nemo_run")))


def _tunnel(cluster: ClusterConfig, paths: ExperimentPaths):
    run = _run()
    if cluster.ssh_tunnel is not None:
        tunnel = cluster.ssh_tunnel
        return run.SSHTunnel(
            host=tunnel.host,
            user=tunnel.user or os.environ.get("USER", ""),
            job_dir=tunnel.job_dir,
            identity=os.path.expanduser(tunnel.identity) if tunnel.identity else None,
            shell=tunnel.shell,
            pre_command=tunnel.pre_command,
        )
    # nemo-run looks for the sbatch script under <experiment base dir>/experiments: the tunnel must point there
    return run.LocalTunnel(job_dir=str(Path(paths.base_dir) / "experiments"))


def slurm_partition(cluster: ClusterConfig, hardware: HardwareConfig, gpus: int) -> str | None:
    if hardware.partition:
        return hardware.partition
    if gpus == 0 and cluster.cpu_partition:
        return cluster.cpu_partition
    return cluster.partition


def build_executor(
    cluster: ClusterConfig,
    command: RenderedCommand,
    hardware: HardwareConfig,
    paths: ExperimentPaths,
    *,
    heterogeneous: bool = False,
    shares_allocation: bool = False,
):
    run = _run()
    if cluster.executor == "none":
        return run.LocalExecutor(ntasks_per_node=command.tasks_per_node, env_vars=dict(command.env))
    mounts = [f"{m.source}:{m.destination}" for m in cluster.resolved_mounts()]
    if cluster.executor == "local":
        return run.DockerExecutor(
            container_image=command.image or "",
            num_gpus=-1 if command.gpus else None,
            runtime="nvidia" if command.gpus else None,
            ntasks_per_node=command.tasks_per_node,
            network="host",
            ipc_mode="host",
            volumes=mounts,
            env_vars={"PYTHONUNBUFFERED": "1", **command.env},
            packager=run.Packager(),
        )
    partition = slurm_partition(cluster, hardware, command.gpus)
    srun_args = ["--overlap"] if shares_allocation else []  # co-located steps share the allocation
    return run.SlurmExecutor(
        account=cluster.account or DEFAULT_ACCOUNT,
        partition=partition,
        qos=hardware.qos or cluster.qos,
        nodes=command.nodes,
        ntasks_per_node=command.tasks_per_node,
        gpus_per_node=(command.gpus or None) if not cluster.disable_gpus_per_node else None,
        exclusive=True if hardware.exclusive else None,
        time=cluster.timeout_for(partition) or "4-00:00:00",
        container_image=command.image,
        container_mounts=mounts if command.image else [],
        env_vars=dict(command.env),
        srun_args=srun_args or None,
        tunnel=_tunnel(cluster, paths),
        packager=run.Packager(),
        dependency_type=cluster.dependency_type,
        heterogeneous=heterogeneous,
        job_name_prefix=cluster.job_name_prefix or None,
        additional_parameters={
            k: v
            for k, v in {
                "mail_type": cluster.mail_type,
                "mail_user": cluster.mail_user,
                "time_min": hardware.time_min,
            }.items()
            if v
        }
        or None,
        wait_time_for_group_job=0,  # nemo-run otherwise sleeps ~90 s around heterogeneous submissions
        monitor_group_job_wait_time=1,
        poll_estimated_start_time=False,
    )


def run_together(commands: list[RenderedCommand]) -> str:
    """One shell that runs every command of a group at once, each with its own environment, and waits for all."""
    parts = []
    for command in commands:
        exports = "".join(f"export {key}={shlex.quote(value)}; " for key, value in command.env.items())
        parts.append(f"( {exports}{command.command} ) &")
    return " ".join(parts) + " wait"


def _job_tasks(cluster: ClusterConfig, job: RenderedJob, paths: ExperimentPaths) -> tuple[list[Any], list[Any]]:
    run = _run()
    if cluster.executor == "none":
        # one process per job: nemo-run's local task groups stop the other tasks when the first one ends
        (group,) = job.groups
        return [run.Script(inline=run_together(group))], [run.LocalExecutor()]
    tasks, executors = [], []
    commands = [command for group in job.groups for command in group]
    for group, hardware in zip(job.groups, job.hardware, strict=True):
        for command in group:
            tasks.append(run.Script(inline=command.command))
            executors.append(
                build_executor(
                    cluster,
                    command,
                    hardware,
                    paths,
                    heterogeneous=len(job.groups) > 1,
                    shares_allocation=len(commands) > 1 and len(job.groups) == 1,
                )
            )
    if job.dependency_type and cluster.executor == "slurm":
        executors[0].dependency_type = job.dependency_type
    if cluster.executor == "slurm" and len(job.groups) > 1:
        # one het group per CommandGroup; several commands of a group share its allocation
        index = [i for i, group in enumerate(job.groups) for _ in group]
        executors[0].het_group_indices = index
    return tasks, executors


def external_dependencies(names: list[str]) -> list[str]:
    """Task handles of the latest earlier experiment of each name, for `run_after`."""
    if not names:
        return []
    run = _run()
    handles = []
    for name in names:
        try:
            experiment = run.Experiment.from_title(name)
        except (AssertionError, FileNotFoundError, ValueError) as error:
            raise ConfigError(f"run_after: no earlier experiment named {name!r} ({error}).") from None
        for job in experiment.jobs:
            handles += list(getattr(job, "handles", None) or [job.handle])
    return [handle for handle in handles if handle]


def rendered_scripts(experiment: Any) -> dict[str, str]:
    """The sbatch scripts a dry run wrote, by file name, then removes the dry run's folder."""
    import shutil

    exp_dir = Path(experiment._exp_dir)
    scripts = {path.name: path.read_text() for path in sorted(exp_dir.rglob("*_sbatch.sh"))}
    shutil.rmtree(exp_dir, ignore_errors=True)
    return scripts


def submitted_job_ids(experiment: Any) -> dict[str, list[str]]:
    """Slurm job ids of each job of a launched experiment, by job name."""
    ids = {}
    for job in experiment.jobs:
        handles = list(getattr(job, "handles", None) or [job.handle])
        ids[job.id] = [handle.rpartition("/")[2] for handle in handles if handle]
    return ids


@contextlib.contextmanager
def _no_stdin():
    """nemo-run's tunnels (invoke) read stdin while commands run; give them an empty one (CI and tests have none)."""
    saved = sys.stdin
    with open(os.devnull) as devnull:
        sys.stdin = devnull
        try:
            yield
        finally:
            sys.stdin = saved


def run_jobs(name: str, cluster: ClusterConfig, jobs: list[RenderedJob], dry_run: bool = False) -> Any:
    """Submit (or render, with dry_run) rendered jobs as one nemo-run experiment, dependencies included."""
    with _no_stdin():
        return _run_jobs(name, cluster, jobs, dry_run)


def _run_jobs(name: str, cluster: ClusterConfig, jobs: list[RenderedJob], dry_run: bool) -> Any:
    run = _run()
    from nemo_run.config import set_nemorun_home

    paths = ExperimentPaths.for_cluster(cluster)
    set_nemorun_home(paths.base_dir)  # experiments (and run_after look-ups) live beside the jobs
    with run.Experiment(name, base_dir=paths.base_dir, log_level="WARN") as experiment:
        ids: dict[str, str] = {}
        for job in jobs:
            tasks, executors = _job_tasks(cluster, job, paths)
            external = external_dependencies(job.run_after)
            if external:
                if cluster.executor != "slurm":
                    raise ConfigError("run_after on earlier experiments needs the slurm executor.")
                executors[0].dependencies = external
            dependencies = [ids[dependency] for dependency in job.dependencies]
            if len(tasks) == 1:
                ids[job.name] = experiment.add(
                    tasks[0], executor=executors[0], name=job.name, dependencies=dependencies or None
                )
            else:
                ids[job.name] = experiment.add(
                    tasks, executor=executors, name=job.name, dependencies=dependencies or None
                )
        if dry_run:
            experiment.dryrun(log=False, delete_exp_dir=False)
            return experiment
        experiment.run(detach=cluster.executor == "slurm", sequential=False)
    return experiment
