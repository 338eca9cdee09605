"""Megatron-LM's text generation server: OpenAI-style text completions at the server root, no /v1."""

from __future__ import annotations

from nemo_skills.inference.model.backend import MODEL_BACKENDS, ModelBackend


@MODEL_BACKENDS.register("megatron")
class MegatronBackend(ModelBackend):
    endpoint_types = frozenset({"text"})
    unsupported_params = frozenset({"top_k", "min_p", "repetition_penalty", "reasoning_effort"})

    def base_url(self) -> str:
        if self.server.base_url:
            return self.server.base_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"
