"""Pipelines on executor `none` (nemo-run LocalExecutor): statuses, dependencies and failure reports."""

from __future__ import annotations

import pytest

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline.cluster import ClusterConfig
from nemo_skills.pipeline.declarative import Command, CommandGroup, Job, Pipeline
from nemo_skills.pipeline.run import JobFailedError, run_pipeline
from nemo_skills.pipeline.scripts import CommandScript

NONE = ClusterConfig(executor="none")


def shell(name: str, text: str) -> Command:
    return Command(CommandScript(name=name, shell=text))


def test_a_failing_main_fails_the_job_even_when_another_succeeds(tmp_path):
    job = Job("multi", [CommandGroup([shell("bad", "echo why-bad; exit 5"), shell("ok", "sleep 2; echo fine")])])
    with pytest.raises(JobFailedError, match=r"Job multi failed \(bad: 5, ok: 0\)") as info:
        run_pipeline(Pipeline("multi", NONE, [job], str(tmp_path / "logs")))
    assert "why-bad" in str(info.value)


def test_every_command_of_a_group_runs_to_its_end(tmp_path):
    job = Job("both", [CommandGroup([shell("quick", "echo quick"), shell("slow", "sleep 3; echo slow")])])
    run_pipeline(Pipeline("both", NONE, [job], str(tmp_path / "logs")))
    assert (tmp_path / "logs" / "both_slow.log").read_text() == "slow\n"


def test_dependent_job_does_not_run_after_a_failure(tmp_path):
    marker = tmp_path / "ran"
    first = Job("first", [CommandGroup([shell("x", "exit 2")])])
    second = Job("second", [CommandGroup([shell("y", f"touch {marker}")])], dependencies=[first])
    with pytest.raises(JobFailedError) as info:
        run_pipeline(Pipeline("deps", NONE, [first, second], str(tmp_path / "logs")))
    assert not marker.exists()
    assert "Job first failed" in str(info.value) and "Job second failed" in str(info.value)
    second_log = tmp_path / "logs" / "second_y.log"  # nemo-run may skip it; if it starts, it stops itself
    assert not second_log.exists() or "did not succeed" in second_log.read_text()


def test_dependent_job_runs_after_a_success(tmp_path):
    data = tmp_path / "data"
    first = Job("first", [CommandGroup([shell("x", f"mkdir -p {data}; echo 21 > {data}/a")])])
    second = Job(
        "second", [CommandGroup([shell("y", f"echo $(( $(cat {data}/a) * 2 )) > {data}/b")])], dependencies=[first]
    )
    run_pipeline(Pipeline("deps-ok", NONE, [first, second], str(tmp_path / "logs")))
    assert (data / "b").read_text() == "42\n"


def test_slurm_refuses_several_main_commands_in_one_job():
    cluster = ClusterConfig(executor="slurm", job_dir="/jobs")
    job = Job("two-mains", [CommandGroup([shell("a", "true"), shell("b", "true")])])
    with pytest.raises(ConfigError, match="several main commands"):
        Pipeline("p", cluster, [job], "/jobs/logs").validate()
