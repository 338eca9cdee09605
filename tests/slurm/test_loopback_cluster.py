"""The loopback Slurm cluster behaves like a real multi-node cluster: batch jobs, het jobs, dependencies, srun.

Every wait is bounded (``LoopbackCluster.wait_job``) and every submitted job is cancelled after its test
(``slurm_jobs``), whatever the outcome.
"""

from __future__ import annotations

import socket
import sys
import time
import uuid
from pathlib import Path

import pytest
from loopback_cluster import LoopbackCluster, add_hosts_entry, free_ports, remove_hosts_entry

pytestmark = pytest.mark.slurm

JOB_TIMEOUT_S = 60.0


def _script(path: Path, body: str, directives: str = "") -> Path:
    path.write_text(f"#!/bin/bash\n{directives.strip()}\nset -euo pipefail\n{body.strip()}\n")
    return path


def _assert_completed(info: list[dict[str, str]], out: Path) -> None:
    log = out.read_text() if out.exists() else "<no output file>"
    for component in info:
        assert component["JobState"] == "COMPLETED", f"{component.get('JobId')}: {component} \n{log}"
        assert component["ExitCode"] == "0:0", log


def test_cluster_has_idle_nodes(slurm_cluster: LoopbackCluster) -> None:
    out = slurm_cluster.run(["sinfo", "-h", "-N", "-o", "%N %P %T"]).stdout.split("\n")
    rows = sorted(line.split() for line in out if line.strip())
    assert rows == [[name, f"{slurm_cluster.partition}*", "idle"] for name in slurm_cluster.node_names]
    assert len(set(slurm_cluster.node_ports.values()) | {slurm_cluster.slurmctld_port}) == 3


def test_plain_batch_job_writes_file(slurm_cluster: LoopbackCluster, slurm_jobs: list[str], tmp_path: Path) -> None:
    result = tmp_path / "result.txt"
    out = tmp_path / "job.out"
    script = _script(tmp_path / "job.sh", f'echo "hello from $SLURMD_NODENAME job $SLURM_JOB_ID" > {result}')
    job = slurm_cluster.sbatch(script, f"--output={out}", "--job-name=plain")
    slurm_jobs.append(job)
    _assert_completed(slurm_cluster.wait_job(job, timeout=JOB_TIMEOUT_S), out)
    text = result.read_text().split()
    assert text[:2] == ["hello", "from"] and text[2] in slurm_cluster.node_names and text[-1] == job


def test_het_job_components_on_two_nodes_can_talk(
    slurm_cluster: LoopbackCluster, slurm_jobs: list[str], tmp_path: Path
) -> None:
    """Component 0 serves HTTP; component 1 (another node) reaches it through het group 0's host name or address.

    Node names (node1, node2) do not resolve here (not in /etc/hosts); their NodeAddr (127.0.0.1) does. The job
    records which one it had to use, and the test checks that the choice matches this machine's name resolution.
    """
    token = uuid.uuid4().hex
    serve_dir = tmp_path / "www"
    serve_dir.mkdir()
    (serve_dir / "token.txt").write_text(token)
    got = tmp_path / "got.txt"
    out = tmp_path / "het.out"
    (port,) = free_ports(1)
    client = (
        "import sys, time, urllib.request\n"
        "url = sys.argv[1]\n"
        "deadline = time.monotonic() + 30\n"
        "while True:\n"
        "    try:\n"
        "        print(urllib.request.urlopen(url, timeout=2).read().decode()); break\n"
        "    except OSError:\n"
        "        if time.monotonic() > deadline: raise\n"
        "        time.sleep(0.2)\n"
    )
    (tmp_path / "client.py").write_text(client)
    directives = "#SBATCH --nodes=1 --ntasks=1\n#SBATCH hetjob\n#SBATCH --nodes=1 --ntasks=1"
    body = f"""
echo "GROUP0=$SLURM_JOB_NODELIST_HET_GROUP_0"
echo "GROUP1=$SLURM_JOB_NODELIST_HET_GROUP_1"
host0=$(scontrol show hostnames "$SLURM_JOB_NODELIST_HET_GROUP_0" | head -n 1)
if getent hosts "$host0" > /dev/null; then
  addr0=$host0; echo "RESOLVES=yes"
else
  addr0=$(scontrol show node "$host0" | sed -n 's/.*NodeAddr=\\([^ ]*\\).*/\\1/p'); echo "RESOLVES=no"
fi
echo "ADDR0=$addr0"
srun --het-group=0 timeout 60 {sys.executable} -m http.server {port} --bind 0.0.0.0 --directory {serve_dir} &
server=$!
srun --het-group=1 bash -c 'echo "CLIENT_NODE=$SLURMD_NODENAME"; \
  {sys.executable} {tmp_path / "client.py"} http://'"$addr0"':{port}/token.txt > {got}'
kill "$server" || true
wait || true
"""
    script = _script(tmp_path / "het.sh", body, directives)
    submitted = time.monotonic()
    job = slurm_cluster.sbatch(script, f"--output={out}", "--job-name=het")
    slurm_jobs.append(job)
    running = slurm_cluster.wait_job(job, states={"RUNNING", "COMPLETED"}, timeout=JOB_TIMEOUT_S)
    print(f"het job {job}: both components started {time.monotonic() - submitted:.1f} s after sbatch")
    assert len(running) == 2
    info = slurm_cluster.wait_job(job, timeout=JOB_TIMEOUT_S)
    _assert_completed(info, out)

    lines = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line and line[0].isupper())
    assert lines["GROUP0"] != lines["GROUP1"], lines
    assert {lines["GROUP0"], lines["GROUP1"]} == set(slurm_cluster.node_names)
    assert lines["CLIENT_NODE"] == lines["GROUP1"]
    assert {c["NodeList"] for c in info} == set(slurm_cluster.node_names)
    try:
        socket.getaddrinfo(lines["GROUP0"], port)
        resolves = "yes"
    except socket.gaierror:
        resolves = "no"
    assert lines["RESOLVES"] == resolves
    assert lines["ADDR0"] == (lines["GROUP0"] if resolves == "yes" else "127.0.0.1")
    assert got.read_text().strip() == token


def test_afterok_dependency_chain(slurm_cluster: LoopbackCluster, slurm_jobs: list[str], tmp_path: Path) -> None:
    first_out, second_out = tmp_path / "first.txt", tmp_path / "second.txt"
    first = slurm_cluster.sbatch(
        _script(tmp_path / "first.sh", f"sleep 2\necho 21 > {first_out}"), f"--output={tmp_path / 'first.log'}"
    )
    slurm_jobs.append(first)
    second = slurm_cluster.sbatch(
        _script(tmp_path / "second.sh", f"echo $(( $(cat {first_out}) * 2 )) > {second_out}"),
        f"--dependency=afterok:{first}",
        f"--output={tmp_path / 'second.log'}",
    )
    slurm_jobs.append(second)
    pending = slurm_cluster.job_info(second)
    assert pending and pending[0]["JobState"] == "PENDING", pending
    _assert_completed(slurm_cluster.wait_job(second, timeout=JOB_TIMEOUT_S), tmp_path / "second.log")
    assert second_out.read_text().strip() == "42"
    assert slurm_cluster.job_info(first)[0]["JobState"] == "COMPLETED"


def test_failed_parent_leaves_afterok_child_pending(
    slurm_cluster: LoopbackCluster, slurm_jobs: list[str], tmp_path: Path
) -> None:
    """No kill_invalid_depend: the child stays PENDING with DependencyNeverSatisfied until someone cancels it."""
    parent = slurm_cluster.sbatch(_script(tmp_path / "fail.sh", "exit 3"), f"--output={tmp_path / 'fail.log'}")
    slurm_jobs.append(parent)
    child = slurm_cluster.sbatch(
        _script(tmp_path / "child.sh", f"touch {tmp_path / 'child-ran'}"),
        f"--dependency=afterok:{parent}",
        f"--output={tmp_path / 'child.log'}",
    )
    slurm_jobs.append(child)
    (failed,) = slurm_cluster.wait_job(parent, timeout=JOB_TIMEOUT_S)
    assert failed["JobState"] == "FAILED" and failed["ExitCode"] == "3:0", failed
    slurm_cluster.wait_job(child, states={"PENDING"}, reason="DependencyNeverSatisfied", timeout=JOB_TIMEOUT_S)
    slurm_cluster.cancel(child)
    (cancelled,) = slurm_cluster.wait_job(child, timeout=JOB_TIMEOUT_S)
    assert cancelled["JobState"] == "CANCELLED"
    assert not (tmp_path / "child-ran").exists()


def test_two_node_job_runs_one_task_per_node(
    slurm_cluster: LoopbackCluster, slurm_jobs: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "two.out"
    script = _script(
        tmp_path / "two.sh",
        "srun bash -c 'echo TASK $SLURM_PROCID $SLURMD_NODENAME'",
        "#SBATCH --nodes=2 --ntasks-per-node=1",
    )
    job = slurm_cluster.sbatch(script, f"--output={out}")
    slurm_jobs.append(job)
    _assert_completed(slurm_cluster.wait_job(job, timeout=JOB_TIMEOUT_S), out)
    tasks = sorted(line.split()[1:] for line in out.read_text().splitlines() if line.startswith("TASK "))
    assert [t[0] for t in tasks] == ["0", "1"], out.read_text()
    assert {t[1] for t in tasks} == set(slurm_cluster.node_names)


def test_hosts_entry_round_trip(tmp_path: Path) -> None:
    """The opt-in /etc/hosts line (etc_hosts=True) is appended once and removed exactly, on a scratch file."""
    hosts = tmp_path / "hosts"
    original = "127.0.0.1 localhost\n::1 localhost ip6-localhost"  # no trailing newline
    hosts.write_text(original)
    marker = "# nemo-skills loopback slurm /tmp/x"
    add_hosts_entry(["node1", "node2"], marker, hosts)
    add_hosts_entry(["node1", "node2"], marker, hosts)
    assert hosts.read_text() == original + "\n127.0.0.1 node1 node2 " + marker + "\n"
    assert remove_hosts_entry(marker, hosts)
    assert not remove_hosts_entry(marker, hosts)
    assert hosts.read_text() == original + "\n"
