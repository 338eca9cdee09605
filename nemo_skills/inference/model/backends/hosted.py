"""Hosted APIs: OpenAI, Azure OpenAI and Google Gemini (through its OpenAI-compatible endpoint)."""

from __future__ import annotations

import os
import re
from typing import Any

from nemo_skills.errors import ConfigError
from nemo_skills.inference.model.backend import MODEL_BACKENDS, ModelBackend
from nemo_skills.inference.model.config import InferenceConfig
from nemo_skills.inference.model.types import HttpRequest, Prompt

_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


@MODEL_BACKENDS.register("openai")
class OpenAIBackend(ModelBackend):
    unsupported_params = frozenset({"top_k", "min_p", "repetition_penalty"})
    default_api_key_env_var = "OPENAI_API_KEY"

    def base_url(self) -> str:
        url = self.server.base_url or os.environ.get("NEMO_SKILLS_OPENAI_BASE_URL")
        return url.rstrip("/") if url else "https://api.openai.com/v1"

    def requires_api_key(self) -> bool:
        return "api.openai.com" in self.base_url()

    def is_reasoning_model(self) -> bool:
        return bool(_REASONING_MODEL.match(self.server.model.split("/")[-1]))

    def validate(self, params: InferenceConfig) -> None:
        super().validate(params)
        if self.is_reasoning_model() and (params.top_logprobs is not None or params.stop_phrases):
            raise ConfigError(
                f"Reasoning model {self.server.model!r} accepts neither logprobs nor stop phrases; drop "
                "++inference.top_logprobs and ++inference.stop_phrases."
            )

    def sampling_fields(self, params: InferenceConfig, chat: bool) -> dict[str, Any]:
        fields = super().sampling_fields(params, chat)
        if self.is_reasoning_model():
            # reasoning models accept only their default sampling and count output tokens differently
            fields.pop("temperature", None)
            fields.pop("top_p", None)
            if "max_tokens" in fields:
                fields["max_completion_tokens"] = fields.pop("max_tokens")
        return fields

    def build_request(self, prompt: Prompt, params: InferenceConfig) -> HttpRequest:
        request = super().build_request(prompt, params)
        if self.is_reasoning_model() and "messages" in request.payload:
            messages = [
                {**message, "role": "developer"} if message.get("role") == "system" else message
                for message in request.payload["messages"]
            ]
            request = HttpRequest(request.path, {**request.payload, "messages": messages})
        return request


@MODEL_BACKENDS.register("azureopenai")
class AzureOpenAIBackend(OpenAIBackend):
    """Deployment-style Azure URLs: <endpoint>/openai/deployments/<deployment>/chat/completions?api-version=..."""

    default_api_key_env_var = "AZURE_OPENAI_API_KEY"
    endpoint_types = frozenset({"chat"})
    default_api_version = "2024-10-21"

    def base_url(self) -> str:
        endpoint = self.server.base_url or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not endpoint:
            raise ConfigError(
                "Azure OpenAI needs ++server.base_url=https://<resource>.openai.azure.com (or set "
                "AZURE_OPENAI_ENDPOINT)."
            )
        return f"{endpoint.rstrip('/')}/openai/deployments/{self.server.model}"

    def requires_api_key(self) -> bool:
        return True

    def headers(self) -> dict[str, str]:
        key = self.api_key()
        return {"api-key": key} if key else {}

    def build_request(self, prompt: Prompt, params: InferenceConfig) -> HttpRequest:
        request = super().build_request(prompt, params)
        version = self.server.api_version or self.default_api_version
        return HttpRequest(f"{request.path}?api-version={version}", request.payload)


@MODEL_BACKENDS.register("gemini")
class GeminiBackend(ModelBackend):
    unsupported_params = frozenset({"top_k", "min_p", "repetition_penalty"})
    endpoint_types = frozenset({"chat"})
    default_api_key_env_var = "GEMINI_API_KEY"
    api_key_required = True

    def base_url(self) -> str:
        url = self.server.base_url or "https://generativelanguage.googleapis.com/v1beta/openai"
        return url.rstrip("/")
