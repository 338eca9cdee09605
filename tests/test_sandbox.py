"""The sandbox service, against the real server started as a subprocess: hostile programs, concurrency, sessions.

After every hostile program a normal request must still be answered correctly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from nemo_skills.code_execution.client import ExecutionResult, SandboxClient
from nemo_skills.code_execution.isolation import _procs_of_uid
from nemo_skills.inference.server.local import free_port
from nemo_skills.inference.server.wait import wait_for_server

REPO = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-token-do-not-leak"
WORKERS = 4
UID_BASE = 61000
MAX_SESSIONS = 4
SESSION_TIMEOUT_S = 3.0
NOT_ROOT = "server not root: children run as the server's uid and could signal it (reported by /health)"


@dataclass(frozen=True)
class SandboxServer:
    url: str
    port: int
    pid: int


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    port = free_port()
    log = tmp_path_factory.mktemp("sandbox") / "server.log"
    env = {**os.environ, "NS_SANDBOX_TEST_SECRET": SECRET}
    argv = [sys.executable, "-m", "nemo_skills.code_execution.server", "--port", str(port)]
    argv += ["--workers", str(WORKERS), "--max-sessions", str(MAX_SESSIONS), "--uid-base", str(UID_BASE)]
    argv += ["--session-timeout", str(SESSION_TIMEOUT_S)]
    with open(log, "w") as fh:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, timeout_s=30, poll_interval_s=0.1, process=proc, log_file=log, health_paths=("/health",))
    except Exception:
        proc.kill()
        raise
    yield SandboxServer(url=url, port=port, pid=proc.pid)
    alive = proc.poll() is None
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    assert alive, f"the sandbox server died during the tests:\n{log.read_text()}"


async def run(sb: SandboxServer, code: str, **kwargs: object) -> ExecutionResult:
    async with SandboxClient(sb.url, max_retries=0) as client:
        return await client.execute(code, **kwargs)  # type: ignore[arg-type]


async def assert_still_serving(sb: SandboxServer) -> None:
    res = await run(sb, "print(1+1)")
    assert (res.process_status, res.stdout) == ("completed", "2\n"), res


def leftover_processes() -> list[int]:
    if os.geteuid() != 0:
        return []
    # zombies too: the server is a child subreaper and must reap orphans (they count against RLIMIT_NPROC)
    return [proc for uid in range(UID_BASE, UID_BASE + WORKERS) for proc in _procs_of_uid(uid)]


async def health(sb: SandboxServer) -> dict[str, object]:
    async with SandboxClient(sb.url, max_retries=0) as client:
        return await client.health()


# -- basics -----------------------------------------------------------------------------------------------------------


async def test_health_reports_isolation(sandbox: SandboxServer) -> None:
    data = await health(sandbox)
    assert data["status"] == "healthy"
    assert data["workers"] == {"busy": 0, "total": WORKERS}
    assert {"python", "ipython"} <= set(data["languages"])  # type: ignore[arg-type]
    iso = data["isolation"]
    assert isinstance(iso, dict) and iso["network"] in ("netns", "none")
    if os.geteuid() == 0:
        assert iso["network"] == "netns" and iso["user"] == "uid-per-run", iso


async def test_python_stdout_stderr_and_errors(sandbox: SandboxServer) -> None:
    res = await run(sandbox, "import sys\nprint('out')\nprint('err', file=sys.stderr)")
    assert (res.process_status, res.stdout, res.stderr, res.exit_code) == ("completed", "out\n", "err\n", 0)
    res = await run(sandbox, "raise ValueError('boom')")
    assert res.process_status == "error" and "ValueError: boom" in res.stderr and res.exit_code == 1


async def test_std_input(sandbox: SandboxServer) -> None:
    res = await run(sandbox, "a, b = map(int, input().split())\nprint(a + b)", std_input="20 22\n")
    assert (res.process_status, res.stdout) == ("completed", "42\n")
    if "bash" in (await health(sandbox))["languages"]:  # type: ignore[operator]
        res = await run(sandbox, 'read x; echo "got $x"', language="bash", std_input="hi\n")
        assert (res.process_status, res.stdout) == ("completed", "got hi\n")


@pytest.mark.skipif(shutil.which("g++") is None, reason="no g++ here")
async def test_cpp(sandbox: SandboxServer) -> None:
    code = "#include <iostream>\nint main(){int a; std::cin >> a; std::cout << a * 2 << std::endl;}"
    res = await run(sandbox, code, language="cpp", std_input="21", timeout=30)
    assert (res.process_status, res.stdout) == ("completed", "42\n"), res


async def test_unknown_language_is_a_clear_400(sandbox: SandboxServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.url}/execute", json={"generated_code": "1", "language": "cobol"}) as resp:
            assert resp.status == 400
            assert "available here" in await resp.text()


# -- hostile programs -------------------------------------------------------------------------------------------------


async def test_infinite_loop_times_out(sandbox: SandboxServer) -> None:
    t0 = time.monotonic()
    res = await run(sandbox, "while True:\n    pass", timeout=2)
    assert res.process_status == "timeout", res
    assert time.monotonic() - t0 < 4
    await assert_still_serving(sandbox)


async def test_sleep_forever_times_out(sandbox: SandboxServer) -> None:
    t0 = time.monotonic()
    res = await run(sandbox, "import time\ntime.sleep(10**6)", timeout=1)
    assert res.process_status == "timeout" and time.monotonic() - t0 < 3
    await assert_still_serving(sandbox)


async def test_detached_background_process_is_killed(sandbox: SandboxServer) -> None:
    code = "import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)\nprint('bye')"
    res = await run(sandbox, code)
    assert (res.process_status, res.stdout) == ("completed", "bye\n")
    assert leftover_processes() == []
    await assert_still_serving(sandbox)


async def test_fork_bomb_is_contained(sandbox: SandboxServer) -> None:
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    t0 = time.monotonic()
    res = await run(sandbox, code, timeout=3)
    assert res.process_status in ("timeout", "error"), res
    assert time.monotonic() - t0 < 8
    assert leftover_processes() == []
    await assert_still_serving(sandbox)
    data = await health(sandbox)
    assert data["workers"] == {"busy": 0, "total": WORKERS}
    # every worker slot (uid) can start processes again
    code = "import subprocess\nprint(subprocess.run(['true']).returncode)"
    results = await asyncio.gather(*(run(sandbox, code) for _ in range(2 * WORKERS)))
    assert all(r.stdout == "0\n" for r in results), results


async def test_memory_bomb(sandbox: SandboxServer) -> None:
    res = await run(sandbox, "x = bytearray(16 * 1024**3)", timeout=5)
    assert res.process_status == "error" and "MemoryError" in res.stderr, res
    res = await run(sandbox, "chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))", timeout=10)
    assert res.process_status == "error" and "MemoryError" in res.stderr, res
    await assert_still_serving(sandbox)


async def test_giant_output_is_truncated(sandbox: SandboxServer) -> None:
    code = "import sys\nfor _ in range(64):\n    sys.stdout.write('x' * (1 << 20))"
    res = await run(sandbox, code, timeout=10)
    assert res.process_status == "completed" and res.truncated, res.stderr
    assert len(res.stdout) < (1 << 20) + 200 and "<output cut" in res.stdout
    res = await run(sandbox, "print('y' * 5000)", max_output_characters=100)
    assert res.truncated and res.stdout.startswith("y" * 100) and "<output cut" in res.stdout
    await assert_still_serving(sandbox)


async def test_server_environment_is_not_visible(sandbox: SandboxServer) -> None:
    code = (
        "import os\n"
        f"print(sorted(os.environ))\nprint({SECRET!r} in str(os.environ))\n"
        "try:\n    data = open(f'/proc/{os.getppid()}/environ', 'rb').read()\n"
        f"    print({SECRET!r}.encode() in data)\n"
        "except OSError as e:\n    print('denied', type(e).__name__)\n"
    )
    res = await run(sandbox, code)
    assert res.process_status == "completed", res
    assert SECRET not in res.stdout.replace(repr(SECRET), "")
    lines = res.stdout.splitlines()
    assert lines[1] == "False" and lines[2] != "True", res.stdout
    assert "NS_SANDBOX_TEST_SECRET" not in lines[0]
    await assert_still_serving(sandbox)


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
async def test_cannot_write_outside_scratch(sandbox: SandboxServer) -> None:
    targets = ["/root/pwned", "/etc/pwned", str(REPO / "pwned"), "/etc/passwd"]
    code = (
        f"import os\nfor path in {targets!r}:\n"
        "    try:\n        open(path, 'a').write('x')\n        print('WROTE', path)\n"
        "    except OSError as e:\n        print('blocked', type(e).__name__)\n"
        "open('ok.txt', 'w').write('fine')\nprint(open('ok.txt').read())"
    )
    res = await run(sandbox, code)
    assert res.process_status == "completed", res
    assert "WROTE" not in res.stdout and res.stdout.count("blocked PermissionError") == len(targets)
    assert res.stdout.endswith("fine\n")
    for path in targets[:3]:
        assert not os.path.exists(path)
    await assert_still_serving(sandbox)


async def test_no_network(sandbox: SandboxServer) -> None:
    if (await health(sandbox))["isolation"]["network"] != "netns":  # type: ignore[index]
        pytest.skip("no network namespace on this machine (reported by /health)")
    # 8.8.8.8 is never reached: in the empty namespace there is no route, so connect fails at once.
    code = (
        "import socket, time\n"
        f"for addr in [('127.0.0.1', {sandbox.port}), ('8.8.8.8', 53)]:\n"
        "    t = time.monotonic()\n"
        "    try:\n        socket.create_connection(addr, timeout=2).close()\n        print('CONNECTED', addr)\n"
        "    except OSError as e:\n        print('blocked', e.errno, round(time.monotonic() - t, 2))\n"
    )
    res = await run(sandbox, code)
    assert res.process_status == "completed", res
    assert "CONNECTED" not in res.stdout and res.stdout.count("blocked") == 2, res.stdout
    await assert_still_serving(sandbox)


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
async def test_cannot_kill_the_server(sandbox: SandboxServer) -> None:
    code = (
        "import os, signal\n"
        f"calls = [lambda: os.kill(os.getppid(), 9), lambda: os.kill({sandbox.pid}, 9),\n"
        f"         lambda: os.killpg(os.getpgid({sandbox.pid}), 9), lambda: os.kill({sandbox.pid}, signal.SIGTERM)]\n"
        "for call in calls:\n"
        "    try:\n        call()\n        print('SENT')\n"
        "    except OSError as e:\n        print('blocked', type(e).__name__)\n"
        "os.kill(-1, 9)\n"  # everything this uid may signal: only this run's own processes
    )
    res = await run(sandbox, code)
    assert "SENT" not in res.stdout, res.stdout
    await asyncio.sleep(0.2)
    await assert_still_serving(sandbox)


async def test_fd_exhaustion(sandbox: SandboxServer) -> None:
    code = "files = []\ntry:\n    while True:\n        files.append(open('/dev/null'))\nexcept OSError as e:\n"
    code += "    print(len(files), e.errno)\nraise SystemExit(3)"
    res = await run(sandbox, code)
    assert res.process_status == "error" and res.exit_code == 3, res
    count = int(res.stdout.split()[0])
    assert count < 256, count
    await assert_still_serving(sandbox)


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
async def test_server_survives_a_hostile_burst(sandbox: SandboxServer) -> None:
    hostile = [
        "while True: pass",
        "import os\nos.kill(os.getppid(), 9)",
        "print('z' * 10**7)",
        "import os\nos._exit(9)",
    ]
    results = await asyncio.gather(*(run(sandbox, code, timeout=1) for code in hostile * 2))
    assert [r.process_status for r in results[:4]] == ["timeout", "error", "completed", "error"]
    await assert_still_serving(sandbox)


# -- concurrency ------------------------------------------------------------------------------------------------------


async def test_32_concurrent_requests(sandbox: SandboxServer) -> None:
    async with SandboxClient(sandbox.url) as client:
        results = await asyncio.gather(*(client.execute(f"print({i} * 2)") for i in range(32)))
    assert [(r.process_status, r.stdout) for r in results] == [("completed", f"{i * 2}\n") for i in range(32)]


async def test_health_answers_while_all_workers_are_busy(sandbox: SandboxServer) -> None:
    async with SandboxClient(sandbox.url) as client:
        sleepers = [asyncio.ensure_future(client.execute("import time\ntime.sleep(3)", timeout=2)) for _ in range(6)]
        await asyncio.sleep(0.7)
        t0 = time.monotonic()
        data = await client.health()
        assert time.monotonic() - t0 < 0.5
        assert data["workers"] == {"busy": WORKERS, "total": WORKERS}
        results = await asyncio.gather(*sleepers)
    assert all(r.process_status == "timeout" for r in results)
    assert (await health(sandbox))["workers"]["busy"] == 0  # type: ignore[index]


# -- sessions ---------------------------------------------------------------------------------------------------------


async def test_ipython_session_keeps_state_and_delete_clears_it(sandbox: SandboxServer) -> None:
    async with SandboxClient(sandbox.url) as client:
        first = await client.execute("x = 20\ndef f(y):\n    return x + y", language="ipython", session_id="s1")
        assert first.process_status == "completed" and first.new_session_created
        res = await client.execute("f(22)", language="ipython", session_id="s1")
        assert (res.process_status, res.stdout, res.new_session_created) == ("completed", "42\n", False)
        res = await client.execute(
            "x = x + 1\nprint(x)\nimport os\nos.system('echo from-child')", language="ipython", session_id="s1"
        )
        assert res.stdout == "21\nfrom-child\n0\n", res
        other = await client.execute("x", language="ipython", session_id="s2")
        assert other.process_status == "error" and "NameError" in other.stderr
        res = await client.execute(
            "name = input()\nname.upper()", language="ipython", session_id="s1", std_input="ada\n"
        )
        assert res.stdout == "'ADA'\n", res
        assert await client.delete_session("s1") and await client.delete_session("s2")
        assert not await client.delete_session("s1")
        res = await client.execute("x", language="ipython", session_id="s1")
        assert res.process_status == "error" and "NameError" in res.stderr and res.new_session_created
        await client.delete_session("s1")


async def test_ipython_timeout_interrupts_cell_and_keeps_state(sandbox: SandboxServer) -> None:
    async with SandboxClient(sandbox.url) as client:
        await client.execute("kept = 'yes'", language="ipython", session_id="t1")
        res = await client.execute("while True:\n    pass", language="ipython", session_id="t1", timeout=1)
        assert res.process_status == "timeout", res
        res = await client.execute("kept", language="ipython", session_id="t1")
        assert (res.process_status, res.stdout) == ("completed", "'yes'\n")
        # a cell that ignores SIGINT: the session is killed and restarted, its state lost
        code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(100)"
        res = await client.execute(code, language="ipython", session_id="t1", timeout=1)
        assert res.process_status == "timeout" and "state is lost" in res.stderr
        res = await client.execute("kept", language="ipython", session_id="t1")
        assert res.process_status == "error" and res.new_session_created
        await client.delete_session("t1")
    await assert_still_serving(sandbox)


async def test_ipython_without_session_is_ephemeral(sandbox: SandboxServer) -> None:
    res = await run(sandbox, "1 + 1", language="ipython")
    assert (res.process_status, res.stdout) == ("completed", "2\n")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.url}/sessions") as resp:
            assert not [s for s in (await resp.json())["sessions"] if s.startswith("ephemeral")]


async def test_session_cap_and_idle_expiry(sandbox: SandboxServer) -> None:
    async with SandboxClient(sandbox.url) as client:
        for i in range(MAX_SESSIONS + 1):
            await client.execute(f"v = {i}", language="ipython", session_id=f"cap{i}")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sandbox.url}/sessions") as resp:
                live = set((await resp.json())["sessions"])
        assert len(live) == MAX_SESSIONS and "cap0" not in live  # the least recently used one was ended
        await asyncio.sleep(SESSION_TIMEOUT_S + 1.5)
        data = await client.health()
        assert data["sessions"]["active"] == 0, data  # idle sessions expired
