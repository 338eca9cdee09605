"""Start a model server process, wait until it answers, stop it. Standard library only (cheap to import)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Sequence
from pathlib import Path

from nemo_skills.errors import ServerError
from nemo_skills.inference.server.commands import ServerCommand, resolve_placeholders

LOG_TAIL_LINES = 40
_LOG_TAIL_BYTES = 64 * 1024
_MAX_REQUEST_TIMEOUT_S = 5.0
# Health checks go straight to the server: an HTTP(S)_PROXY meant for the internet must not see cluster-local URLs.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Processes started here lead their own process group, which outlives them while their children run.
_GROUP_LEADERS: weakref.WeakSet[subprocess.Popen] = weakref.WeakSet()


class ServerStartError(ServerError, RuntimeError):
    """The server process died, or did not answer its health check in time."""


def wait_for_server(
    url: str,
    *,
    timeout_s: float = 180,
    poll_interval_s: float = 1.0,
    process: subprocess.Popen | None = None,
    log_file: Path | None = None,
    health_paths: Sequence[str] = ("/health", "/v1/models"),
) -> None:
    """Return once ``url`` (a base URL like http://host:port) answers HTTP 200 on one of ``health_paths``.

    Raises ServerStartError at once if ``process`` exits, or after ``timeout_s``; the message carries the tail of
    ``log_file``.
    """
    base = url.rstrip("/")
    start = time.monotonic()
    deadline = start + timeout_s
    last_error = "no attempt made"
    while True:
        _raise_if_exited(process, base, log_file)
        for path in health_paths:
            remaining = deadline - time.monotonic()
            error = _probe(base + path, timeout_s=max(0.05, min(_MAX_REQUEST_TIMEOUT_S, remaining)))
            if error is None:
                return
            last_error = f"{base + path}: {error}"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServerStartError(_timeout_message(base, time.monotonic() - start, last_error, log_file))
        _pause(process, min(poll_interval_s, remaining))


def _probe(url: str, *, timeout_s: float) -> str | None:
    """None when ``url`` answers HTTP 200, else a short description of what went wrong."""
    try:
        with _OPENER.open(url, timeout=timeout_s) as response:
            return None if response.status == 200 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except urllib.error.URLError as error:
        return str(error.reason)
    except OSError as error:  # timeouts, resets while reading
        return f"{type(error).__name__}: {error}"


def _pause(process: subprocess.Popen | None, seconds: float) -> None:
    """Sleep, but wake up as soon as ``process`` exits."""
    if process is None:
        time.sleep(seconds)
        return
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass


def _raise_if_exited(process: subprocess.Popen | None, url: str, log_file: Path | None) -> None:
    if process is None or process.poll() is None:
        return
    message = f"Server process {process.pid} exited with code {process.returncode} before {url} became ready."
    raise ServerStartError(message + _log_section(log_file))


def _timeout_message(url: str, waited_s: float, last_error: str, log_file: Path | None) -> str:
    message = f"Server at {url} was not ready after {waited_s:.1f}s; last error: {last_error}."
    return message + _log_section(log_file)


def _log_section(log_file: Path | None) -> str:
    if log_file is None:
        return ""
    lines = tail_lines(log_file)
    if not lines:
        return f"\n(log {log_file} is empty or missing)"
    header = f"\n--- last {len(lines)} lines of {log_file} ---\n"
    return header + "\n".join(lines)


def tail_lines(path: Path, count: int = LOG_TAIL_LINES) -> list[str]:
    """The last ``count`` lines of a text file, reading only its end; [] if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - _LOG_TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()[-count:]


def start_server_process(cmd: ServerCommand, log_file: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``cmd.argv`` in its own process group, stdout and stderr into ``log_file`` (truncated).

    The environment is this process's, then ``cmd.env``, then ``env``; per-node placeholders are expanded from it.
    """
    full_env = {**os.environ, **cmd.env, **(env or {})}
    argv = resolve_placeholders(cmd.argv, full_env)
    log_file = Path(log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "wb") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )
    _GROUP_LEADERS.add(proc)
    return proc


def stop_server_process(proc: subprocess.Popen, grace_s: float = 10) -> int | None:
    """SIGTERM the process group of ``proc``, give ``proc`` ``grace_s`` to exit, then SIGKILL what is left.

    Returns the exit code of ``proc`` (negative: the signal that ended it).
    """
    group = _own_group(proc)
    _signal(proc, group, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    # Workers that outlive the leader would hold GPUs and ports: nothing of the group may survive.
    _signal(proc, group, signal.SIGKILL)
    proc.wait()
    return proc.returncode


def _own_group(proc: subprocess.Popen) -> int | None:
    """The process group ``proc`` leads (start_new_session=True), or None when it shares ours or is gone."""
    if proc in _GROUP_LEADERS:
        return proc.pid
    try:
        return proc.pid if os.getpgid(proc.pid) == proc.pid else None
    except ProcessLookupError:
        return None


def _signal(proc: subprocess.Popen, group: int | None, signum: signal.Signals) -> None:
    try:
        if group is not None:
            os.killpg(group, signum)
        elif proc.poll() is None:
            proc.send_signal(signum)
    except ProcessLookupError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m nemo_skills.inference.server.wait URL [--timeout_s S]`: exit 0 once the server answers."""
    import argparse

    parser = argparse.ArgumentParser(description="Wait until a model server answers its health check.")
    parser.add_argument("url", help="base URL, e.g. http://127.0.0.1:5000 (a trailing /v1 is ignored)")
    parser.add_argument("--timeout_s", type=float, default=600.0)
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")
    url = url[: -len("/v1")] if url.endswith("/v1") else url
    try:
        wait_for_server(url, timeout_s=args.timeout_s)
    except ServerStartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
