"""The narrow interface every server type implements, and the OpenAI-compatible request/response mapping."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from nemo_skills.errors import ConfigError
from nemo_skills.inference.model.config import InferenceConfig, ServerConfig
from nemo_skills.inference.model.types import GenerationResult, HttpRequest, Prompt
from nemo_skills.utils.registry import Registry

MODEL_BACKENDS: Registry[type[ModelBackend]] = Registry(
    "server type", ["nemo_skills.inference.model.backends"], entry_point_group="nemo_skills.model_backends"
)


class ModelBackend:
    """Builds requests for one kind of server and parses its answers. No I/O happens here."""

    # sampling parameters the server cannot honour; a non-default value for them is a configuration error
    unsupported_params: ClassVar[frozenset[str]] = frozenset()
    endpoint_types: ClassVar[frozenset[str]] = frozenset({"chat", "text"})
    default_api_key_env_var: ClassVar[str | None] = None
    api_key_required: ClassVar[bool] = False

    def __init__(self, server: ServerConfig):
        self.server = server

    # ---- connection ----
    def base_url(self) -> str:
        if self.server.base_url:
            return self.server.base_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}/v1"

    def api_key(self) -> str | None:
        env_var = self.server.api_key_env_var or self.default_api_key_env_var
        if env_var is None:
            return None
        key = os.environ.get(env_var)
        if not key and (self.requires_api_key() or self.server.api_key_env_var):
            raise ConfigError(
                f"Server type {self.server.server_type!r} needs an API key: set the environment variable {env_var}."
            )
        return key or None

    def requires_api_key(self) -> bool:
        return self.api_key_required

    def headers(self) -> dict[str, str]:
        key = self.api_key()
        return {"Authorization": f"Bearer {key}"} if key else {}

    # ---- requests ----
    def validate(self, params: InferenceConfig) -> None:
        """Reject, once and before any request, sampling values this server would ignore or refuse."""
        if params.endpoint_type not in self.endpoint_types:
            raise ConfigError(
                f"Server type {self.server.server_type!r} does not support ++inference.endpoint_type="
                f"{params.endpoint_type}; use one of {sorted(self.endpoint_types)}."
            )
        if params.endpoint_type == "text" and params.tokens_to_generate is None:
            raise ConfigError(
                "The text endpoint needs ++inference.tokens_to_generate (OpenAI-style completions stop after 16 "
                "tokens by default)."
            )
        defaults = InferenceConfig()
        for name in sorted(self.unsupported_params):
            if name == "top_k" and params.top_k <= 0:  # 0 and -1 both mean "no top-k"
                continue
            if getattr(params, name) != getattr(defaults, name):
                raise ConfigError(
                    f"Server type {self.server.server_type!r} does not support ++inference.{name} "
                    f"(got {getattr(params, name)!r}); remove it or use a server that does."
                )

    def build_request(self, prompt: Prompt, params: InferenceConfig) -> HttpRequest:
        if params.endpoint_type == "chat":
            if not isinstance(prompt, list):
                raise ConfigError("The chat endpoint needs a list of messages; render a string prompt with text.")
            payload = {"model": self.server.model, "messages": prompt, **self.sampling_fields(params, chat=True)}
            return HttpRequest("/chat/completions", payload)
        if not isinstance(prompt, str):
            raise ConfigError("The text endpoint needs a string prompt: set ++tokenizer to render chat templates.")
        payload = {"model": self.server.model, "prompt": prompt, **self.sampling_fields(params, chat=False)}
        return HttpRequest("/completions", payload)

    def sampling_fields(self, params: InferenceConfig, chat: bool) -> dict[str, Any]:
        """The OpenAI sampling fields; subclasses add their server's extensions."""
        fields: dict[str, Any] = {"temperature": params.temperature, "top_p": params.top_p, "seed": params.random_seed}
        if params.tokens_to_generate is not None:
            fields["max_tokens"] = params.tokens_to_generate
        if params.stop_phrases:
            fields["stop"] = list(params.stop_phrases)
        if params.top_logprobs is not None:
            if chat:
                fields["logprobs"] = True
                fields["top_logprobs"] = params.top_logprobs
            else:
                fields["logprobs"] = params.top_logprobs
        if params.reasoning_effort is not None:
            fields["reasoning_effort"] = params.reasoning_effort
        fields.update(params.extra_body)
        return fields

    # ---- responses ----
    def parse_response(self, body: dict[str, Any], params: InferenceConfig) -> GenerationResult:
        try:
            choice = body["choices"][0]
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"response has no choices: {str(body)[:300]}") from None
        usage = body.get("usage") or {}
        result = GenerationResult(
            generation="",
            finish_reason=choice.get("finish_reason"),
            num_generated_tokens=usage.get("completion_tokens"),
            num_input_tokens=usage.get("prompt_tokens"),
            stop_reason=_matched_stop(choice),
        )
        if "message" in choice:
            message = choice["message"] or {}
            result.generation = message.get("content") or ""
            result.reasoning_content = message.get("reasoning_content") or message.get("reasoning")
            if message.get("tool_calls"):
                result.extra["tool_calls"] = message["tool_calls"]
            _parse_chat_logprobs(choice.get("logprobs"), result)
        else:
            result.generation = choice.get("text") or ""
            _parse_text_logprobs(choice.get("logprobs"), result)
        return result


def _matched_stop(choice: dict[str, Any]) -> str | None:
    # vLLM reports the matched stop string as `stop_reason`, SGLang as `matched_stop`; both use ints for stop tokens
    value = choice.get("stop_reason", choice.get("matched_stop"))
    return value if isinstance(value, str) else None


def _parse_chat_logprobs(logprobs: dict[str, Any] | None, result: GenerationResult) -> None:
    if not logprobs or not logprobs.get("content"):
        return
    content = logprobs["content"]
    result.tokens = [item["token"] for item in content]
    result.logprobs = [item["logprob"] for item in content]
    if any(item.get("top_logprobs") for item in content):
        result.top_logprobs = [
            {top["token"]: top["logprob"] for top in item.get("top_logprobs") or []} for item in content
        ]


def _parse_text_logprobs(logprobs: dict[str, Any] | None, result: GenerationResult) -> None:
    if not logprobs or logprobs.get("tokens") is None:
        return
    result.tokens = list(logprobs["tokens"])
    result.logprobs = list(logprobs.get("token_logprobs") or [])
    if logprobs.get("top_logprobs"):
        result.top_logprobs = [dict(item or {}) for item in logprobs["top_logprobs"]]


def get_backend(server: ServerConfig) -> ModelBackend:
    return MODEL_BACKENDS.get(server.server_type)(server)
