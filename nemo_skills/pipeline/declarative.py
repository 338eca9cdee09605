"""Declarative jobs: Pipeline -> Job -> CommandGroup -> Command -> Script, rendered to shell only at the edge.

- A Command is one process (a Script) with its container, GPUs, nodes and environment.
- A CommandGroup shares one allocation: a server, its sandbox and the client that uses them.
- A Job is one or more groups; several groups form one Slurm heterogeneous job. Jobs depend on other jobs of the
  pipeline, or on earlier experiments by name (`run_after`).
- Service scripts (servers, sandboxes) run until every main script of their job has finished; then they are
  stopped, and the job's status is that of its main scripts.
"""

from __future__ import annotations

import shlex
import sys
import uuid
from dataclasses import dataclass, field

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline.cluster import ClusterConfig
from nemo_skills.pipeline.ports import await_port_step, claim_port_step, port_placeholder
from nemo_skills.pipeline.scripts import PortScript, Script

HET_HOST_VAR = "NEMO_SKILLS_HET_HOST_{index}"
SERVICE_STOP_GRACE_S = 10
PORT_WAIT_S = 600  # a service publishes its port first thing; its clients wait this long for it


@dataclass(frozen=True)
class HardwareConfig:
    partition: str | None = None
    qos: str | None = None
    time_min: str | None = None
    exclusive: bool = False


@dataclass(eq=False)
class Command:
    script: Script
    container: str | None = None  # a key of the cluster config's `containers`; default: the script's
    gpus: int = 0  # per node
    nodes: int = 1
    tasks_per_node: int = 1
    env: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.script.name

    @property
    def container_name(self) -> str:
        if self.container:
            return self.container
        return getattr(self.script, "container_name", self.script.default_container)


@dataclass(eq=False)
class CommandGroup:
    commands: list[Command]
    hardware: HardwareConfig = field(default_factory=HardwareConfig)
    name: str | None = None

    @property
    def gpus(self) -> int:
        return max((c.gpus for c in self.commands), default=0)

    @property
    def nodes(self) -> int:
        return max((c.nodes for c in self.commands), default=1)


@dataclass(eq=False)
class Job:
    name: str
    groups: list[CommandGroup]
    dependencies: list[Job] = field(default_factory=list)
    run_after: list[str] = field(default_factory=list)  # names of earlier experiments
    dependency_type: str | None = None  # default: the cluster config's (afterok)

    @property
    def heterogeneous(self) -> bool:
        return len(self.groups) > 1

    def commands(self) -> list[Command]:
        return [command for group in self.groups for command in group.commands]


@dataclass(frozen=True)
class RenderedCommand:
    name: str
    command: str  # the full shell command, lifecycle wrapper included
    log_file: str  # where its output goes (as seen by the command)
    container: str  # the container key
    image: str | None  # the image (local/slurm) or None
    gpus: int
    nodes: int
    tasks_per_node: int
    env: dict[str, str]
    service: bool


@dataclass(frozen=True)
class RenderedJob:
    name: str
    groups: list[list[RenderedCommand]]
    hardware: list[HardwareConfig]
    dependencies: list[str]
    run_after: list[str]
    sync_dir: str  # where its commands record exit codes (as the commands see it)
    host_sync_dir: str  # the same folder, as this machine sees it
    dependency_type: str | None = None

    def main_commands(self) -> list[RenderedCommand]:
        return [command for group in self.groups for command in group if not command.service]


class JobRenderContext:
    """Where each script of one job runs, as its commands need to know it."""

    def __init__(self, job: Job, cluster: ClusterConfig):
        self.job = job
        self.cluster = cluster
        self.executor = cluster.executor
        self._group_of = {id(c.script): i for i, g in enumerate(job.groups) for c in g.commands}
        self._command_of = {id(c.script): c for g in job.groups for c in g.commands}
        # services whose port is chosen on their node when a Slurm job starts, numbered in the job
        self.runtime_ports: list[PortScript] = []
        if self.executor == "slurm":
            scripts = [c.script for c in job.commands()]
            self.runtime_ports = [s for s in scripts if isinstance(s, PortScript) and not s.port_fixed]

    def host_of(self, script: Script) -> str:
        if id(script) not in self._group_of:
            raise ConfigError(f"Script {script.name!r} is referenced by job {self.job.name!r} but is not part of it.")
        if self.executor != "slurm" or not self.job.heterogeneous:
            return "127.0.0.1"
        return "${" + HET_HOST_VAR.format(index=self._group_of[id(script)]) + "}"

    def bind_host(self, script: Script) -> str:
        """Where a service listens: loopback when it shares an allocation with its users, else every interface."""
        return "127.0.0.1" if self.host_of(script) == "127.0.0.1" else "0.0.0.0"

    def port_of(self, script: PortScript) -> str:
        for index, candidate in enumerate(self.runtime_ports):
            if candidate is script:
                return port_placeholder(index)
        return str(script.port)

    def port_steps(self, script: Script, sync_dir: str) -> list[str]:
        """Shell steps that give this script the job's runtime ports: its own chosen first, then every port read."""
        steps = []
        for index, service in enumerate(self.runtime_ports):
            if service is script:
                steps.append(claim_port_step(index, service.name, sync_dir, self.python_for(service)))
        for index, service in enumerate(self.runtime_ports):
            steps.append(await_port_step(index, service.name, sync_dir, PORT_WAIT_S))
        return steps

    def python_for(self, script: Script) -> str:
        """Inside a container `python3`; else the Python env the command's container names, or this one."""
        command = self._command_of[id(script)]
        container = command.container_name
        if self.cluster.image_for(container):
            return "python3"
        configured = self.cluster.python_env_for(container)
        if configured:
            return configured
        if container in ("vllm", "sglang"):
            from nemo_skills.inference.server.local import server_python

            return server_python(container, None, command.gpus)
        return sys.executable


def het_host_exports(num_groups: int) -> str:
    """Shell lines that name the first node of every het group (Slurm sets SLURM_JOB_NODELIST_HET_GROUP_<i>)."""
    lines = []
    for index in range(num_groups):
        nodelist = f"SLURM_JOB_NODELIST_HET_GROUP_{index}"
        lines.append(f'export {HET_HOST_VAR.format(index=index)}=$(scontrol show hostnames "${nodelist}" | head -n1)')
    return " && ".join(lines)


def logged(command: str, log_file: str) -> str:
    """The command with its output also appended to `log_file`; the command's exit code is kept."""
    log = shlex.quote(log_file)
    return f"mkdir -p $(dirname {log}); set -o pipefail; ( {command} ) 2>&1 | tee -a {log}"


def dependency_check(dependencies: list[RenderedJob]) -> str:
    """Shell that stops (exit 1) unless every main command of `dependencies` recorded exit code 0."""
    files = [f"{job.sync_dir}/{command.name}.exit" for job in dependencies for command in job.main_commands()]
    quoted = " ".join(shlex.quote(f) for f in files)
    return (
        f'for f in {quoted}; do if [ "$(cat "$f" 2>/dev/null)" != 0 ]; then '
        'echo "not running: a job this one depends on did not succeed ($f)" >&2; exit 1; fi; done'
    )


def wrap_main(command: str, name: str, sync_dir: str) -> str:
    """Run a main command and record its exit code, so that the job's services know when to stop."""
    sync = shlex.quote(sync_dir)
    return (
        f"mkdir -p {sync}; bash -c {shlex.quote(command)}; rc=$?; echo $rc > {sync}/{shlex.quote(name)}.exit; exit $rc"
    )


def wrap_service(command: str, name: str, sync_dir: str, num_mains: int) -> str:
    """Run a service until all `num_mains` main commands have recorded an exit code, then stop its process group."""
    sync = shlex.quote(sync_dir)
    return (
        f"mkdir -p {sync}; setsid bash -c {shlex.quote(command)} & child=$!; "
        "trap 'kill -TERM -- -$child 2>/dev/null' TERM INT; "
        "while kill -0 $child 2>/dev/null; do "
        f"if [ $(ls {sync}/*.exit 2>/dev/null | wc -l) -ge {num_mains} ]; then "
        "kill -TERM -- -$child 2>/dev/null; "
        f"for i in $(seq {SERVICE_STOP_GRACE_S}); do kill -0 -- -$child 2>/dev/null || break; sleep 1; done; "
        "kill -KILL -- -$child 2>/dev/null; exit 0; fi; sleep 1; done; "
        f"wait $child; rc=$?; echo 'service {name} exited (code '$rc') before the main commands finished' >&2; "
        "if [ $rc -eq 0 ]; then exit 1; fi; exit $rc"
    )


@dataclass
class Pipeline:
    name: str
    cluster: ClusterConfig
    jobs: list[Job]
    log_dir: str

    def validate(self) -> None:
        if not self.jobs:
            raise ConfigError(f"Pipeline {self.name!r} has no jobs.")
        seen: set[int] = set()
        names: set[str] = set()
        for job in self.jobs:
            if job.name in names:
                raise ConfigError(f"Pipeline {self.name!r} has two jobs named {job.name!r}.")
            names.add(job.name)
            for dependency in job.dependencies:
                if id(dependency) not in seen:
                    raise ConfigError(
                        f"Job {job.name!r} depends on {dependency.name!r}, which must be an earlier job of the "
                        "pipeline (pipelines run in order; no cycles)."
                    )
            seen.add(id(job))
            self._validate_job(job)

    def _validate_job(self, job: Job) -> None:
        commands = job.commands()
        if not commands:
            raise ConfigError(f"Job {job.name!r} has no commands.")
        if all(command.script.service for command in commands):
            raise ConfigError(f"Job {job.name!r} has only services (servers/sandboxes), so it would never end.")
        mains = [command.name for command in commands if not command.script.service]
        if self.cluster.executor == "slurm" and len(mains) > 1:
            # nemo-run's Slurm monitor ends the whole job shortly after its first step exits
            raise ConfigError(
                f"Job {job.name!r} has several main commands ({', '.join(mains)}); on Slurm give each its own job."
            )
        if len(set(c.name for c in commands)) != len(commands):
            raise ConfigError(f"Job {job.name!r} has two commands with the same name; names must be unique.")
        if self.cluster.executor == "none":
            if any(command.nodes > 1 for command in commands):
                raise ConfigError(f"Job {job.name!r} asks for several nodes; executor `none` runs on this machine.")
            if job.heterogeneous:
                raise ConfigError(f"Job {job.name!r} has several groups; only Slurm runs heterogeneous jobs.")
        if self.cluster.executor != "none":
            for command in commands:
                if command.container_name not in self.cluster.containers and self.cluster.executor == "local":
                    raise ConfigError(
                        f"Command {command.name!r} of job {job.name!r} needs container {command.container_name!r}, "
                        "which the cluster config does not define under `containers`."
                    )

    def render(self) -> list[RenderedJob]:
        self.validate()
        env = self.cluster.resolved_env()
        log_dir = self.cluster.container_path(self.log_dir)
        rendered: dict[str, RenderedJob] = {}
        for job in self.jobs:
            # off Slurm, nemo-run starts a dependent job whatever happened: it checks its dependencies' exit codes
            # (unless it runs `afterany`, after whatever happened, like a chained job that resumes its predecessor)
            off_slurm = self.cluster.executor != "slurm" and job.dependency_type != "afterany"
            checks = [rendered[d.name] for d in job.dependencies] if off_slurm else []
            rendered[job.name] = self._render_job(job, env, log_dir, checks)
        return list(rendered.values())

    def _render_job(self, job: Job, env: dict[str, str], log_dir: str, checks: list[RenderedJob]) -> RenderedJob:
        ctx = JobRenderContext(job, self.cluster)
        token = f"{job.name}-{uuid.uuid4().hex[:8]}"
        sync_dir = f"{log_dir}/.sync/{token}"
        commands = job.commands()
        num_mains = sum(1 for command in commands if not command.script.service)
        groups = []
        for group in job.groups:
            rendered = []
            # the biggest request first: on Slurm the first command of a group sizes the allocation
            for command in sorted(group.commands, key=lambda c: (c.nodes, c.gpus), reverse=True):
                log_file = f"{log_dir}/{job.name}_{command.name}.log"
                text = "; ".join([*ctx.port_steps(command.script, sync_dir), command.script.command(ctx)])
                text = logged(text, log_file)
                if checks:  # inside the wrappers: a main that does not run still records its failure
                    text = f"{dependency_check(checks)} && {text}"
                if command.script.service:
                    text = wrap_service(text, command.name, sync_dir, num_mains)
                else:
                    text = wrap_main(text, command.name, sync_dir)
                if ctx.executor == "slurm" and job.heterogeneous:
                    text = f"{het_host_exports(len(job.groups))} && {text}"
                rendered.append(
                    RenderedCommand(
                        name=command.name,
                        command=text,
                        log_file=log_file,
                        container=command.container_name,
                        image=self.cluster.image_for(command.container_name),
                        gpus=command.gpus,
                        nodes=command.nodes,
                        tasks_per_node=command.tasks_per_node,
                        env={**env, **command.env},
                        service=command.script.service,
                    )
                )
            groups.append(rendered)
        return RenderedJob(
            name=job.name,
            groups=groups,
            hardware=[group.hardware for group in job.groups],
            dependencies=[dependency.name for dependency in job.dependencies],
            run_after=list(job.run_after),
            sync_dir=sync_dir,
            host_sync_dir=f"{self.log_dir}/.sync/{token}",
            dependency_type=job.dependency_type,
        )

    def plan_text(self, rendered: list[RenderedJob] | None = None) -> str:
        """A plan a person can read: jobs, what runs where, dependencies, and the exact commands."""
        rendered = rendered if rendered is not None else self.render()
        lines = [f"Pipeline {self.name!r} on executor {self.cluster.executor!r}: {len(rendered)} job(s)"]
        for job, spec in zip(self.jobs, rendered, strict=True):
            after = spec.dependencies + [f"experiment {name}" for name in spec.run_after]
            kind = "heterogeneous job" if job.heterogeneous else "job"
            lines.append(f"- {kind} {spec.name}" + (f" (after {', '.join(after)})" if after else ""))
            for index, (group, commands) in enumerate(zip(job.groups, spec.groups, strict=True)):
                lines.append(f"  group {index}: {group.nodes} node(s), {group.gpus} GPU(s) per node")
                for command, script_command in zip(commands, group.commands, strict=True):
                    role = "service" if command.service else "main"
                    where = f"container {command.container}" + (f" ({command.image})" if command.image else "")
                    lines.append(f"    [{role}] {script_command.script.describe()} — {where}")
                    lines.append(f"      $ {script_command.script.command(JobRenderContext(job, self.cluster))}")
        return "\n".join(lines)
