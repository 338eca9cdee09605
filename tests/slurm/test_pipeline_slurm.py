"""Declarative pipelines submitted through nemo-run to the real loopback Slurm cluster (no containers)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_skills.inference.server.local import free_port
from nemo_skills.pipeline.cluster import ClusterConfig
from nemo_skills.pipeline.declarative import Command, CommandGroup, Job, Pipeline
from nemo_skills.pipeline.executors import submitted_job_ids
from nemo_skills.pipeline.run import run_pipeline
from nemo_skills.pipeline.scripts import CommandScript, GenerationClientScript, ServerScript

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
STUB = "nemo_skills.inference.server.stub_openai"


@pytest.fixture
def slurm_env(slurm_cluster, tmp_path, monkeypatch):
    """This process submits with the loopback cluster's settings; jobs use this Python environment."""
    for key, value in slurm_cluster.env.items():
        monkeypatch.setenv(key, value)
    for key in [k for k in list(__import__("os").environ) if k.startswith("SLURM_JOB")]:
        monkeypatch.delenv(key)
    job_dir = tmp_path / "jobs"
    job_dir.mkdir()
    return ClusterConfig(executor="slurm", job_dir=str(job_dir), account="test", partition=slurm_cluster.partition)


def submit(pipeline: Pipeline, slurm_jobs: list[str]) -> dict[str, list[str]]:
    experiment = run_pipeline(pipeline)
    ids = submitted_job_ids(experiment)
    for job_ids in ids.values():
        slurm_jobs.extend(job_ids)
    return ids


def cluster_file(slurm_env: ClusterConfig, tmp_path: Path) -> Path:
    """The loopback cluster's config as a file, for `ns --cluster`."""
    import yaml

    path = tmp_path / "loopback.yaml"
    path.write_text(yaml.safe_dump(slurm_env.model_dump(exclude_defaults=True)))
    return path


def run_ns(slurm_cluster, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    """`ns ARGS` as a user runs it next to the loopback cluster."""
    argv = [sys.executable, "-c", "from nemo_skills.pipeline.cli import main; main()", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=slurm_cluster.client_env())


def queued_jobs(slurm_cluster, slurm_jobs: list[str]) -> list[str]:
    """The ids of every job now queued or running (recorded for cancellation at teardown)."""
    job_ids = slurm_cluster.run(["squeue", "-h", "-o", "%i"]).stdout.split()
    slurm_jobs.extend(job_ids)
    return job_ids


def states(slurm_cluster, job_id: str, timeout: float = 90) -> list[str]:
    return [c["JobState"] for c in slurm_cluster.wait_job(job_id, timeout=timeout)]


def write_input(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"problem": f"question {i}", "id": i}) + "\n" for i in range(count)))
    return path


def test_het_job_client_reaches_its_server_through_the_het_group_host(slurm_cluster, slurm_env, slurm_jobs, tmp_path):
    input_file = write_input(tmp_path / "in.jsonl", 6)
    output = tmp_path / "out" / "output.jsonl"
    server = ServerScript(
        name="server",
        server_type="generic",
        model="stub-model",
        port=free_port(),
        entrypoint=STUB,
        server_args=["--host", "0.0.0.0"],
    )
    client = GenerationClientScript(
        name="client",
        server=server,
        server_wait_s=60,
        overrides=[
            f"++input_file={input_file}",
            f"++output_file={output}",
            "++prompt_config=generic/default",
            "++server.model=stub-model",
            "++progress_bar=False",
        ],
    )
    job = Job("het", [CommandGroup([Command(server)]), CommandGroup([Command(client)])])
    ids = submit(Pipeline("het-exp", slurm_env, [job], str(tmp_path / "logs")), slurm_jobs)
    leader = ids["het"][0]
    assert set(states(slurm_cluster, leader)) == {"COMPLETED"}, (tmp_path / "logs" / "het_client.log").read_text()
    components = slurm_cluster.job_info(leader)
    assert len({c["NodeList"] for c in components}) == 2  # server and client ran on different nodes
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["generation"] for row in rows] == [f"echo: question {i}" for i in range(6)]
    record = json.loads(Path(f"{output}.run.json").read_text())
    server_node = next(c["NodeList"] for c in components if c.get("HetJobOffset") == "0")
    # the port is the one the server's node found free when the job started, announced in the server's log
    port = re.search(r"\[ports\] server listens on port (\d+)", (tmp_path / "logs" / "het_server.log").read_text())
    assert port, "the server job did not announce its port"
    assert record["config"]["server"]["base_url"] == f"http://{server_node}:{port.group(1)}/v1"


def test_dependent_job_sees_the_first_jobs_output(slurm_cluster, slurm_env, slurm_jobs, tmp_path):
    data = tmp_path / "data"
    first = Job(
        "first", [CommandGroup([Command(CommandScript(name="w", shell=f"mkdir -p {data}; echo 21 > {data}/a"))])]
    )
    second = Job(
        "second",
        [CommandGroup([Command(CommandScript(name="r", shell=f"echo $(( $(cat {data}/a) * 2 )) > {data}/b"))])],
        dependencies=[first],
    )
    ids = submit(Pipeline("chain", slurm_env, [first, second], str(tmp_path / "logs")), slurm_jobs)
    assert states(slurm_cluster, ids["second"][0]) == ["COMPLETED"]
    assert (data / "b").read_text().strip() == "42"


def test_failed_job_stops_its_afterok_dependents(slurm_cluster, slurm_env, slurm_jobs, tmp_path):
    marker = tmp_path / "should-not-exist"
    failing = Job("fails", [CommandGroup([Command(CommandScript(name="x", shell="echo boom; exit 3"))])])
    dependent = Job(
        "after", [CommandGroup([Command(CommandScript(name="y", shell=f"touch {marker}"))])], dependencies=[failing]
    )
    ids = submit(Pipeline("fail-chain", slurm_env, [failing, dependent], str(tmp_path / "logs")), slurm_jobs)
    assert states(slurm_cluster, ids["fails"][0]) == ["FAILED"]
    info = slurm_cluster.wait_job(ids["after"][0], states={"PENDING"}, reason="DependencyNeverSatisfied")
    assert info[0]["JobState"] == "PENDING"
    assert not marker.exists()
    assert "boom" in (tmp_path / "logs" / "fails_x.log").read_text()


def test_two_node_job_runs_a_task_on_each_node(slurm_cluster, slurm_env, slurm_jobs, tmp_path):
    out = tmp_path / "nodes"
    script = CommandScript(name="n", shell=f"mkdir -p {out}; touch {out}/$SLURMD_NODENAME")
    job = Job("two", [CommandGroup([Command(script, nodes=2)])])
    ids = submit(Pipeline("two-nodes", slurm_env, [job], str(tmp_path / "logs")), slurm_jobs)
    assert states(slurm_cluster, ids["two"][0]) == ["COMPLETED"]
    assert sorted(p.name for p in out.iterdir()) == sorted(slurm_cluster.node_names)


def test_run_after_waits_for_an_earlier_experiment(slurm_cluster, slurm_env, slurm_jobs, tmp_path):
    data = tmp_path / "data"
    slow = Job(
        "slow",
        [CommandGroup([Command(CommandScript(name="s", shell=f"sleep 3; mkdir -p {data}; echo x > {data}/a"))])],
    )
    submit(Pipeline("earlier", slurm_env, [slow], str(tmp_path / "logs")), slurm_jobs)
    later = Job(
        "later",
        [CommandGroup([Command(CommandScript(name="l", shell=f"cp {data}/a {data}/b"))])],
        run_after=["earlier"],
    )
    ids = submit(Pipeline("later-exp", slurm_env, [later], str(tmp_path / "logs")), slurm_jobs)
    assert states(slurm_cluster, ids["later"][0]) == ["COMPLETED"]
    assert (data / "b").read_text() == "x\n"


def test_ns_generate_on_slurm_then_resubmit_does_nothing(slurm_cluster, slurm_env, slurm_jobs, tmp_path):
    config = cluster_file(slurm_env, tmp_path)
    input_file = write_input(tmp_path / "in.jsonl", 4)
    out = tmp_path / "out"
    args = [
        "generate",
        "--cluster",
        str(config),
        "--input_file",
        str(input_file),
        "--output_dir",
        str(out),
        "--server_type",
        "generic",
        "--server_entrypoint",
        STUB,
        "--model",
        "stub-model",
        "--server_gpus",
        "0",
        "--server_args",
        "--host 0.0.0.0",
        "--num_random_seeds",
        "2",
        "--expname",
        "slurm-gen",
        "++prompt_config=generic/default",
        "++inference.temperature=0.5",
        "++progress_bar=False",
    ]
    first = run_ns(slurm_cluster, args)
    assert first.returncode == 0, first.stderr[-3000:]
    for job_id in queued_jobs(slurm_cluster, slurm_jobs):
        slurm_cluster.wait_job(job_id, timeout=120)
    for seed in (0, 1):
        assert len((out / f"output-rs{seed}.jsonl").read_text().splitlines()) == 4
    again = run_ns(slurm_cluster, args)
    assert again.returncode == 0 and "nothing to run" in again.stderr
    assert slurm_cluster.run(["squeue", "-h"]).stdout.strip() == ""


def test_ns_generate_with_sandbox_on_slurm_both_services_on_ports_chosen_at_start(
    slurm_cluster, slurm_env, slurm_jobs, tmp_path
):
    """A server and a code sandbox in one Slurm job, each on a port its node chose when the job started: the model
    (a stub that writes a python block) gets the block's output from the sandbox and finishes its answer."""
    config = cluster_file(slurm_env, tmp_path)
    input_file = tmp_path / "in.jsonl"
    input_file.write_text("".join(json.dumps({"problem": f"What is 6 times 7? ({i})"}) + "\n" for i in range(3)))
    out = tmp_path / "out"
    args = [
        "generate",
        f"--cluster={config}",
        f"--input_file={input_file}",
        f"--output_dir={out}",
        "--server_type=generic",
        f"--server_entrypoint={STUB}",
        "--model=stub-model",
        "--server_gpus=0",
        "--server_args=--host 0.0.0.0 --script code",
        "--with_sandbox",
        "--expname=slurm-code",
        "++prompt_config=generic/math",
        "++code_execution=True",
        "++progress_bar=False",
    ]
    result = run_ns(slurm_cluster, args)
    assert result.returncode == 0, result.stderr[-3000:]
    for job_id in queued_jobs(slurm_cluster, slurm_jobs):
        slurm_cluster.wait_job(job_id, timeout=120)
    logs = "".join(path.read_text() for path in (out / "generation-logs").glob("*.log"))
    announced = re.findall(r"\[ports\] (server|sandbox) listens on port (\d+)", logs)
    assert sorted(name for name, _ in announced) == ["sandbox", "server"], logs[-3000:]
    rows = [json.loads(line) for line in (out / "output.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert "```output\n42\n```" in row["generation"] and row["code_rounds_executed"] == 1


def test_start_server_as_a_slurm_job(slurm_cluster, slurm_env, slurm_jobs, tmp_path):
    from nemo_skills.inference.server.wait import wait_for_server

    config = cluster_file(slurm_env, tmp_path)
    port = free_port()
    args = [
        "start_server",
        "--cluster",
        str(config),
        "--server_type",
        "generic",
        "--server_entrypoint",
        STUB,
        "--model",
        "served",
        "--server_gpus",
        "0",
        "--server_port",
        str(port),
        "--server_args",
        "--host 0.0.0.0",
        "--log_file",
        str(tmp_path / "logs" / "server.log"),
        "--expname",
        "srv",
    ]
    result = run_ns(slurm_cluster, args, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"listens on port {port}" in result.stdout
    queued_jobs(slurm_cluster, slurm_jobs)
    wait_for_server(f"http://127.0.0.1:{port}", timeout_s=60)  # every loopback node is 127.0.0.1


def test_ns_eval_on_slurm_runs_seeds_as_jobs_then_the_summary(slurm_cluster, slurm_env, slurm_jobs, tmp_path):
    """`ns eval` on the real Slurm cluster: one job per seed against a running (stub) server, then the summary job
    after both (afterok), writing exact metrics."""
    import yaml

    from nemo_skills.pipeline.common import JobOptions, ServerOptions
    from nemo_skills.pipeline.eval import run_eval
    from nemo_skills.pipeline.eval_plan import EvalPlan
    from tests.stub import run_stub

    data = tmp_path / "data" / "gsm8k"
    data.mkdir(parents=True)
    problems = [("What is 2+3?", "5"), ("What is 4+4?", "8")]
    data.joinpath("test.jsonl").write_text(
        "".join(json.dumps({"id": i, "problem": p, "expected_answer": a}) + "\n" for i, (p, a) in enumerate(problems))
    )
    answers = tmp_path / "answers.json"
    answers.write_text(
        json.dumps(
            [
                {"match": "What is 2+3?", "responses": ["\\boxed{5}", "\\boxed{6}"]},
                {"match": "What is 4+4?", "responses": ["\\boxed{8}", "\\boxed{8}"]},
            ]
        )
    )
    cluster_file = tmp_path / "cluster.yaml"
    cluster_file.write_text(yaml.safe_dump(slurm_env.model_dump(exclude_none=True, exclude_defaults=True)))
    with run_stub("--answers", str(answers)) as stub:
        plan = EvalPlan(
            benchmarks="gsm8k:2",
            output_dir=str(tmp_path / "out"),
            server=ServerOptions(server_type="vllm", model="stub-model", server_address=stub.base_url),
            job=JobOptions(cluster=str(cluster_file), expname="slurm-eval"),
            data_dir=str(tmp_path / "data"),
            overrides=["++inference.temperature=0.7", "++progress_bar=False"],
        )
        experiment = run_eval(plan)
        ids = submitted_job_ids(experiment)
        for job_ids in ids.values():
            slurm_jobs.extend(job_ids)
        assert sorted(ids) == ["slurm-eval-gsm8k-rs0", "slurm-eval-gsm8k-rs1", "slurm-eval-summarize"]
        summary = ids["slurm-eval-summarize"][0]
        log = tmp_path / "out" / "eval-logs" / "slurm-eval-summarize_summarize.log"
        assert set(states(slurm_cluster, summary, timeout=180)) == {"COMPLETED"}, (
            log.read_text() if log.exists() else ""
        )
    metrics = json.loads((tmp_path / "out" / "eval-results" / "metrics.json").read_text())["gsm8k"]
    assert metrics["pass@1[avg-of-2]"]["symbolic_correct"] == pytest.approx(75.0)
    assert metrics["pass@2"]["symbolic_correct"] == pytest.approx(100.0)
    assert "75.00%" in log.read_text()
