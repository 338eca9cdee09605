"""The `ns` command end to end (subprocesses, as users run it)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.stub import run_stub

NS = [sys.executable, "-c", "from nemo_skills.pipeline.cli import main; main()"]


def ns(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*NS, *args], capture_output=True, text=True, timeout=timeout)


def write_input(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"problem": f"question {i}", "id": i}) + "\n" for i in range(count)))
    return path


def test_help_lists_commands_without_heavy_imports():
    code = (
        "import sys; sys.argv = ['ns', '--help']\n"
        "from nemo_skills.pipeline.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('litellm', 'openai', 'aiohttp', 'transformers', 'torch', 'hydra', 'omegaconf', 'rich')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "generate" in result.stdout and "start_server" in result.stdout
    assert "HEAVY []" in result.stdout


def test_unknown_plus_key_fails_fast_with_suggestion(tmp_path):
    started = time.time()
    result = ns(
        "generate",
        "--input_file",
        str(write_input(tmp_path / "in.jsonl", 2)),
        "--output_dir",
        str(tmp_path / "out"),
        "--server_address",
        "http://127.0.0.1:9/v1",
        "++prompt_config=generic/default",
        "++inference.temprature=0.5",
    )
    assert result.returncode == 2
    assert "Unknown key ++inference.temprature" in result.stderr and "inference.temperature" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.time() - started < 10
    assert not (tmp_path / "out").exists()


def test_generate_with_seeds_and_chunks_against_a_running_server(tmp_path):
    input_file = write_input(tmp_path / "in.jsonl", 9)
    out = tmp_path / "out"
    with run_stub() as stub:
        args = [
            "generate",
            "--input_file",
            str(input_file),
            "--output_dir",
            str(out),
            "--server_address",
            stub.base_url,
            "--num_random_seeds",
            "2",
            "--num_chunks",
            "2",
            "++prompt_config=generic/default",
            "++server.model=stub-model",
            "++inference.temperature=0.7",
            "++progress_bar=False",
        ]
        result = ns(*args)
        assert result.returncode == 0, result.stderr
        sent = stub.stats()["completions"]
        again = ns(*args)  # everything is done: nothing is sent
        assert again.returncode == 0 and stub.stats()["completions"] == sent
    assert sent == 18
    for seed in (0, 1):
        rows = [json.loads(line) for line in (out / f"output-rs{seed}.jsonl").read_text().splitlines()]
        assert [row["id"] for row in rows] == list(range(9))
        assert (out / f"output-rs{seed}.jsonl.done").exists()
    assert "nothing to run" in again.stderr


def test_dry_run_prints_the_plan(tmp_path):
    result = ns(
        "generate",
        "--input_file",
        str(write_input(tmp_path / "in.jsonl", 3)),
        "--output_dir",
        str(tmp_path / "out"),
        "--server_type",
        "vllm",
        "--model",
        "/models/m",
        "--server_gpus",
        "0",
        "--random_seeds",
        "0..2",
        "--dry_run",
        "++prompt_config=generic/default",
    )
    assert result.returncode == 0, result.stderr
    assert "1 job(s)" in result.stdout and result.stdout.count("[main] client-rs") == 3
    assert "[service] server: vllm serving /models/m" in result.stdout
    assert "++output_file=" in result.stdout and "output-rs2.jsonl" in result.stdout
    assert "++inference.random_seed=1" in result.stdout


def test_generate_needs_a_server(tmp_path):
    result = ns(
        "generate",
        "--input_file",
        str(write_input(tmp_path / "in.jsonl", 1)),
        "--output_dir",
        str(tmp_path / "out"),
        "++prompt_config=generic/default",
    )
    assert result.returncode == 2 and "--server_address" in result.stderr


def test_bad_script_config_fails_before_a_server_starts(tmp_path):
    started = time.time()
    result = ns(
        "generate",
        "--input_file",
        str(write_input(tmp_path / "in.jsonl", 1)),
        "--output_dir",
        str(tmp_path / "out"),
        "--server_type",
        "vllm",
        "--model",
        "/no/such/model",
        "--server_gpus",
        "0",
        "++prompt_config=generic/maths",
    )
    assert result.returncode == 2
    assert "Unknown prompt config 'generic/maths'" in result.stderr and "generic/math" in result.stderr
    assert time.time() - started < 10


def test_task_output_is_kept_in_generation_logs(tmp_path):
    input_file = write_input(tmp_path / "in.jsonl", 2)
    with run_stub() as stub:
        result = ns(
            "generate",
            "--input_file",
            str(input_file),
            "--output_dir",
            str(tmp_path / "out"),
            "--server_address",
            stub.base_url,
            "++prompt_config=generic/default",
            "++server.model=stub-model",
        )
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "out" / "generation-logs" / "generate_client.log").read_text()
    assert "Wrote" in log and "2 rows" in log


def test_run_cmd_runs_a_command_as_a_job(tmp_path):
    result = ns("run_cmd", "--log_dir", str(tmp_path / "logs"), "--command", "echo hello; python -c 'print(6*7)'")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "logs" / "run_cmd_cmd.log").read_text() == "hello\n42\n"


def test_run_cmd_next_to_a_server_gets_its_url(tmp_path):
    probe = (
        'python -c "import os, json, urllib.request; '
        "print(json.load(urllib.request.urlopen(os.environ['NEMO_SKILLS_SERVER_URL'] + '/models'))['data'][0]['id'])\""
    )
    result = ns(
        "run_cmd",
        "--log_dir",
        str(tmp_path / "logs"),
        "--server_type",
        "generic",
        "--server_entrypoint",
        "nemo_skills.inference.server.stub_openai",
        "--model",
        "served-name",
        "--server_gpus",
        "0",
        "--command",
        probe,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "logs" / "run_cmd_cmd.log").read_text().strip().endswith("served-name")


def test_run_cmd_failure_shows_the_log_tail(tmp_path):
    result = ns("run_cmd", "--log_dir", str(tmp_path / "logs"), "--command", "echo the-reason; exit 4")
    assert result.returncode == 2
    assert "Job run_cmd failed" in result.stderr and "the-reason" in result.stderr


def test_setup_writes_a_config_that_loads(tmp_path):
    from nemo_skills.pipeline.cluster import load_cluster_config

    args = [
        "setup",
        "--name",
        "lb",
        "--executor",
        "slurm",
        "--job_dir",
        "/jobs",
        "--account",
        "acct",
        "--partition",
        "debug",
        "--timeouts",
        "debug=01:00:00",
        "--container",
        "nemo-skills=img:1",
        "--mount",
        "/data:/data",
        "--hf_home",
        "/data/hf",
        "--config_dir",
        str(tmp_path),
    ]
    result = ns(*args)
    assert result.returncode == 0, result.stderr
    cfg = load_cluster_config("lb", str(tmp_path))
    assert (cfg.executor, cfg.job_dir, cfg.account, cfg.timeouts) == ("slurm", "/jobs", "acct", {"debug": "01:00:00"})
    assert cfg.containers == {"nemo-skills": "img:1"} and cfg.resolved_env({})["HF_HOME"] == "/data/hf"
    again = ns(*args)
    assert again.returncode == 2 and "--force" in again.stderr
    invalid = ns("setup", "--name", "bad", "--executor", "slurm", "--config_dir", str(tmp_path))
    assert invalid.returncode == 2 and "ssh_tunnel" in invalid.stderr


def test_generate_with_sandbox_starts_it_next_to_the_clients(tmp_path):
    """The pipeline starts the sandbox as a service; the client finds it through NEMO_SKILLS_SANDBOX_HOST/PORT."""
    from nemo_skills.pipeline.common import JobOptions, ServerOptions
    from nemo_skills.pipeline.generate import GenerationPlan, build_pipeline
    from nemo_skills.pipeline.run import run_pipeline

    input_file = write_input(tmp_path / "in.jsonl", 2)
    with run_stub() as stub:
        plan = GenerationPlan(
            input_file=str(input_file),
            output_dir=str(tmp_path / "out"),
            with_sandbox=True,
            server=ServerOptions(server_address=stub.base_url),
            job=JobOptions(expname="boxed"),
            overrides=["++prompt_config=generic/default", "++server.model=stub-model", "++progress_bar=False"],
        )
        pipeline = build_pipeline(plan, plan.tasks())
        client = pipeline.jobs[0].groups[0].commands[-1].script
        probe = (
            'python -c "import os, json, urllib.request; '
            "env = os.environ; "
            "url = 'http://%s:%s/execute' % (env['NEMO_SKILLS_SANDBOX_HOST'], env['NEMO_SKILLS_SANDBOX_PORT']); "
            "body = json.dumps({'generated_code': 'print(6*7)', 'language': 'python'}).encode(); "
            "request = urllib.request.Request(url, body, {'Content-Type': 'application/json'}); "
            "print('SANDBOX SAYS', json.load(urllib.request.urlopen(request, timeout=60))['stdout'].strip())\""
        )
        client.after.append(probe)
        run_pipeline(pipeline)
    log = (tmp_path / "out" / "generation-logs" / "boxed_client.log").read_text()
    assert "SANDBOX SAYS 42" in log
    assert (tmp_path / "out" / "output.jsonl.done").exists()
