"""The one async client: bounded concurrency, retries with back-off, per-request timeout, over any backend."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from nemo_skills.errors import ConfigError, ServerError
from nemo_skills.inference.model.backend import ModelBackend, get_backend
from nemo_skills.inference.model.config import InferenceConfig, ServerConfig
from nemo_skills.inference.model.transport import (
    AiohttpTransport,
    FatalRequestError,
    LiteLLMTransport,
    RetriableError,
    Transport,
)
from nemo_skills.inference.model.types import GenerationResult, Prompt

MAX_BACKOFF_S = 30.0


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)


class ModelClient:
    """Use as ``async with ModelClient(server, inference) as client: await client.generate(prompt)``."""

    def __init__(self, server: ServerConfig, inference: InferenceConfig, max_concurrent_requests: int = 512):
        self.server = server
        self.inference = inference
        self.backend: ModelBackend = get_backend(server)
        self.backend.validate(inference)
        self.base_url = self.backend.base_url()
        self.headers = {"Content-Type": "application/json", **self.backend.headers()}
        self.max_concurrent_requests = max_concurrent_requests
        self.stats = ClientStats()
        self._transport: Transport | None = None

    async def __aenter__(self) -> ModelClient:
        if self.server.transport == "aiohttp":
            self._transport = AiohttpTransport(self.max_concurrent_requests, self.server.connect_timeout_s)
        elif self.server.transport == "litellm":
            self._transport = LiteLLMTransport(self.backend.api_key())
        else:
            raise ConfigError(f"Unknown ++server.transport={self.server.transport}; use aiohttp or litellm.")
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._transport is not None:
            await self._transport.close()
            self._transport = None

    async def generate(self, prompt: Prompt, params: InferenceConfig | None = None) -> GenerationResult:
        params = params or self.inference
        request = self.backend.build_request(prompt, params)
        url = self.base_url + request.path
        body = await self._send_with_retries(url, request, params.timeout)
        try:
            return self.backend.parse_response(body, params)
        except ValueError as error:
            raise ServerError(f"Unexpected answer from {url}: {error}") from None

    async def _send_with_retries(self, url: str, request: Any, timeout: float) -> dict[str, Any]:
        if self._transport is None:
            raise RuntimeError("ModelClient must be used inside `async with`.")
        self.stats.requests += 1
        for attempt in range(self.server.max_retries + 1):
            try:
                return await self._transport.send(url, request, self.headers, timeout)
            except FatalRequestError as error:
                raise ServerError(f"{url} refused the request: {error}") from None
            except RetriableError as error:
                if attempt == self.server.max_retries:
                    raise ServerError(
                        f"{url} failed after {attempt + 1} attempts; last error: {error}. Check that the server is "
                        "up and that ++server.base_url (or host/port) points to it."
                    ) from None
                self.stats.retries += 1
                reason = str(error).split(":")[0]
                self.stats.retry_reasons[reason] = self.stats.retry_reasons.get(reason, 0) + 1
                await asyncio.sleep(self._backoff(attempt, error.retry_after))
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_BACKOFF_S)
        delay = min(MAX_BACKOFF_S, self.server.retry_backoff_s * 2**attempt)
        return delay * (0.5 + random.random() / 2)
