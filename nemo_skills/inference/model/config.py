"""Typed configs of the model client: which server to talk to and how to sample.

These are plain dataclasses so that Hydra/OmegaConf can type-check `++server.*` and `++inference.*` overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional  # noqa: UP035 - OmegaConf needs typing generics


@dataclass
class InferenceConfig:
    """Sampling parameters shared by every backend; each backend maps (or rejects) them."""

    endpoint_type: str = "chat"  # chat (messages) | text (a rendered prompt string)
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = -1  # -1 disables
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    tokens_to_generate: Optional[int] = None  # None: the server's default
    random_seed: int = 0
    stop_phrases: list[str] = field(default_factory=list)
    top_logprobs: Optional[int] = None  # None: no logprobs; 0: logprobs of the sampled tokens only
    reasoning_effort: Optional[str] = None
    timeout: float = 14400.0  # seconds, per request
    extra_body: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServerConfig:
    """Where the model is served and how the client talks to it."""

    server_type: str = "vllm"
    model: str = ""  # the served model name (or path)
    base_url: Optional[str] = None  # full base URL, e.g. http://127.0.0.1:5000/v1; else built from host/port
    host: str = "127.0.0.1"
    port: int = 5000
    api_key_env_var: Optional[str] = None  # name of the environment variable that holds the key
    api_version: Optional[str] = None  # Azure OpenAI only
    max_retries: int = 6
    retry_backoff_s: float = 0.5  # first back-off; doubles per attempt, with jitter, capped at 30 s
    connect_timeout_s: float = 30.0
    transport: str = "aiohttp"  # aiohttp (fast path) | litellm
