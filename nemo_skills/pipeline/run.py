"""Run a Pipeline: check, render, submit (or print the plan), and report failures with their log tails."""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

from nemo_skills.errors import NemoSkillsError
from nemo_skills.pipeline.declarative import Pipeline, RenderedJob

LOG = logging.getLogger(__name__)
LOG_TAIL_LINES = 20


class JobFailedError(NemoSkillsError):
    """A job of the pipeline failed; the message carries its logs' tails."""


def log_tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))
    except OSError:
        return "(no log)"


def failure_report(job: RenderedJob) -> str:
    codes = ", ".join(
        f"{name}: {'no exit code' if code is None else code}" for name, code in main_exit_codes(job).items()
    )
    parts = [f"Job {job.name} failed ({codes})."]
    for group in job.groups:
        for command in group:
            parts.append(f"--- {command.name} ({command.log_file}), last lines:\n{log_tail(command.log_file)}")
    return "\n".join(parts)


def main_exit_codes(job: RenderedJob) -> dict[str, int | None]:
    """Each main command's recorded exit code (None: it never recorded one)."""
    codes: dict[str, int | None] = {}
    for command in job.main_commands():
        try:
            codes[command.name] = int(Path(job.host_sync_dir, f"{command.name}.exit").read_text().strip())
        except (OSError, ValueError):
            codes[command.name] = None
    return codes


def succeeded(job: RenderedJob) -> bool:
    """A job succeeded when every one of its main commands recorded exit code 0 (the executor's word is not enough:
    nemo-run reports a multi-command local job by its last command)."""
    return all(code == 0 for code in main_exit_codes(job).values())


def secret_values(pipeline: Pipeline) -> list[str]:
    """Values a printed plan must not show: forwarded secrets and required variables (tokens, keys)."""
    from nemo_skills.pipeline.cluster import FORWARDED_SECRETS

    env = pipeline.cluster.resolved_env()
    names = set(FORWARDED_SECRETS) | {entry.split("=")[0] for entry in pipeline.cluster.required_env_vars}
    return sorted((env[name] for name in names if env.get(name) and len(env[name]) >= 4), key=len, reverse=True)


def run_pipeline(pipeline: Pipeline, dry_run: bool = False):
    """Submit every job (Slurm: detached) or run them here (none/local: attached), or print the plan."""
    from nemo_skills.pipeline.executors import run_jobs

    rendered = pipeline.render()
    pipeline.cluster.check_before_submit()
    if dry_run:
        print(pipeline.plan_text(rendered))
        if pipeline.cluster.executor == "slurm":
            from nemo_skills.pipeline.executors import rendered_scripts

            experiment = run_jobs(pipeline.name, pipeline.cluster, rendered, dry_run=True)
            secrets = secret_values(pipeline)
            for name, script in rendered_scripts(experiment).items():
                for secret in secrets:
                    script = script.replace(secret, "<hidden>")
                print(f"\n===== {name} (not submitted) =====\n{script}")
        return None
    if pipeline.cluster.executor != "slurm":
        Path(pipeline.log_dir).mkdir(parents=True, exist_ok=True)
    experiment = run_jobs(pipeline.name, pipeline.cluster, rendered)
    if pipeline.cluster.executor == "slurm":
        LOG.info("Submitted %d job(s); logs will be in %s", len(rendered), pipeline.log_dir)
        return experiment
    failed = [job for job in rendered if not succeeded(job)]
    if failed:
        raise JobFailedError("\n".join(failure_report(spec) for spec in failed))
    return experiment
