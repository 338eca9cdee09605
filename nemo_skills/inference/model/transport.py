"""HTTP transports. aiohttp is the fast path; litellm is available for its provider coverage, at a CPU cost."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Protocol

from nemo_skills.inference.model.types import HttpRequest

RETRIABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class RetriableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class FatalRequestError(Exception):
    """The server answered, but refused the request (a 4xx other than rate limits): retrying cannot help."""


class Transport(Protocol):
    async def send(
        self, url: str, request: HttpRequest, headers: dict[str, str], timeout: float
    ) -> dict[str, Any]: ...

    async def close(self) -> None: ...


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class AiohttpTransport:
    def __init__(self, max_connections: int, connect_timeout_s: float):
        import aiohttp

        self._aiohttp = aiohttp
        self._connect_timeout_s = connect_timeout_s
        connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(connector=connector, json_serialize=json.dumps)

    async def send(self, url: str, request: HttpRequest, headers: dict[str, str], timeout: float) -> dict[str, Any]:
        aiohttp = self._aiohttp
        client_timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=self._connect_timeout_s)
        data = json.dumps(request.payload).encode()
        try:
            async with self._session.post(url, data=data, headers=headers, timeout=client_timeout) as response:
                body = await response.read()
                status = response.status
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except asyncio.TimeoutError:
            raise RetriableError(f"no answer within {timeout:g} s") from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            raise RetriableError(f"{type(error).__name__}: {error}") from None
        if status == 200:
            try:
                return json.loads(body)
            except ValueError:
                raise RetriableError(f"HTTP 200 with a body that is not JSON: {body[:200]!r}") from None
        message = f"HTTP {status}: {body[:500].decode(errors='replace')}"
        if status in RETRIABLE_STATUSES:
            raise RetriableError(message, retry_after)
        raise FatalRequestError(message)

    async def close(self) -> None:
        await self._session.close()


class LiteLLMTransport:
    """Sends the same OpenAI-compatible payload through litellm (provider `openai` with a custom base URL)."""

    _standard_fields = frozenset(
        {
            "model",
            "messages",
            "prompt",
            "temperature",
            "top_p",
            "max_tokens",
            "max_completion_tokens",
            "stop",
            "seed",
            "logprobs",
            "top_logprobs",
            "reasoning_effort",
            "n",
            "presence_penalty",
            "frequency_penalty",
        }
    )

    def __init__(self, api_key: str | None):
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        self._litellm = litellm
        self._api_key = api_key or "EMPTY"

    async def send(self, url: str, request: HttpRequest, headers: dict[str, str], timeout: float) -> dict[str, Any]:
        litellm = self._litellm
        payload = dict(request.payload)
        base_url = url[: -len(request.path)]
        kwargs = {key: payload.pop(key) for key in list(payload) if key in self._standard_fields}
        kwargs["model"] = "openai/" + kwargs["model"]
        call = litellm.acompletion if "messages" in kwargs else litellm.atext_completion
        try:
            extra_headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "authorization")}
            response = await call(
                api_base=base_url,
                api_key=self._api_key,
                timeout=timeout,
                max_retries=0,
                extra_body=payload,
                extra_headers=extra_headers or None,
                **kwargs,
            )
        except (
            litellm.RateLimitError,
            litellm.InternalServerError,
            litellm.ServiceUnavailableError,
            litellm.APIConnectionError,
            litellm.Timeout,
        ) as error:
            raise RetriableError(f"{type(error).__name__}: {error}") from None
        except Exception as error:  # 4xx and the rest: the server refused, retrying cannot help
            raise FatalRequestError(f"{type(error).__name__}: {error}") from None
        return response.model_dump()

    async def close(self) -> None:
        return None
