"""`ns sft_nemo_rl` jobs on the real two-node loopback Slurm cluster: the rendered Ray start-up runs for real on both
nodes (with a `ray` stand-in: Ray and the trainer need GPUs and containers), the trainer command runs on the head
node, and chained jobs (afterany) run after a failed predecessor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from nemo_skills.pipeline.common import JobOptions
from nemo_skills.pipeline.executors import submitted_job_ids
from nemo_skills.pipeline.run import run_pipeline
from nemo_skills.pipeline.training import NemoRlOptions, NemoRlPlan, TrainingOptions, build_nemo_rl_pipeline

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
NEMO_RL_CONFIGS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "nemo-rl-configs"

# `ray`: records each call with its node; a head start and a worker `--block` register the node, `status` counts
# them as Ray prints a custom resource, `stop` unregisters; `fail-workers` makes workers unable to reach the head
RAY = r"""#!/usr/bin/env bash
node=${SLURMD_NODENAME:-$(hostname)}
dir=$RAY_STANDIN_DIR
echo "$node $*" >> "$dir/calls"
case "$1" in
  start)
    if [[ " $* " == *" --head "* ]]; then touch "$dir/joined-$node"; exit 0; fi
    if [ -e "$dir/fail-workers" ]; then echo "ray stand-in: cannot reach the head" >&2; exit 1; fi
    touch "$dir/joined-$node"
    while :; do sleep 1; done ;;
  status)
    echo "Resources"; echo " 0.0/$(ls "$dir" | grep -c '^joined-').0 nemo_skills_node" ;;
  stop)
    rm -f "$dir/joined-$node" ;;
esac
"""
# `uv` (NeMo-RL's documented launcher): records where and how the trainer ran; the first run fails like a time-out
UV = r"""#!/usr/bin/env bash
echo "${SLURMD_NODENAME:-$(hostname)}|$PWD|$RAY_ADDRESS|$*" >> "$RAY_STANDIN_DIR/trainer"
[ "$(wc -l < "$RAY_STANDIN_DIR/trainer")" -ge 2 ] || exit 3
"""


@pytest.fixture
def training_cluster(slurm_cluster, tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A cluster config for the loopback cluster whose jobs find the stand-ins first on PATH."""
    for key, value in slurm_cluster.env.items():
        monkeypatch.setenv(key, value)
    for key in [k for k in os.environ if k.startswith("SLURM_JOB")]:
        monkeypatch.delenv(key)
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name, body in (("ray", RAY), ("uv", UV)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "jobs").mkdir()
    config = {
        "executor": "slurm",
        "job_dir": str(tmp_path / "jobs"),
        "account": "test",
        "partition": slurm_cluster.partition,
        "env_vars": [f"PATH={bin_dir}:{os.environ['PATH']}", f"RAY_STANDIN_DIR={state}"],
    }
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(config))
    return tmp_path / "cluster.yaml", state


def sft_plan(tmp_path: Path, cluster_file: Path, **training) -> NemoRlPlan:
    if not NEMO_RL_CONFIGS.is_dir():
        pytest.skip(f"NeMo-RL's example configs are not at {NEMO_RL_CONFIGS}")
    nemo_rl = tmp_path / "nemo-rl"
    (nemo_rl / "examples" / "configs").mkdir(parents=True)
    (nemo_rl / "examples" / "configs" / "sft.yaml").write_text((NEMO_RL_CONFIGS / "sft.yaml").read_text())
    (tmp_path / "train.jsonl").write_text('{"messages": []}\n')
    options = TrainingOptions(
        model="Qwen/Qwen2.5-0.5B",
        training_data=str(tmp_path / "train.jsonl"),
        output_dir=str(tmp_path / "out"),
        num_gpus=0,
        num_nodes=2,
        conversion_step="none",
        disable_wandb=True,
        **training,
    )
    job = JobOptions(cluster=str(cluster_file), expname="sft", exclusive=True)
    return NemoRlPlan("sft", options, NemoRlOptions(nemo_rl_dir=str(nemo_rl)), job)


def submit(pipeline, slurm_jobs: list[str]) -> dict[str, list[str]]:
    ids = submitted_job_ids(run_pipeline(pipeline))
    for job_ids in ids.values():
        slurm_jobs.extend(job_ids)
    return ids


def test_ray_head_worker_and_trainer_on_the_right_nodes_then_a_chained_job(
    slurm_cluster, training_cluster, slurm_jobs, tmp_path
):
    cluster_file, state = training_cluster
    pipeline = build_nemo_rl_pipeline(sft_plan(tmp_path, cluster_file, num_training_jobs=2))
    trainer = pipeline.jobs[0].groups[0].commands[0].script.trainer
    port = pipeline.jobs[0].groups[0].commands[0].script.cluster.port
    ids = submit(pipeline, slurm_jobs)
    log = tmp_path / "out" / "logs" / "sft_trainer.log"
    first = slurm_cluster.wait_job(ids["sft"][0], timeout=120)
    assert first[0]["JobState"] == "FAILED", log.read_text()  # the trainer stand-in fails its first run
    second = slurm_cluster.wait_job(ids["sft-dep1"][0], timeout=120)
    assert second[0]["JobState"] == "COMPLETED", (tmp_path / "out" / "logs" / "sft-dep1_trainer.log").read_text()

    head, worker = slurm_cluster.node_names  # scontrol lists the allocation's first node first
    calls = [line.split(" ", 1) for line in (state / "calls").read_text().splitlines()]
    head_calls = [args for node, args in calls if node == head]
    worker_calls = [args for node, args in calls if node == worker]
    resources = """--resources='{"nemo_skills_node": 1}'""".replace("'", "")
    assert head_calls[0].startswith(f"start --head --port={port} --num-gpus=0 {resources} --disable-usage-stats")
    assert "status" in head_calls and head_calls.count("stop") == 2  # one cluster per job, each stopped
    assert sum(args.startswith("start --head") for args in head_calls) == 2
    assert (
        worker_calls[0] == f"start --address=127.0.0.1:{port} --num-gpus=0 {resources} --disable-usage-stats --block"
    )
    assert sum(args.endswith("--block") for args in worker_calls) == 2
    # the chained job's worker leaves by itself; the failed job's may be killed first by srun (--kill-on-bad-exit)
    assert worker_calls[-1] == "stop" and worker_calls.count("stop") in (1, 2)
    assert not any(args.startswith("start --head") or args == "status" for args in worker_calls)

    runs = [line.split("|") for line in (state / "trainer").read_text().splitlines()]
    assert len(runs) == 2  # the failed job's run and the chained job's resumed run
    for node, cwd, ray_address, argv in runs:
        assert (node, cwd) == (head, str(tmp_path / "nemo-rl"))
        assert ray_address.startswith("127.0.0.1:")
        assert argv.split(" ") == trainer.argv[1:]  # `uv` itself is the stand-in
    assert runs[0][2] == f"127.0.0.1:{port}"
    assert "[ray] all 2 node(s) joined; starting the trainer" in log.read_text()
    chained_log = (tmp_path / "out" / "logs" / "sft-dep1_trainer.log").read_text()
    assert "[ray] node 1: training finished (code 0); leaving" in chained_log


def test_head_fails_clearly_when_a_node_cannot_join(slurm_cluster, training_cluster, slurm_jobs, tmp_path):
    cluster_file, state = training_cluster
    (state / "fail-workers").touch()
    pipeline = build_nemo_rl_pipeline(sft_plan(tmp_path, cluster_file, ray_join_timeout_s=5))
    ids = submit(pipeline, slurm_jobs)
    info = slurm_cluster.wait_job(ids["sft"][0], timeout=120)
    log = (tmp_path / "out" / "logs" / "sft_trainer.log").read_text()
    assert info[0]["JobState"] == "FAILED", log
    assert "only 1 of 2 node(s) joined the Ray cluster within 5 s" in log
    assert not (state / "trainer").exists()  # the trainer never started
