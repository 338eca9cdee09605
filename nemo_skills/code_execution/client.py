"""Async client for the sandbox service."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp

LOG = logging.getLogger(__name__)
HTTP_GRACE_S = 10.0  # on top of the run's own timeout: queueing and process start-up


@dataclass
class ExecutionResult:
    process_status: str  # completed | timeout | error
    stdout: str
    stderr: str
    exit_code: int | None = None
    truncated: bool = False
    duration_s: float | None = None
    session_id: str | None = None
    new_session_created: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.process_status == "completed"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExecutionResult:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        return cls(
            **{k: v for k, v in data.items() if k in known},
            extra={k: v for k, v in data.items() if k not in known},
        )


class SandboxError(RuntimeError):
    """The sandbox answered with an error (bad request, no capacity) or could not be reached after retries."""


class SandboxClient:
    """``async with SandboxClient("http://127.0.0.1:6000") as sb: res = await sb.execute("print(1)")``.

    Connection errors (server starting, restarting, overloaded accept queue) are retried with exponential backoff and
    jitter; HTTP 4xx are not retried (the request is wrong); 502/503/504 are.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:6000",
        *,
        max_retries: int = 5,
        backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            self._owns_session = True
        return self._session

    async def _request(
        self, method: str, path: str, *, timeout: float, json: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        last: BaseException | None = None
        for attempt in range(self.max_retries + 1):
            try:
                async with self._http().request(
                    method,
                    self.base_url + path,
                    json=json,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=timeout),
                ) as resp:
                    if resp.status in (502, 503, 504):
                        last = SandboxError(f"{method} {path}: HTTP {resp.status}: {await resp.text()}")
                    elif resp.content_type == "application/json":
                        return resp.status, await resp.json()
                    else:
                        return resp.status, await resp.text()
            except (aiohttp.ClientConnectionError, ConnectionError) as exc:
                last = exc
            if attempt < self.max_retries:
                delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * (0.5 + random.random() / 2)
                LOG.debug("sandbox %s %s failed (%r); retry in %.2f s", method, path, last, delay)
                await asyncio.sleep(delay)
        raise SandboxError(f"sandbox at {self.base_url} unreachable after {self.max_retries + 1} tries: {last!r}")

    async def execute(
        self,
        code: str,
        language: str = "python",
        timeout: float = 10.0,
        std_input: str | None = None,
        session_id: str | None = None,
        max_output_characters: int | None = None,
    ) -> ExecutionResult:
        body: dict[str, Any] = {"generated_code": code, "language": language, "timeout": timeout}
        if std_input is not None:
            body["std_input"] = std_input
        if max_output_characters is not None:
            body["max_output_characters"] = max_output_characters
        headers = {"X-Session-ID": session_id} if session_id else None
        try:
            status, data = await self._request(
                "POST", "/execute", timeout=timeout + HTTP_GRACE_S, json=body, headers=headers
            )
        except asyncio.TimeoutError:
            return ExecutionResult("timeout", "", "Client timed out waiting for the sandbox", session_id=session_id)
        if status != 200 or not isinstance(data, dict):
            raise SandboxError(f"sandbox rejected the request (HTTP {status}): {data}")
        return ExecutionResult.from_json(data)

    async def delete_session(self, session_id: str) -> bool:
        """End a session; False when the server did not know it."""
        status, data = await self._request("DELETE", f"/sessions/{session_id}", timeout=30)
        if status not in (200, 404):
            raise SandboxError(f"deleting session {session_id} failed (HTTP {status}): {data}")
        return status == 200

    async def health(self, timeout: float = 5.0) -> dict[str, Any]:
        status, data = await self._request("GET", "/health", timeout=timeout)
        if status != 200 or not isinstance(data, dict):
            raise SandboxError(f"sandbox unhealthy (HTTP {status}): {data}")
        return data
