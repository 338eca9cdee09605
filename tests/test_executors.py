"""How rendered jobs become nemo-run executors, and what a Slurm dry run prints (nothing is submitted)."""

from __future__ import annotations

import json
import subprocess
import sys

from nemo_skills.pipeline.cluster import ClusterConfig
from nemo_skills.pipeline.declarative import HardwareConfig, RenderedCommand
from nemo_skills.pipeline.executors import ExperimentPaths, build_executor, slurm_partition


def rendered(gpus: int = 0, image: str | None = "img:1") -> RenderedCommand:
    return RenderedCommand(
        name="c",
        command="echo hi",
        log_file="/logs/c.log",
        container="nemo-skills",
        image=image,
        gpus=gpus,
        nodes=1,
        tasks_per_node=1,
        env={"A": "1"},
        service=False,
    )


def test_docker_executor_for_the_local_executor(tmp_path):
    cluster = ClusterConfig(executor="local", mounts=[f"{tmp_path}:/data"], containers={"nemo-skills": "img:1"})
    executor = build_executor(cluster, rendered(gpus=2), HardwareConfig(), ExperimentPaths(str(tmp_path)))
    assert type(executor).__name__ == "DockerExecutor"
    assert executor.container_image == "img:1"
    assert executor.volumes == [f"{tmp_path}:/data"]
    assert executor.network == "host" and executor.ipc_mode == "host"
    assert executor.num_gpus == -1 and executor.runtime == "nvidia"
    assert executor.env_vars == {"PYTHONUNBUFFERED": "1", "A": "1"}
    cpu_only = build_executor(cluster, rendered(gpus=0), HardwareConfig(), ExperimentPaths(str(tmp_path)))
    assert cpu_only.num_gpus is None and cpu_only.runtime is None


def test_slurm_executor_fields(tmp_path):
    cluster = ClusterConfig(
        executor="slurm",
        job_dir=str(tmp_path),
        account="acct",
        partition="gpu",
        cpu_partition="cpu",
        timeouts={"gpu": "04:00:00"},
        dependency_type="afterany",
    )
    gpu = build_executor(
        cluster, rendered(gpus=8, image=None), HardwareConfig(), ExperimentPaths(str(tmp_path)), shares_allocation=True
    )
    assert (gpu.account, gpu.partition, gpu.gpus_per_node, gpu.time) == ("acct", "gpu", 8, "04:00:00")
    assert gpu.srun_args == ["--overlap"] and gpu.dependency_type == "afterany"
    assert gpu.container_image is None and gpu.container_mounts == []
    assert gpu.tunnel.job_dir == f"{tmp_path}/experiments"
    assert slurm_partition(cluster, HardwareConfig(), gpus=0) == "cpu"
    assert slurm_partition(cluster, HardwareConfig(partition="other"), gpus=0) == "other"


def test_slurm_dry_run_prints_sbatch_scripts_and_submits_nothing(tmp_path):
    config = tmp_path / "cluster.yaml"
    config.write_text(
        json.dumps(
            {
                "executor": "slurm",
                "job_dir": str(tmp_path / "jobs"),
                "account": "acct",
                "partition": "batch",
                "containers": {"vllm": "vllm/vllm-openai:v0.11.0", "nemo-skills": "nemo-skills:latest"},
                "mounts": [f"{tmp_path}:{tmp_path}"],
                "env_vars": [f"HF_HOME={tmp_path}/hf"],
            }
        )
    )
    input_file = tmp_path / "in.jsonl"
    input_file.write_text('{"problem": "a"}\n{"problem": "b"}\n')
    argv = [
        sys.executable,
        "-c",
        "from nemo_skills.pipeline.cli import main; main()",
        "generate",
        "--cluster",
        str(config),
        "--input_file",
        str(input_file),
        "--output_dir",
        str(tmp_path / "out"),
        "--model",
        "/models/m",
        "--server_gpus",
        "8",
        "--num_random_seeds",
        "2",
        "--dependent_jobs",
        "1",
        "--dry_run",
        "++prompt_config=generic/default",
        "++inference.temperature=0.6",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2 of 2 generation task(s) to run (0 done); 2 input rows; at most 4 requests" in out
    assert "job generate-rs0-dep1 (after generate-rs0)" in out
    assert out.count("(not submitted) =====") == 4
    assert "#SBATCH --gpus-per-node=8" in out and "#SBATCH --partition=batch" in out
    assert "--container-image vllm/vllm-openai:v0.11.0" in out and "--container-image nemo-skills:latest" in out
    assert "--overlap" in out
    assert not (tmp_path / "jobs" / "experiments").exists() or not any(
        (tmp_path / "jobs" / "experiments").rglob("*.sh")
    )


def test_het_dry_run_leaves_unset_gpus_out_and_hides_secrets(tmp_path, monkeypatch, capsys):
    from nemo_skills.pipeline.declarative import Command, CommandGroup, Job, Pipeline
    from nemo_skills.pipeline.run import run_pipeline
    from nemo_skills.pipeline.scripts import GenerationClientScript, ServerScript

    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_123")
    cluster = ClusterConfig(
        executor="slurm",
        job_dir=str(tmp_path),
        account="acct",
        partition="gpu",
        containers={"vllm": "/opt/vllm-venv/bin/python"},
    )
    server = ServerScript(name="server", server_type="vllm", model="/m", port=5000, gpus=8)
    client = GenerationClientScript(name="client", server=server, overrides=["++input_file=/in.jsonl"])
    job = Job("het", [CommandGroup([Command(server, gpus=8)]), CommandGroup([Command(client)])])
    run_pipeline(Pipeline("het", cluster, [job], str(tmp_path / "logs")), dry_run=True)
    out = capsys.readouterr().out
    assert "heterogeneous job het" in out and "#SBATCH hetjob" in out
    assert "--gpus-per-node=8" in out and "--gpus-per-node=None" not in out
    assert "hf_secret_value_123" not in out and "HF_TOKEN=<hidden>" in out
