"""The sandbox HTTP service.

    python -m nemo_skills.code_execution.server --host 127.0.0.1 --port 6000 [--workers K]

API (compatible with the reference sandbox):

* ``POST /execute`` ``{"generated_code", "timeout"=10, "language"="python", "std_input"?, "max_output_characters"?}``
  -> ``{"process_status": "completed"|"timeout"|"error", "stdout", "stderr", "exit_code", "truncated",
  "duration_s"}``; ``language="ipython"`` with header ``X-Session-ID`` runs in that session's persistent interpreter
  (adds ``session_id`` and ``new_session_created``). Without the header an ipython cell runs in a throw-away session.
* ``DELETE /sessions/{id}``, ``GET /sessions``, ``GET /health`` (never waits for a worker).

At most ``--workers`` programs run at once (an asyncio queue of worker slots, each with its own uid); a run that
times out is killed with its whole process group and every process of its uid, so a slot is never lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator

from aiohttp import web

from nemo_skills.code_execution.isolation import Isolation, Limits, become_subreaper, child_env
from nemo_skills.code_execution.runner import Language, available_languages, run_once
from nemo_skills.code_execution.session import Session, SessionDead

LOG = logging.getLogger("nemo_skills.sandbox")
SESSION_LANGUAGES = ("ipython",)
MAX_TIMEOUT_S = 3600.0
PROBE_CODE = r"""
import json, os, socket
result = {"uid": os.getuid()}
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1).close()
    result["loopback"] = "connected"
except OSError as exc:
    result["loopback"] = exc.errno
print(json.dumps(result))
"""


def probe_isolation(limits: Limits, uid: int | None, python_candidates: list[str]) -> tuple[Isolation, str]:
    """Find an interpreter the sandbox user can run, and check that the network namespace really has no network."""
    is_root = os.geteuid() == 0
    iso = Isolation(netns=is_root, switch_uid=is_root and uid is not None, limits=limits)
    if not is_root:
        iso.notes.append("server is not root: no network namespace, children run as the server's uid")
    scratch = tempfile.mkdtemp(prefix="ns-sandbox-probe-")
    os.chmod(scratch, 0o755)
    try:
        for attempt in range(2):
            for python in python_candidates:
                try:
                    proc = subprocess.run(
                        [python, "-c", PROBE_CODE],
                        capture_output=True,
                        text=True,
                        timeout=30,
                        cwd=scratch,
                        env=child_env(scratch),
                        preexec_fn=iso.preexec(uid if iso.switch_uid else None, 30),
                    )
                except (OSError, subprocess.SubprocessError) as exc:
                    LOG.info("probe with %s failed (trying the next interpreter): %s", python, exc)
                    continue
                if proc.returncode != 0:
                    LOG.warning("probe with %s failed: %s", python, proc.stderr.strip()[-500:])
                    continue
                report = json.loads(proc.stdout)
                if iso.netns and report["loopback"] == "connected":
                    iso.netns = False
                    iso.notes.append("network namespace did not isolate the network; disabled")
                return iso, python
            if attempt == 0 and iso.netns:
                iso.netns = False
                iso.notes.append("unshare(CLONE_NEWNET) failed here: NO network isolation")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    raise RuntimeError(f"no usable Python interpreter for the sandbox among {python_candidates}")


def python_candidates(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    found = [sys.executable]
    for name in ("/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3")):
        if name and name not in found and os.path.exists(name):
            found.append(name)
    return found


class Sandbox:
    def __init__(
        self,
        isolation: Isolation,
        python: str,
        workers: int,
        uid_base: int | None,
        max_sessions: int,
        session_timeout_s: float,
    ) -> None:
        self.isolation = isolation
        self.python = python
        self.workers = workers
        self.languages: dict[str, Language] = available_languages(python)
        self.scratch_root = tempfile.mkdtemp(prefix="ns-sandbox-")
        os.chmod(self.scratch_root, 0o711)
        use_uids = isolation.switch_uid and uid_base is not None
        self.slots: asyncio.Queue[int | None] = asyncio.Queue()
        for i in range(workers):
            self.slots.put_nowait(uid_base + i if use_uids and uid_base is not None else None)
        self.session_uids: list[int | None] = [
            uid_base + workers + i if use_uids and uid_base is not None else None for i in range(max_sessions)
        ]
        self.max_sessions = max_sessions
        self.session_timeout_s = session_timeout_s
        self.sessions: dict[str, Session] = {}
        self.started = time.time()
        self.completed_runs = 0

    # -- sessions -------------------------------------------------------------------------------------------------
    async def get_session(self, session_id: str) -> tuple[Session, bool]:
        session = self.sessions.get(session_id)
        if session is not None:
            return session, False
        if len(self.sessions) >= self.max_sessions:
            idle = [s for s in self.sessions.values() if not s.lock.locked()]
            if not idle:
                raise web.HTTPServiceUnavailable(text=f"all {self.max_sessions} sessions are busy")
            await self.end_session(min(idle, key=lambda s: s.last_used).id)
        session = Session(session_id, self.session_uids.pop(), self.isolation, self.python, self.scratch_root)
        self.sessions[session_id] = session
        return session, True

    async def end_session(self, session_id: str) -> bool:
        session = self.sessions.pop(session_id, None)
        if session is None:
            return False
        await session.close()
        self.session_uids.append(session.uid)
        return True

    async def expire_sessions(self) -> None:
        while True:
            await asyncio.sleep(max(0.5, min(self.session_timeout_s / 4, 10.0)))
            now = time.monotonic()
            for sid, session in list(self.sessions.items()):
                if not session.lock.locked() and now - session.last_used > self.session_timeout_s:
                    LOG.info("session %s idle for %.0f s: ended", sid, now - session.last_used)
                    await self.end_session(sid)

    # -- execution ------------------------------------------------------------------------------------------------
    async def execute(self, body: dict[str, object], session_id: str | None) -> dict[str, object]:
        code = body.get("generated_code")
        if not isinstance(code, str):
            raise web.HTTPBadRequest(text='"generated_code" (a string) is required')
        language = str(body.get("language") or "python")
        try:
            timeout = float(body.get("timeout", 10.0))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise web.HTTPBadRequest(text='"timeout" must be a number') from None
        if not 0 < timeout <= MAX_TIMEOUT_S:
            raise web.HTTPBadRequest(text=f'"timeout" must be in (0, {MAX_TIMEOUT_S:g}]')
        std_input = body.get("std_input")
        std_input = str(std_input) if std_input else None
        max_chars = body.get("max_output_characters")
        max_chars = int(max_chars) if isinstance(max_chars, (int, float)) and max_chars > 0 else None
        if language in SESSION_LANGUAGES:
            return await self._execute_in_session(code, timeout, std_input, max_chars, session_id)
        lang = self.languages.get(language)
        if lang is None:
            choices = ", ".join(sorted([*self.languages, *SESSION_LANGUAGES]))
            raise web.HTTPBadRequest(text=f"unknown language {language!r}; available here: {choices}")
        uid = await self.slots.get()
        try:
            result = await run_once(
                isolation=self.isolation,
                language=lang,
                python=self.python,
                code=code,
                timeout=timeout,
                std_input=std_input,
                uid=uid,
                scratch_root=self.scratch_root,
                max_output_characters=max_chars,
            )
        finally:
            self.slots.put_nowait(uid)
        self.completed_runs += 1
        return result.as_dict()

    async def _execute_in_session(
        self, code: str, timeout: float, std_input: str | None, max_chars: int | None, session_id: str | None
    ) -> dict[str, object]:
        ephemeral = session_id is None
        sid = session_id or f"ephemeral-{uuid.uuid4().hex}"
        session, created = await self.get_session(sid)
        try:
            async with session.lock:
                slot = await self.slots.get()
                try:
                    if not session.alive:
                        if session.proc is not None:
                            await session.close()
                            created = True
                        await session.start()
                    result = await session.run(code, timeout, std_input, max_chars)
                except SessionDead as exc:
                    await session.close()
                    out = {"process_status": "error", "stdout": "", "stderr": f"session failed: {exc}"}
                    return {**out, "session_id": sid, "new_session_created": created}
                finally:
                    self.slots.put_nowait(slot)
        finally:
            if ephemeral:
                await self.end_session(sid)
        self.completed_runs += 1
        extra: dict[str, object] = {"new_session_created": created}
        if not ephemeral:
            extra["session_id"] = sid
        return {**result.as_dict(), **extra}

    def health(self) -> dict[str, object]:
        return {
            "status": "healthy",
            "workers": {"busy": self.workers - self.slots.qsize(), "total": self.workers},
            "sessions": {
                "active": len(self.sessions),
                "max": self.max_sessions,
                "idle_timeout_s": self.session_timeout_s,
            },
            "languages": sorted({*self.languages, *SESSION_LANGUAGES}),
            "python": self.python,
            "isolation": self.isolation.describe(),
            "completed_runs": self.completed_runs,
            "uptime_s": round(time.time() - self.started, 1),
        }

    async def shutdown(self) -> None:
        for sid in list(self.sessions):
            await self.end_session(sid)
        shutil.rmtree(self.scratch_root, ignore_errors=True)


def build_app(sandbox: Sandbox) -> web.Application:
    routes = web.RouteTableDef()

    @routes.post("/execute")
    async def execute(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text="body must be JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="body must be a JSON object")
        return web.json_response(await sandbox.execute(body, request.headers.get("X-Session-ID")))

    @routes.get("/health")
    async def health(request: web.Request) -> web.Response:
        return web.json_response(sandbox.health())

    @routes.get("/sessions")
    async def sessions(request: web.Request) -> web.Response:
        listing = {sid: s.info() for sid, s in sandbox.sessions.items()}
        return web.json_response({"sessions": listing, "backend": "repl_worker"})

    @routes.delete("/sessions/{sid}")
    async def delete_session(request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        if not await sandbox.end_session(sid):
            raise web.HTTPNotFound(text=f"no session {sid!r}")
        return web.json_response({"message": f"session {sid} deleted"})

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        expiry = asyncio.ensure_future(sandbox.expire_sessions()) if sandbox.session_timeout_s > 0 else None
        yield
        if expiry:
            expiry.cancel()
        await sandbox.shutdown()

    app = web.Application(client_max_size=32 << 20)
    app.add_routes(routes)
    app.cleanup_ctx.append(lifecycle)
    return app


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m nemo_skills.code_execution.server", description=__doc__.split("\n")[0])
    env = os.environ.get
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(env("NEMO_SKILLS_SANDBOX_PORT", "6000")))
    p.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="concurrent runs (default 2*cores)")
    p.add_argument("--memory-limit-mb", type=int, default=2048, help="RLIMIT_AS per run")
    p.add_argument("--max-processes", type=int, default=256, help="RLIMIT_NPROC per run (per uid)")
    p.add_argument("--max-open-files", type=int, default=256)
    p.add_argument("--max-file-size-mb", type=int, default=64)
    p.add_argument("--max-output-bytes", type=int, default=1 << 20, help="per stream; the rest is cut")
    p.add_argument("--max-sessions", type=int, default=64)
    p.add_argument(
        "--session-timeout",
        type=float,
        default=float(env("NEMO_SKILLS_SANDBOX_SESSION_TIMEOUT", "1800")),
        help="end sessions idle this long (s); 0 = never",
    )
    p.add_argument("--uid-base", type=int, default=61000, help="first uid for sandboxed runs (when root)")
    p.add_argument("--python", default=None, help="interpreter for python/ipython runs (default: first usable)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limits = Limits(
        address_space_bytes=args.memory_limit_mb << 20,
        nproc=args.max_processes,
        nofile=args.max_open_files,
        fsize_bytes=args.max_file_size_mb << 20,
        output_bytes=args.max_output_bytes,
    )
    isolation, python = probe_isolation(limits, args.uid_base, python_candidates(args.python))
    if isolation.switch_uid and not become_subreaper():
        isolation.notes.append("could not become a child subreaper: orphaned zombies are left to PID 1")
    LOG.info("sandbox isolation: %s; python: %s", json.dumps(isolation.describe()), python)

    async def make_app() -> web.Application:
        sandbox = Sandbox(isolation, python, args.workers, args.uid_base, args.max_sessions, args.session_timeout)
        return build_app(sandbox)

    web.run_app(make_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
