"""A real multi-node Slurm cluster on one machine (loopback), for tests and CI.

Every "node" is one ``slurmd -D -N nodeK`` process on this host (``NodeAddr=127.0.0.1``, a distinct ``Port=`` each);
one ``slurmctld -D`` and a private ``munged`` (own key and socket inside the cluster directory) complete it. All state,
spool, log and pid files live in the cluster directory, so several clusters can coexist and nothing under /etc is
touched (unless ``--etc-hosts``, below). Client commands (sbatch, srun, squeue, scontrol, scancel, sinfo) target the
cluster through ``SLURM_CONF``: use ``cluster.env`` (or ``cluster.client_env()``).

Install the binaries with ``tests/slurm/install.sh`` (Debian ``slurm-wlm`` 22.05 + ``munge``).

CLI::

    python tests/slurm/loopback_cluster.py start --dir DIR [--nodes 2] [--bf-interval 5] [--etc-hosts]
    eval "$(python tests/slurm/loopback_cluster.py env --dir DIR)"   # export SLURM_CONF=...
    python tests/slurm/loopback_cluster.py status --dir DIR
    python tests/slurm/loopback_cluster.py stop --dir DIR

Design decisions (measured on Debian 12 / Slurm 22.05, see shared/ENVIRONMENT.md "Slurm on loopback"):

* At least two nodes: a heterogeneous job never starts on a single node (its second component waits for the first).
* ``SchedulerParameters=bf_hetjob_immediate,bf_interval=5``: het jobs start in ~2 s instead of ~25 s. A backfill pass
  starts them, so bf_interval bounds their latency: 0.7-4.6 s measured with 5, 0.6-1.0 s with ``bf_interval=1``
  (a start_cluster argument, ``--bf-interval``).
* ``kill_invalid_depend`` is deliberately NOT set: a job whose ``afterok`` parent failed stays PENDING with reason
  ``DependencyNeverSatisfied``, as on most production clusters; the code under test must cope with that (cancel it).
* ``SlurmdParameters=config_overrides``: the nodes share the host's hardware; slurmd must trust slurm.conf.
* ``MinJobAge=600``: finished jobs stay visible to ``scontrol show job`` (exit code, state) for 10 minutes, since
  there is no accounting database (``sacct`` is not available).
* Node names (``node1``...) do not resolve by default (they are not in /etc/hosts); a job that needs the address of
  another node uses its ``NodeAddr`` (``scontrol show node NAME``), which is 127.0.0.1. ``hostname`` inside a job gives
  this machine's host name. ``--etc-hosts`` / ``etc_hosts=True`` adds a marked ``127.0.0.1 node1 node2`` line to
  /etc/hosts (removed on stop), so that code which connects to ``$het_group_host_0`` works unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

CLUSTER_JSON = "cluster.json"
PARTITION = "debug"
REQUIRED_BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scontrol", "scancel", "sinfo")
INSTALL_HINT = "run tests/slurm/install.sh (apt-installs slurmctld, slurmd, slurm-client and munge)"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
TERMINAL_STATES = frozenset(
    {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"}
)
HOSTS_FILE = Path("/etc/hosts")
# AF_UNIX socket paths are limited to 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 100


class SlurmNotInstalledError(RuntimeError):
    """The Slurm or munge binaries are missing."""


class ClusterStartError(RuntimeError):
    """The cluster did not come up; the message carries the tails of the daemon logs."""


@dataclass
class LoopbackCluster:
    base_dir: Path
    slurm_conf: Path
    cluster_name: str
    partition: str
    hostname: str
    node_names: list[str]
    cpus_per_node: int
    real_memory_mb: int
    slurmctld_port: int
    node_ports: dict[str, int]
    munge_socket: Path
    log_dir: Path
    # "munged", "slurmctld", "slurmd:node1", ... -> pid
    pids: dict[str, int] = field(default_factory=dict)
    # settings a client needs (SLURM_CONF); merge into os.environ, or use client_env()
    env: dict[str, str] = field(default_factory=dict)
    start_seconds: float = 0.0
    # backfill scheduler period (s): het jobs start on a backfill pass, so it bounds their start latency
    bf_interval: int = 5
    # the comment that marks the line start_cluster(etc_hosts=True) appended to /etc/hosts ("" if none)
    hosts_marker: str = ""

    def client_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """os.environ without inherited SLURM_* job variables, plus this cluster's settings."""
        merged = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
        merged.update(self.env)
        if extra:
            merged.update(extra)
        return merged

    def run(self, args: Sequence[str], check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run a Slurm client command against this cluster."""
        return subprocess.run(
            list(args), env=self.client_env(), capture_output=True, text=True, check=check, timeout=timeout
        )

    # ---- small client helpers for tests (every wait is bounded)

    def sbatch(self, script: Path | str, *args: str) -> str:
        """Submit ``script`` (a path) with extra sbatch ``args``; return the job id (a het job's leader id)."""
        proc = self.run(["sbatch", "--parsable", *args, str(script)])
        return proc.stdout.strip().split(";")[0]

    def job_info(self, job_id: str) -> list[dict[str, str]]:
        """``scontrol -o show job``: one dict per (het) component; [] once slurmctld has forgotten the job."""
        proc = self.run(["scontrol", "-o", "show", "job", job_id], check=False)
        if proc.returncode != 0:
            return []
        return [dict(re.findall(r"(\S+?)=(\S*)", line)) for line in proc.stdout.splitlines() if line.strip()]

    def wait_job(
        self,
        job_id: str,
        states: Iterable[str] = TERMINAL_STATES,
        reason: str | None = None,
        timeout: float = 60.0,
        poll: float = 0.25,
    ) -> list[dict[str, str]]:
        """Poll until every component of ``job_id`` is in one of ``states`` (and has ``reason``, if given)."""
        wanted = frozenset(states)
        deadline = time.monotonic() + timeout
        info: list[dict[str, str]] = []
        while time.monotonic() < deadline:
            info = self.job_info(job_id)
            if info and all(
                c.get("JobState") in wanted and (reason is None or c.get("Reason") == reason) for c in info
            ):
                return info
            time.sleep(poll)
        seen = [(c.get("JobId"), c.get("JobState"), c.get("Reason")) for c in info]
        raise TimeoutError(
            f"job {job_id} not in {sorted(wanted)}"
            + (f" with reason {reason}" if reason else "")
            + f" after {timeout:.0f} s; last seen {seen}\n{self.log_tails(10)}"
        )

    def cancel(self, *job_ids: str) -> None:
        if job_ids:
            self.run(["scancel", *job_ids], check=False)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("base_dir", "slurm_conf", "munge_socket", "log_dir"):
            data[key] = str(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> LoopbackCluster:
        kwargs = dict(data)
        for key in ("base_dir", "slurm_conf", "munge_socket", "log_dir"):
            kwargs[key] = Path(str(kwargs[key]))
        return cls(**kwargs)  # type: ignore[arg-type]

    def save(self) -> None:
        tmp = self.base_dir / (CLUSTER_JSON + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        tmp.replace(self.base_dir / CLUSTER_JSON)

    @classmethod
    def load(cls, base_dir: Path) -> LoopbackCluster:
        return cls.from_json(json.loads((Path(base_dir) / CLUSTER_JSON).read_text()))

    def log_tails(self, lines: int = 25) -> str:
        parts = []
        # the daemons run in the foreground: their *.out.log (stdout+stderr) has everything, early errors included
        for log in sorted(self.log_dir.glob("*.out.log")):
            parts.append(f"--- {log} (last {lines} lines) ---\n{_tail(log, lines)}")
        return "\n".join(parts)


# ----------------------------------------------------------------------------------------------- helpers


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def missing_binaries() -> list[str]:
    return [name for name in REQUIRED_BINARIES if find_binary(name) is None]


def require_binaries() -> dict[str, str]:
    missing = missing_binaries()
    if missing:
        raise SlurmNotInstalledError(f"Slurm/munge binaries not found: {', '.join(missing)}; {INSTALL_HINT}")
    return {name: str(find_binary(name)) for name in REQUIRED_BINARIES}


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1 (all sockets are held open until every port is chosen)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"<unreadable: {exc}>"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours still "exists"; treat it as dead
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _proc_table() -> dict[int, tuple[str, int]]:
    """pid -> (comm, ppid) for every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        table[int(entry.name)] = (comm, int(stat.rsplit(")", 1)[1].split()[1]))
    return table


def _stray_steps(cluster: LoopbackCluster) -> list[int]:
    """slurmstepd processes of this cluster (they setsid and outlive slurmd) and all their descendants.

    A slurmstepd is recognised by an open file under the cluster directory (its node's slurmd log)."""
    table = _proc_table()
    prefix = str(cluster.base_dir) + os.sep
    roots = []
    for pid, (comm, _) in table.items():
        if comm != "slurmstepd":
            continue
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd).startswith(prefix):
                        roots.append(pid)
                        break
    children: dict[int, list[int]] = {}
    for pid, (_, ppid) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _terminate(pids: Iterable[int], timeout: float = STOP_TIMEOUT_S) -> list[int]:
    """SIGTERM, wait up to ``timeout``, then SIGKILL. Returns the pids that had to be killed."""
    alive = [pid for pid in pids if _pid_alive(pid)]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive and time.monotonic() < deadline:
        for pid in alive:  # reap our own children so that they do not linger as zombies
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        alive = [pid for pid in alive if _pid_alive(pid)]
        if alive:
            time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in alive:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
    return alive


def _spawn(args: list[str], log_file: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a daemon in the foreground, in its own session (a Ctrl-C meant for the caller does not reach it)."""
    with open(log_file, "ab") as out:
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _wait_for(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    cluster: LoopbackCluster,
    procs: dict[str, subprocess.Popen[bytes]],
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        for name, proc in procs.items():
            code = proc.poll()
            if code is not None:
                raise ClusterStartError(f"{name} exited with {code} while waiting for {what}\n{cluster.log_tails()}")
        if time.monotonic() > deadline:
            raise ClusterStartError(f"timed out after {timeout:.0f} s waiting for {what}\n{cluster.log_tails()}")
        time.sleep(0.2)


def add_hosts_entry(names: Sequence[str], marker: str, hosts_file: Path = HOSTS_FILE) -> None:
    """Append ``127.0.0.1 <names> <marker>`` to the hosts file (in place: /etc/hosts is often a bind mount)."""
    text = hosts_file.read_text()
    if any(line.endswith(marker) for line in text.splitlines()):
        return
    with open(hosts_file, "a") as fh:
        fh.write(("\n" if text and not text.endswith("\n") else "") + f"127.0.0.1 {' '.join(names)} {marker}\n")


def remove_hosts_entry(marker: str, hosts_file: Path = HOSTS_FILE) -> bool:
    """Remove the lines that end with ``marker``; True if something was removed."""
    lines = hosts_file.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.rstrip("\n").endswith(marker)]
    if len(kept) == len(lines):
        return False
    with open(hosts_file, "w") as fh:
        fh.write("".join(kept))
    return True


def render_slurm_conf(cluster: LoopbackCluster, user: str) -> str:
    d = cluster.base_dir
    nodes = ",".join(cluster.node_names)
    node_lines = "\n".join(
        f"NodeName={name} NodeHostname={cluster.hostname} NodeAddr=127.0.0.1 Port={cluster.node_ports[name]} "
        f"CPUs={cluster.cpus_per_node} RealMemory={cluster.real_memory_mb} State=UNKNOWN"
        for name in cluster.node_names
    )
    def_mem = max(1, cluster.real_memory_mb // cluster.cpus_per_node)
    return f"""# Generated by tests/slurm/loopback_cluster.py -- a loopback test cluster; do not edit.
ClusterName={cluster.cluster_name}
SlurmctldHost={cluster.hostname}(127.0.0.1)
SlurmctldPort={cluster.slurmctld_port}
SlurmdPort={cluster.node_ports[cluster.node_names[0]]}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={cluster.munge_socket}
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU={def_mem}
SchedulerType=sched/backfill
# no kill_invalid_depend: a failed afterok parent leaves the child PENDING (DependencyNeverSatisfied)
SchedulerParameters=bf_hetjob_immediate,bf_interval={cluster.bf_interval}
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
Waittime=0
SlurmctldTimeout=60
SlurmdTimeout=300
MailProg=/bin/true
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool/%n
SlurmctldPidFile={d}/run/slurmctld.pid
SlurmdPidFile={d}/run/slurmd-%n.pid
SlurmctldLogFile={cluster.log_dir}/slurmctld.log
SlurmdLogFile={cluster.log_dir}/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
{node_lines}
PartitionName={cluster.partition} Nodes={nodes} Default=YES MaxTime=INFINITE State=UP
"""


# proctrack/linuxproc + task/none use no cgroups; this file only keeps slurmd from probing the host's cgroup setup.
CGROUP_CONF = """# Generated by tests/slurm/loopback_cluster.py
CgroupPlugin=autodetect
IgnoreSystemd=yes
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
"""


def _world_traversable(path: Path) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def _munge_socket_path(base_dir: Path) -> Path:
    """munged insists that everyone can traverse to its socket, and AF_UNIX paths are short: when ``base_dir`` does
    not allow either (pytest's tmp dirs are 0700), the socket goes to a private 0755 dir under the system temp dir."""
    candidate = base_dir / "munge" / "munge.socket"
    if len(str(candidate)) <= MAX_SOCKET_PATH and _world_traversable(base_dir):
        return candidate
    short = Path(tempfile.mkdtemp(prefix="ns-munge-"))
    short.chmod(0o755)
    return short / "munge.socket"


def _node_states(cluster: LoopbackCluster) -> dict[str, str]:
    try:
        proc = cluster.run(["sinfo", "-h", "-N", "-o", "%N %T"], check=False, timeout=10)
    except subprocess.TimeoutExpired:
        return {}
    states = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            states[parts[0]] = parts[1]
    return states


def _ctld_up(cluster: LoopbackCluster) -> bool:
    try:
        proc = cluster.run(["scontrol", "ping"], check=False, timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0 and "UP" in proc.stdout


# ----------------------------------------------------------------------------------------------- API


def start_cluster(
    base_dir: Path,
    num_nodes: int = 2,
    cpus_per_node: int = 1,
    real_memory_mb: int = 1024,
    timeout: float = START_TIMEOUT_S,
    etc_hosts: bool = False,
    bf_interval: int = 5,
) -> LoopbackCluster:
    """Start munged, slurmctld and ``num_nodes`` slurmd in ``base_dir``; return once every node is idle.

    Daemons a previous start left in the same directory are stopped first (by the pids it recorded).
    ``etc_hosts=True`` makes the node names resolve (to 127.0.0.1), as on a real cluster, by appending one marked
    line to /etc/hosts (needs write access); ``stop_cluster`` removes it. Off by default: it changes the machine.
    """
    if num_nodes < 1 or cpus_per_node < 1:
        raise ValueError("num_nodes and cpus_per_node must be >= 1")
    binaries = require_binaries()
    started = time.monotonic()
    base_dir = Path(base_dir).resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    stop_stale(base_dir)

    for sub in ("state", "spool", "run", "log", "munge"):
        shutil.rmtree(base_dir / sub, ignore_errors=True)
        (base_dir / sub).mkdir(mode=0o755 if sub == "munge" else 0o700)
    node_names = [f"node{k}" for k in range(1, num_nodes + 1)]
    for name in node_names:
        (base_dir / "spool" / name).mkdir(mode=0o700)
    ports = free_ports(num_nodes + 1)
    cluster = LoopbackCluster(
        base_dir=base_dir,
        slurm_conf=base_dir / "slurm.conf",
        cluster_name="nsloopback",
        partition=PARTITION,
        hostname=socket.gethostname(),
        node_names=node_names,
        cpus_per_node=cpus_per_node,
        real_memory_mb=real_memory_mb,
        slurmctld_port=ports[0],
        node_ports=dict(zip(node_names, ports[1:], strict=True)),
        munge_socket=_munge_socket_path(base_dir),
        log_dir=base_dir / "log",
        bf_interval=bf_interval,
    )
    cluster.env = {"SLURM_CONF": str(cluster.slurm_conf)}
    cluster.slurm_conf.write_text(render_slurm_conf(cluster, getpass.getuser()))
    (base_dir / "cgroup.conf").write_text(CGROUP_CONF)
    cluster.save()

    daemon_env = cluster.client_env()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        if etc_hosts:
            marker = f"# nemo-skills loopback slurm {base_dir}"
            try:
                add_hosts_entry(node_names, marker)
            except OSError as exc:
                raise ClusterStartError(f"etc_hosts=True but {HOSTS_FILE} is not writable: {exc}") from exc
            cluster.hosts_marker = marker
            cluster.save()
        # munge: a private key and socket, so the system munged (if any) is neither needed nor disturbed
        key = base_dir / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        munged = _spawn(
            [
                binaries["munged"],
                "--foreground",
                f"--socket={cluster.munge_socket}",
                f"--key-file={key}",
                f"--pid-file={base_dir / 'run' / 'munged.pid'}",
                f"--seed-file={base_dir / 'munge' / 'munged.seed'}",
            ],
            cluster.log_dir / "munged.out.log",
            daemon_env,
        )
        procs["munged"] = munged
        cluster.pids["munged"] = munged.pid
        cluster.save()
        _wait_for(cluster.munge_socket.exists, timeout, "the munge socket", cluster, procs)

        ctld = _spawn(
            [binaries["slurmctld"], "-D", "-i", "-f", str(cluster.slurm_conf)],
            cluster.log_dir / "slurmctld.out.log",
            daemon_env,
        )
        procs["slurmctld"] = ctld
        cluster.pids["slurmctld"] = ctld.pid
        cluster.save()
        _wait_for(lambda: _ctld_up(cluster), timeout, "slurmctld (scontrol ping)", cluster, procs)

        for name in node_names:
            slurmd = _spawn(
                [binaries["slurmd"], "-D", "-N", name, "-f", str(cluster.slurm_conf)],
                cluster.log_dir / f"slurmd-{name}.out.log",
                daemon_env,
            )
            procs[f"slurmd:{name}"] = slurmd
            cluster.pids[f"slurmd:{name}"] = slurmd.pid
        cluster.save()

        def all_idle() -> bool:
            states = _node_states(cluster)
            return all(states.get(name) == "idle" for name in node_names)  # "idle*" = not responding

        _wait_for(all_idle, timeout, f"nodes {','.join(node_names)} to be idle (sinfo)", cluster, procs)
    except BaseException:
        stop_cluster(cluster)
        raise
    cluster.start_seconds = round(time.monotonic() - started, 2)
    cluster.save()
    return cluster


def stop_cluster(cluster: LoopbackCluster, cancel_jobs: bool = True, timeout: float = STOP_TIMEOUT_S) -> None:
    """Cancel the cluster's jobs, then stop its daemons (and what they left behind) by pid."""
    ours = {key: pid for key, pid in cluster.pids.items() if _owned(pid, cluster)}
    ctld_pid = ours.get("slurmctld")
    if cancel_jobs and ctld_pid and _pid_alive(ctld_pid):
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.run(["scancel", f"--partition={cluster.partition}"], check=False, timeout=10)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                queue = cluster.run(["squeue", "-h", "-o", "%i"], check=False, timeout=10)
                if queue.returncode != 0 or not queue.stdout.strip():
                    break
                time.sleep(0.2)
    order = [k for k in ours if k.startswith("slurmd:")] + ["slurmctld", "munged"]
    for key in order:
        if key in ours:
            _terminate([ours[key]], timeout)
    leftovers = _stray_steps(cluster)  # jobs that did not end on scancel (or cancel_jobs=False)
    if leftovers:
        _terminate(leftovers, timeout=5)
    socket_dir = cluster.munge_socket.parent
    if not socket_dir.is_relative_to(cluster.base_dir):
        shutil.rmtree(socket_dir, ignore_errors=True)
    if cluster.hosts_marker:
        with contextlib.suppress(OSError):
            remove_hosts_entry(cluster.hosts_marker)
        cluster.hosts_marker = ""
    cluster.pids = {}
    with contextlib.suppress(OSError):
        cluster.save()


def _owned(pid: int, cluster: LoopbackCluster) -> bool:
    """True if ``pid`` is alive and is one of this cluster's daemons (guards against recycled pids)."""
    if not _pid_alive(pid):
        return False
    cmd = _cmdline(pid)
    return str(cluster.slurm_conf) in cmd or str(cluster.munge_socket) in cmd


def stop_stale(base_dir: Path) -> list[int]:
    """Stop daemons that an earlier start left running in ``base_dir`` (recorded pids and pid files)."""
    base_dir = Path(base_dir).resolve()
    found: list[int] = []
    if (base_dir / CLUSTER_JSON).exists():
        with contextlib.suppress(ValueError, TypeError, KeyError, OSError):
            stale = LoopbackCluster.load(base_dir)
            found = [pid for pid in stale.pids.values() if _owned(pid, stale)]
            stop_cluster(stale)
    for pid_file in (base_dir / "run").glob("*.pid") if (base_dir / "run").is_dir() else []:
        with contextlib.suppress(ValueError, OSError):
            pid = int(pid_file.read_text().split()[0])
            if _pid_alive(pid) and str(base_dir) in _cmdline(pid):
                found.append(pid)
                _terminate([pid])
    return found


def cluster_status(base_dir: Path) -> dict[str, object]:
    cluster = LoopbackCluster.load(base_dir)
    daemons = {key: {"pid": pid, "alive": _owned(pid, cluster)} for key, pid in cluster.pids.items()}
    running = bool(daemons) and all(d["alive"] for d in daemons.values())
    return {
        "running": running,
        "daemons": daemons,
        "nodes": _node_states(cluster) if running else {},
        "slurm_conf": str(cluster.slurm_conf),
        "partition": cluster.partition,
    }


# ----------------------------------------------------------------------------------------------- CLI


def _export_lines(cluster: LoopbackCluster) -> str:
    return "\n".join(f"export {key}={shlex.quote(value)}" for key, value in cluster.env.items())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start the cluster; prints the env settings to export")
    start.add_argument("--dir", type=Path, required=True)
    start.add_argument("--nodes", type=int, default=2)
    start.add_argument("--cpus-per-node", type=int, default=1)
    start.add_argument("--real-memory-mb", type=int, default=1024)
    start.add_argument("--timeout", type=float, default=START_TIMEOUT_S)
    start.add_argument("--bf-interval", type=int, default=5, help="backfill period in s (het job start latency)")
    start.add_argument(
        "--etc-hosts", action="store_true", help="make node names resolve (adds a marked line to /etc/hosts)"
    )
    for name, text in (
        ("stop", "stop the daemons recorded in DIR/cluster.json"),
        ("status", "print daemon and node states as JSON (exit 1 if not running)"),
        ("env", "print the export lines for the cluster in DIR"),
    ):
        sub.add_parser(name, help=text).add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            cluster = start_cluster(
                args.dir,
                args.nodes,
                args.cpus_per_node,
                args.real_memory_mb,
                args.timeout,
                etc_hosts=args.etc_hosts,
                bf_interval=args.bf_interval,
            )
            print(_export_lines(cluster))
            print(
                f"# {len(cluster.node_names)} nodes idle in partition {cluster.partition} after "
                f"{cluster.start_seconds} s; details in {cluster.base_dir / CLUSTER_JSON}",
                file=sys.stderr,
            )
        elif args.command == "stop":
            if not (args.dir / CLUSTER_JSON).exists():
                print(f"no {CLUSTER_JSON} in {args.dir}; nothing to stop", file=sys.stderr)
                return 0
            stop_cluster(LoopbackCluster.load(args.dir))
        elif args.command == "status":
            status = cluster_status(args.dir)
            print(json.dumps(status, indent=2))
            return 0 if status["running"] else 1
        elif args.command == "env":
            print(_export_lines(LoopbackCluster.load(args.dir)))
    except (SlurmNotInstalledError, ClusterStartError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
