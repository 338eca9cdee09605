"""Persistent interpreter sessions (``language="ipython"``): one isolated worker process per session id."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from pathlib import Path

from nemo_skills.code_execution.isolation import (
    Isolation,
    child_env,
    kill_group,
    kill_uid,
    make_scratch,
    remove_scratch,
)
from nemo_skills.code_execution.runner import DRAIN_AFTER_EXIT_S, CappedReader, RunResult

WORKER_SOURCE = (Path(__file__).parent / "repl_worker.py").read_text(encoding="utf-8")
START_TIMEOUT_S = 15.0
INTERRUPT_GRACE_S = 0.5


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class SessionDead(Exception):
    pass


class Session:
    def __init__(self, session_id: str, uid: int | None, isolation: Isolation, python: str, scratch_root: str):
        self.id = session_id
        self.uid = uid
        self.isolation = isolation
        self.python = python
        self.scratch_root = scratch_root
        self.lock = asyncio.Lock()
        self.created = time.time()
        self.last_used = time.monotonic()
        self.proc: asyncio.subprocess.Process | None = None
        self.ctrl: socket.socket | None = None
        self.scratch: str | None = None
        self.restarts = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def info(self) -> dict[str, object]:
        return {"created": self.created, "idle_s": round(time.monotonic() - self.last_used, 1), "alive": self.alive}

    async def start(self) -> None:
        self.scratch = make_scratch(self.scratch_root, self.uid)
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                self.python,
                "-u",  # unbuffered: the cell's prints and its subprocesses' output stay in order
                "-c",
                WORKER_SOURCE,
                str(child.fileno()),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                pass_fds=(child.fileno(),),
                cwd=self.scratch,
                env=child_env(self.scratch),
                start_new_session=True,
                preexec_fn=self.isolation.preexec(self.uid, self.isolation.limits.session_cpu_s),
            )
        finally:
            child.close()
        parent.setblocking(False)
        self.ctrl = parent
        msg, _ = await self._recv(START_TIMEOUT_S)
        if msg.get("event") != "ready":
            raise SessionDead(f"worker did not start: {msg}")

    async def _recv(self, timeout: float) -> tuple[dict[str, object], list[int]]:
        assert self.ctrl is not None
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        fd = self.ctrl.fileno()
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.ctrl, 1 << 16, 4)
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise asyncio.TimeoutError from None
                ready: asyncio.Future[None] = loop.create_future()
                loop.add_reader(fd, _resolve, ready)
                try:
                    await asyncio.wait_for(ready, remaining)
                finally:
                    loop.remove_reader(fd)
                continue
            except OSError as exc:
                raise SessionDead(str(exc)) from exc
            if not data:
                for extra in fds:
                    os.close(extra)
                raise SessionDead("the session's worker exited")
            return json.loads(data), fds

    async def run(self, code: str, timeout: float, std_input: str | None, max_chars: int | None) -> RunResult:
        """Run one cell. The caller holds ``self.lock``."""
        started = time.monotonic()
        self.last_used = started
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"code": code, "std_input": std_input or ""}).encode() + b"\n")
        try:
            await asyncio.wait_for(self.proc.stdin.drain(), timeout)
            msg, fds = await self._recv(timeout)
        except (ConnectionError, asyncio.TimeoutError) as exc:
            await self.close()
            raise SessionDead(f"the session's worker stopped answering: {exc!r}") from exc
        if msg.get("event") != "started" or len(fds) != 2:
            await self.close()
            raise SessionDead(f"unexpected message from the worker: {msg}")
        cap = self.isolation.limits.output_bytes
        out, err = CappedReader(cap), CappedReader(cap)
        loop = asyncio.get_running_loop()
        readers = []
        transports = []
        for reader, fd in ((out, fds[0]), (err, fds[1])):
            stream = asyncio.StreamReader(limit=1 << 20)
            transport, _ = await loop.connect_read_pipe(
                lambda s=stream: asyncio.StreamReaderProtocol(s), os.fdopen(fd, "rb", buffering=0)
            )
            transports.append(transport)
            readers.append(asyncio.ensure_future(reader.consume(stream)))
        status = "completed"
        killed = False
        try:
            remaining = max(0.0, timeout - (time.monotonic() - started))
            done, _ = await self._recv(remaining)
            status = str(done.get("status", "error"))
        except asyncio.TimeoutError:
            status = "timeout"
            killed = not await self._interrupt()
        except SessionDead:
            status, killed = "error", True
            await self.close()
        _, pending = await asyncio.wait(readers, timeout=DRAIN_AFTER_EXIT_S)
        for task in pending:
            task.cancel()
        for transport in transports:
            transport.close()
        stdout, cut_out = out.text(max_chars)
        stderr, cut_err = err.text(max_chars)
        if status == "timeout":
            stderr += f"\nTimed out after {timeout:g} s" + (
                "; the session was killed and its state is lost." if killed else "; interrupted, state kept."
            )
        self.last_used = time.monotonic()
        return RunResult(
            process_status=status,
            stdout=stdout,
            stderr=stderr,
            exit_code=None,
            truncated=cut_out or cut_err,
            duration_s=round(time.monotonic() - started, 4),
        )

    async def _interrupt(self) -> bool:
        """SIGINT the worker; True when it reported back in time (state kept), else the session is killed."""
        assert self.proc is not None
        try:
            self.proc.send_signal(signal.SIGINT)
            await self._recv(INTERRUPT_GRACE_S)
            return True
        except (ProcessLookupError, asyncio.TimeoutError, SessionDead):
            await self.close()
            return False

    async def close(self) -> None:
        if self.proc is not None:
            kill_group(self.proc.pid)
            if self.uid is not None and self.isolation.switch_uid:
                await asyncio.to_thread(kill_uid, self.uid, self.proc.pid)
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                pass
        if self.ctrl is not None:
            self.ctrl.close()
            self.ctrl = None
        if self.scratch is not None:
            remove_scratch(self.scratch)
            self.scratch = None
