"""Process isolation for sandboxed runs: rlimits, a private network namespace, a throw-away uid, a scratch dir.

Everything here happens in the forked child before ``exec`` (``preexec_fn``), in this order: resource limits,
``unshare(CLONE_NEWNET)`` (needs root; the new namespace has only a loopback device that is down, so every
``connect`` fails with ENETUNREACH), then dropping supplementary groups, gid and uid to a uid reserved for this run.
A distinct uid per worker slot / session means ``RLIMIT_NPROC`` counts only that run's processes, runs cannot read
each other's scratch dirs, the child cannot signal the server (EPERM) nor read ``/proc/<server>/environ``, and
after the run every process of that uid can be found and killed, including ones that left the process group.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

CLONE_NEWNET = 0x40000000
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


@dataclass(frozen=True)
class Limits:
    """Per-run resource limits. ``cpu_s`` is derived from the request timeout when None."""

    address_space_bytes: int = 2 << 30
    nproc: int = 256
    nofile: int = 256
    fsize_bytes: int = 64 << 20
    output_bytes: int = 1 << 20  # per stream, enforced by the server while reading
    session_cpu_s: int = 3600  # CPU budget for a whole persistent (ipython) session

    def as_dict(self) -> dict[str, int]:
        return {
            "RLIMIT_AS": self.address_space_bytes,
            "RLIMIT_NPROC": self.nproc,
            "RLIMIT_NOFILE": self.nofile,
            "RLIMIT_FSIZE": self.fsize_bytes,
            "RLIMIT_CPU": -1,  # per run: ceil(timeout) + 1 s
            "output_bytes_per_stream": self.output_bytes,
        }


@dataclass
class Isolation:
    """What this machine allows; decided once at server start by :func:`probe_isolation`."""

    netns: bool
    switch_uid: bool
    limits: Limits = field(default_factory=Limits)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, object]:
        return {
            "network": "netns" if self.netns else "none",
            "user": "uid-per-run" if self.switch_uid else "none (same uid as the server)",
            "process_group": True,
            "scratch_dir": True,
            "environment": "minimal (PATH, HOME, TMPDIR, LANG, PYTHONIOENCODING)",
            "rlimits": self.limits.as_dict(),
            "notes": self.notes,
        }

    def preexec(self, uid: int | None, cpu_s: int) -> Callable[[], None]:
        """The function run in the child between fork and exec."""
        limits = self.limits
        netns = self.netns
        switch = self.switch_uid and uid is not None

        def _child() -> None:
            rlimits = [
                (resource.RLIMIT_CPU, cpu_s, cpu_s + 1),
                (resource.RLIMIT_AS, limits.address_space_bytes, limits.address_space_bytes),
                (resource.RLIMIT_NOFILE, limits.nofile, limits.nofile),
                (resource.RLIMIT_FSIZE, limits.fsize_bytes, limits.fsize_bytes),
                (resource.RLIMIT_NPROC, limits.nproc, limits.nproc),
                (resource.RLIMIT_CORE, 0, 0),
            ]
            for which, soft, hard in rlimits:
                resource.setrlimit(which, (soft, hard))
            if netns and _libc.unshare(CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed")
            if switch:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            os.umask(0o077)

        return _child


def child_env(scratch: str) -> dict[str, str]:
    return {
        "PATH": SAFE_PATH,
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def make_scratch(root: str, uid: int | None) -> str:
    path = tempfile.mkdtemp(prefix="run-", dir=root)
    if uid is not None:
        os.chown(path, uid, uid)
    os.chmod(path, 0o700)
    return path


def remove_scratch(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _procs_of_uid(uid: int) -> list[tuple[int, bytes, int]]:
    """(pid, state, ppid) of every process owned by ``uid``."""
    procs = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                with open(f"/proc/{name}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
                procs.append((int(name), fields[0], int(fields[1])))
            except (OSError, IndexError, ValueError):
                continue
    return procs


def pids_of_uid(uid: int) -> list[int]:
    """Live (not zombie) processes of ``uid``."""
    return [pid for pid, state, _ in _procs_of_uid(uid) if state not in (b"Z", b"X")]


def become_subreaper() -> bool:
    """Orphans of sandboxed runs are re-parented to the server (PR_SET_CHILD_SUBREAPER), which reaps them in
    :func:`kill_uid`: their zombies would otherwise count against the uid's RLIMIT_NPROC where PID 1 does not reap."""
    return _libc.prctl(36, 1, 0, 0, 0) == 0


def kill_uid(uid: int, keep: int | None = None, rounds: int = 100) -> int:
    """SIGKILL every process owned by ``uid`` (repeated: a fork bomb forks while we kill) and reap the orphans that
    were re-parented to us. ``keep`` is the run's own child, which asyncio reaps. Returns the number of kills."""
    killed = 0
    me = os.getpid()
    for _ in range(rounds):
        procs = _procs_of_uid(uid)
        pending = False
        for pid, state, ppid in procs:
            if state in (b"Z", b"X"):
                if ppid == me and pid != keep:
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass
                elif pid != keep:  # its parent is dying: it will be re-parented to us, then reaped
                    pending = True
                continue
            pending = True
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        if not pending:
            break
        time.sleep(0.002)
    return killed


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
