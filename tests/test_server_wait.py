import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nemo_skills.errors import ServerError
from nemo_skills.inference.server.commands import NODE_RANK, ServerCommand
from nemo_skills.inference.server.wait import (
    ServerStartError,
    start_server_process,
    stop_server_process,
    tail_lines,
    wait_for_server,
)


def python_command(code: str) -> ServerCommand:
    return ServerCommand(argv=[sys.executable, "-c", code])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_log_line(log_file: Path, text: str, timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in (log_file.read_text() if log_file.exists() else ""):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {log_file}"
        time.sleep(0.02)


@pytest.fixture
def delayed_server() -> Iterator[tuple[str, float]]:
    """A loopback server whose /health answers 503 for a while, then 200; /v1/models is always 404."""
    delay_s = 0.25
    ready_at = time.monotonic() + delay_s

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            ready = self.path == "/health" and time.monotonic() >= ready_at
            status = 200 if ready else 503 if self.path == "/health" else 404
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", delay_s
    finally:
        server.shutdown()
        server.server_close()


def test_returns_once_health_answers(delayed_server):
    url, delay_s = delayed_server
    start = time.monotonic()
    wait_for_server(url + "/", timeout_s=10, poll_interval_s=0.05)  # a trailing slash is fine
    assert delay_s <= time.monotonic() - start < 5


def test_timeout_reports_http_status_of_unready_server(delayed_server):
    url, _ = delayed_server
    with pytest.raises(ServerStartError, match="HTTP 404"):
        wait_for_server(url, timeout_s=0.2, poll_interval_s=0.05, health_paths=("/v1/models",))


def test_process_that_exits_fails_fast_with_log_tail(tmp_path):
    log_file = tmp_path / "logs" / "server.log"
    proc = start_server_process(python_command("import sys; print('boom'); sys.exit(3)"), log_file)
    start = time.monotonic()
    with pytest.raises(ServerStartError) as info:
        wait_for_server(f"http://127.0.0.1:{free_port()}", timeout_s=30, process=proc, log_file=log_file)
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert "exited with code 3" in message
    assert "boom" in message
    assert isinstance(info.value, ServerError)


def test_timeout_names_url_and_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    log_file = tmp_path / "server.log"
    log_file.write_text("".join(f"line {i}\n" for i in range(100)))
    start = time.monotonic()
    with pytest.raises(ServerStartError) as info:
        wait_for_server(url, timeout_s=2, poll_interval_s=0.2, log_file=log_file)
    elapsed = time.monotonic() - start
    assert 2 <= elapsed < 4
    message = str(info.value)
    assert url in message
    assert "2." in message  # seconds waited
    assert "refused" in message.lower()
    assert "line 99" in message and "line 60" in message and "line 59" not in message


def test_missing_log_file_is_reported(tmp_path):
    with pytest.raises(ServerStartError, match="empty or missing"):
        wait_for_server(f"http://127.0.0.1:{free_port()}", timeout_s=0.1, log_file=tmp_path / "nope.log")


def test_start_expands_placeholders_and_merges_env(tmp_path):
    log_file = tmp_path / "server.log"
    code = "import os, sys; print('rank', sys.argv[1], os.environ['FROM_CMD'], os.environ['FROM_CALL'])"
    cmd = ServerCommand(argv=[sys.executable, "-c", code, NODE_RANK], env={"FROM_CMD": "a", "FROM_CALL": "x"})
    proc = start_server_process(cmd, log_file, env={"SLURM_PROCID": "2", "FROM_CALL": "b"})
    assert proc.wait(timeout=10) == 0
    assert tail_lines(log_file) == ["rank 2 a b"]


def test_stop_terminates_process_group_with_sigterm(tmp_path):
    log_file = tmp_path / "server.log"
    code = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    proc = start_server_process(python_command(code), log_file)
    wait_for_log_line(log_file, "\n")
    child_pid = int(tail_lines(log_file)[0])
    assert stop_server_process(proc, grace_s=5) == -signal.SIGTERM
    assert not _alive(child_pid)


def test_stop_kills_process_that_ignores_sigterm(tmp_path):
    log_file = tmp_path / "server.log"
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    proc = start_server_process(python_command(code), log_file)
    wait_for_log_line(log_file, "ready")
    start = time.monotonic()
    assert stop_server_process(proc, grace_s=0.3) == -signal.SIGKILL
    assert time.monotonic() - start < 3


def test_stop_after_exit_is_harmless(tmp_path):
    proc = start_server_process(python_command("pass"), tmp_path / "server.log")
    proc.wait(timeout=10)
    assert stop_server_process(proc, grace_s=0.1) == 0


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().split()[2] == "Z":
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.02)
    return True
