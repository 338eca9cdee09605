"""The declarative job model: validation, rendering, references between scripts, and the service lifecycle."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline.cluster import ClusterConfig
from nemo_skills.pipeline.declarative import (
    Command,
    CommandGroup,
    Job,
    Pipeline,
    het_host_exports,
    wrap_main,
    wrap_service,
)
from nemo_skills.pipeline.scripts import CommandScript, GenerationClientScript, ServerScript

NONE = ClusterConfig(executor="none")
SLURM = ClusterConfig(
    executor="slurm",
    job_dir="/jobs",
    mounts=["/jobs:/jobs"],
    containers={"vllm": "vllm/vllm-openai:v0.11.0", "nemo-skills": "nemo-skills:latest"},
)


def server_and_client(gpus: int = 0):
    server = ServerScript(name="server", server_type="vllm", model="/models/m", port=5123, gpus=gpus)
    client = GenerationClientScript(name="client", server=server, overrides=["++input_file=/data/in.jsonl"])
    return server, client


def test_single_group_client_reaches_server_on_localhost(tmp_path):
    server, client = server_and_client()
    job = Job("gen", [CommandGroup([Command(server), Command(client)])])
    rendered = Pipeline("p", NONE, [job], str(tmp_path)).render()[0]
    client_cmd = rendered.groups[0][1].command
    assert "++server.base_url=http://127.0.0.1:5123/v1" in client_cmd
    assert "++server_wait_timeout_s=600.0" in client_cmd
    assert rendered.groups[0][0].service and not rendered.groups[0][1].service
    assert "vllm.entrypoints.openai.api_server" in rendered.groups[0][0].command


def test_het_job_client_uses_the_het_group_host():
    server, client = server_and_client(gpus=8)
    job = Job("gen", [CommandGroup([Command(server, gpus=8)]), CommandGroup([Command(client)])])
    rendered = Pipeline("p", SLURM, [job], "/jobs/logs").render()[0]
    client_cmd = rendered.groups[1][0].command
    # the port is the one the server's node finds free when the job starts, published in the job's sync folder
    assert '++server.base_url=http://"${NEMO_SKILLS_HET_HOST_0}":"${NEMO_SKILLS_PORT_0}"/v1' in client_cmd
    assert client_cmd.startswith(het_host_exports(2))
    assert "NEMO_SKILLS_PORT_0=$(cat" in client_cmd and ".claim" not in client_cmd
    server_cmd = rendered.groups[0][0].command
    assert '--port "${NEMO_SKILLS_PORT_0}"' in server_cmd
    assert "socket.socket()" in server_cmd and ".claim" in server_cmd
    assert rendered.groups[0][0].image == "vllm/vllm-openai:v0.11.0"
    assert rendered.groups[1][0].image == "nemo-skills:latest"


def test_a_port_the_user_chose_is_used_as_is_on_slurm():
    server, client = server_and_client(gpus=8)
    server.port_fixed = True
    job = Job("gen", [CommandGroup([Command(server, gpus=8)]), CommandGroup([Command(client)])])
    rendered = Pipeline("p", SLURM, [job], "/jobs/logs").render()[0]
    assert '++server.base_url=http://"${NEMO_SKILLS_HET_HOST_0}":5123/v1' in rendered.groups[1][0].command
    assert "NEMO_SKILLS_PORT" not in rendered.groups[0][0].command + rendered.groups[1][0].command


def test_runtime_port_is_claimed_once_and_read_by_every_task(tmp_path):
    """The rendered claim and wait steps, run by bash: a second claimer does not choose again, every task reads
    the same port, and the port is free to bind; a wait for a service that never starts fails naming it."""
    from nemo_skills.pipeline.ports import await_port_step, claim_port_step

    sync = str(tmp_path / "sync")
    steps = [claim_port_step(0, "server", sync, sys.executable), await_port_step(0, "server", sync, 30)]
    script = "; ".join([*steps, 'echo "port=$NEMO_SKILLS_PORT_0"'])
    env = {"PATH": "/usr/bin:/bin", "SLURMD_NODENAME": "node1", "SLURM_STEP_NODELIST": "node1"}
    first = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=True)
    again = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=True)
    reader = subprocess.run(
        ["bash", "-c", "; ".join([steps[1], 'echo "port=$NEMO_SKILLS_PORT_0"'])],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    port = int(first.stdout.split("port=")[1])
    assert again.stdout == reader.stdout == first.stdout
    assert "listens on port" in first.stderr and "listens on port" not in again.stderr
    import socket

    with socket.socket() as sock:
        sock.bind(("", port))
    requeued = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env={**env, "SLURM_RESTART_COUNT": "1"}, check=True
    )
    assert "listens on port" in requeued.stderr  # a requeued job chooses again
    missing = subprocess.run(["bash", "-c", await_port_step(1, "sandbox", sync, 1)], capture_output=True, text=True)
    assert missing.returncode == 1 and "no port for sandbox after 1 s" in missing.stderr


def test_validation_errors():
    server, client = server_and_client()
    with pytest.raises(ConfigError, match="only services"):
        Pipeline("p", NONE, [Job("j", [CommandGroup([Command(server)])])], "/tmp").validate()
    with pytest.raises(ConfigError, match="several nodes"):
        Pipeline("p", NONE, [Job("j", [CommandGroup([Command(client, nodes=2)])])], "/tmp").validate()
    first = Job("a", [CommandGroup([Command(CommandScript(name="x", argv=["true"]))])])
    second = Job("b", [CommandGroup([Command(CommandScript(name="y", argv=["true"]))])], dependencies=[first])
    with pytest.raises(ConfigError, match="earlier job"):
        Pipeline("p", NONE, [second, first], "/tmp").validate()
    with pytest.raises(ConfigError, match="two jobs named"):
        Pipeline("p", NONE, [first, first], "/tmp").validate()
    lone = GenerationClientScript(name="client", server=ServerScript(name="s", server_type="vllm", model="m", port=1))
    with pytest.raises(ConfigError, match="not part of it"):
        Pipeline("p", NONE, [Job("j", [CommandGroup([Command(lone)])])], "/tmp").render()


def test_plan_text_lists_jobs_dependencies_and_commands(tmp_path):
    server, client = server_and_client()
    first = Job("gen", [CommandGroup([Command(server), Command(client)])])
    second = Job(
        "merge",
        [CommandGroup([Command(CommandScript(name="m", argv=["echo", "a b"]))])],
        dependencies=[first],
        run_after=["old-exp"],
    )
    text = Pipeline("p", NONE, [first, second], str(tmp_path)).plan_text()
    assert "2 job(s)" in text and "job merge (after gen, experiment old-exp)" in text
    assert "[service] server: vllm serving /models/m" in text and "$ echo 'a b'" in text


def run_bash(command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout)


def test_service_stops_when_the_main_command_is_done(tmp_path):
    sync = str(tmp_path / "sync")
    service = subprocess.Popen(["bash", "-c", wrap_service(f"{sys.executable} -m http.server 0", "srv", sync, 1)])
    time.sleep(0.5)
    main = run_bash(wrap_main("sleep 0.5; echo done", "client", sync))
    assert main.returncode == 0 and main.stdout.strip() == "done"
    assert service.wait(timeout=30) == 0
    assert (tmp_path / "sync" / "client.exit").read_text().strip() == "0"


def test_failing_main_keeps_its_code_and_still_stops_services(tmp_path):
    sync = str(tmp_path / "sync")
    service = subprocess.Popen(["bash", "-c", wrap_service("sleep 600", "srv", sync, 1)])
    assert run_bash(wrap_main("exit 3", "client", sync)).returncode == 3
    assert service.wait(timeout=30) == 0


def test_service_that_dies_early_fails_loudly(tmp_path):
    result = run_bash(wrap_service("echo starting; exit 0", "srv", str(tmp_path / "sync"), 1))
    assert result.returncode == 1
    assert "service srv exited (code 0) before the main commands finished" in result.stderr
    result = run_bash(wrap_service("exit 7", "srv", str(tmp_path / "sync2"), 1))
    assert result.returncode == 7
