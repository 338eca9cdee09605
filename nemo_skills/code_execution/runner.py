"""One-shot runs: write the program into a fresh scratch dir, run it isolated, read capped output, clean up."""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass

from nemo_skills.code_execution.isolation import (
    Isolation,
    child_env,
    kill_group,
    kill_uid,
    make_scratch,
    remove_scratch,
)

READ_CHUNK = 1 << 16
DRAIN_AFTER_EXIT_S = 1.0  # how long to wait for pipe EOF after the main process is gone


@dataclass
class RunResult:
    process_status: str  # completed | timeout | error
    stdout: str
    stderr: str
    exit_code: int | None
    truncated: bool
    duration_s: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Language:
    name: str
    filename: str
    argv: tuple[str, ...]  # "{file}" and "{python}" are substituted


def available_languages(python: str) -> dict[str, Language]:
    langs = {
        "python": Language("python", "main.py", ("{python}", "-u", "{file}")),
        "python3": Language("python", "main.py", ("{python}", "-u", "{file}")),
    }
    bash = shutil.which("bash", path="/usr/bin:/bin")
    if bash:
        langs["bash"] = langs["shell"] = Language("bash", "main.sh", (bash, "{file}"))
        gxx = shutil.which("g++", path="/usr/bin:/bin:/usr/local/bin")
        if gxx:
            script = f"{gxx} -std=c++17 -O2 -o main main.cpp && exec ./main"
            langs["cpp"] = langs["c++"] = Language("cpp", "main.cpp", (bash, "-c", script))
    del python
    return langs


class CappedReader:
    """Reads a stream to EOF, keeping the first ``cap`` bytes and counting the rest (so the writer never blocks)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buf = bytearray()
        self.total = 0

    async def consume(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(READ_CHUNK):
            self.total += len(chunk)
            room = self.cap - len(self.buf)
            if room > 0:
                self.buf += chunk[:room]

    @property
    def dropped(self) -> int:
        return self.total - len(self.buf)

    def text(self, max_chars: int | None = None) -> tuple[str, bool]:
        text = self.buf.decode("utf-8", errors="replace")
        cut = self.dropped > 0
        if max_chars is not None and len(text) > max_chars:
            text, cut = text[:max_chars], True
        if cut:
            text += f"\n<output cut: {self.total} bytes in total, limit reached>"
        return text, cut


def status_from(exit_code: int | None, timed_out: bool) -> str:
    if timed_out or exit_code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return "timeout"
    return "completed" if exit_code == 0 else "error"


async def run_once(
    *,
    isolation: Isolation,
    language: Language,
    python: str,
    code: str,
    timeout: float,
    std_input: str | None,
    uid: int | None,
    scratch_root: str,
    max_output_characters: int | None = None,
) -> RunResult:
    started = time.monotonic()
    scratch = make_scratch(scratch_root, uid)
    try:
        path = os.path.join(scratch, language.filename)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(code)
        if uid is not None:
            os.chown(path, uid, uid)
        argv = [a.replace("{python}", python).replace("{file}", path) for a in language.argv]
        return await _run_argv(argv, isolation, scratch, timeout, std_input, uid, started, max_output_characters)
    finally:
        remove_scratch(scratch)


async def wait_exit(proc: asyncio.subprocess.Process, timeout: float) -> bool:
    """True when the process exited within ``timeout``.

    ``Process.wait()`` also waits for its pipes to close, which a detached grandchild can hold open forever; a pidfd
    becomes readable when the process itself exits.
    """
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (OSError, AttributeError):  # already reaped, or no pidfd support: poll
        deadline = time.monotonic() + timeout
        while proc.returncode is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return proc.returncode is not None
    exited = loop.create_future()
    loop.add_reader(pidfd, lambda: exited.done() or exited.set_result(None))
    try:
        await asyncio.wait_for(exited, timeout)
        return True
    except asyncio.TimeoutError:
        return False
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    try:
        if data:
            stdin.write(data)
            await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        stdin.close()


async def _run_argv(
    argv: list[str],
    isolation: Isolation,
    scratch: str,
    timeout: float,
    std_input: str | None,
    uid: int | None,
    started: float,
    max_output_characters: int | None,
) -> RunResult:
    cap = isolation.limits.output_bytes
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if std_input else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=scratch,
        env=child_env(scratch),
        start_new_session=True,
        preexec_fn=isolation.preexec(uid, math.ceil(timeout) + 1),
    )
    out, err = CappedReader(cap), CappedReader(cap)
    assert proc.stdout is not None and proc.stderr is not None
    readers = [asyncio.ensure_future(out.consume(proc.stdout)), asyncio.ensure_future(err.consume(proc.stderr))]
    feeder = asyncio.ensure_future(_feed(proc.stdin, std_input.encode())) if proc.stdin and std_input else None
    timed_out = False
    try:
        timed_out = not await wait_exit(proc, timeout)
    finally:
        # The main process is gone or out of time: nothing of this run may outlive it.
        kill_group(proc.pid)
        if uid is not None and isolation.switch_uid:
            await asyncio.to_thread(kill_uid, uid, proc.pid)
        exit_code = await proc.wait()
        _, pending = await asyncio.wait(readers, timeout=DRAIN_AFTER_EXIT_S)
        for task in [*pending, *([feeder] if feeder else [])]:
            task.cancel()
    stdout, cut_out = out.text(max_output_characters)
    stderr, cut_err = err.text(max_output_characters)
    if timed_out:
        stderr += f"\nTimed out after {timeout:g} s (wall time); the process group was killed."
    elif exit_code in (-signal.SIGXCPU, -signal.SIGKILL) and time.monotonic() - started < timeout:
        stderr += f"\nKilled by signal {-exit_code} (resource limit)."
    return RunResult(
        process_status=status_from(exit_code, timed_out),
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        truncated=cut_out or cut_err,
        duration_s=round(time.monotonic() - started, 4),
    )
