"""Servers we start ourselves: vLLM, SGLang and TensorRT-LLM, all OpenAI-compatible with sampling extensions."""

from __future__ import annotations

from typing import Any

from nemo_skills.inference.model.backend import MODEL_BACKENDS, ModelBackend
from nemo_skills.inference.model.config import InferenceConfig


class SelfHostedBackend(ModelBackend):
    """Accepts top_k, min_p and repetition_penalty as top-level request fields (vLLM, SGLang, trtllm-serve)."""

    def sampling_fields(self, params: InferenceConfig, chat: bool) -> dict[str, Any]:
        fields = super().sampling_fields(params, chat)
        extensions: dict[str, Any] = {"min_p": params.min_p, "repetition_penalty": params.repetition_penalty}
        if params.top_k > 0:
            extensions["top_k"] = params.top_k
        # extra_body keeps the last word
        return {**fields, **extensions, **params.extra_body}


@MODEL_BACKENDS.register("vllm")
class VLLMBackend(SelfHostedBackend):
    def sampling_fields(self, params: InferenceConfig, chat: bool) -> dict[str, Any]:
        fields = super().sampling_fields(params, chat)
        if not chat:
            fields.setdefault("skip_special_tokens", False)
        fields.setdefault("spaces_between_special_tokens", False)
        return fields


@MODEL_BACKENDS.register("sglang")
class SGLangBackend(SelfHostedBackend):
    pass


@MODEL_BACKENDS.register("trtllm")
class TRTLLMBackend(SelfHostedBackend):
    pass


@MODEL_BACKENDS.register("generic")
class GenericBackend(ModelBackend):
    """Any OpenAI-compatible server: only standard fields, extensions only when asked for (they may be refused)."""

    def sampling_fields(self, params: InferenceConfig, chat: bool) -> dict[str, Any]:
        fields = super().sampling_fields(params, chat)
        defaults = InferenceConfig()
        if params.top_k > 0:
            fields["top_k"] = params.top_k
        for name in ("min_p", "repetition_penalty"):
            if getattr(params, name) != getattr(defaults, name):
                fields[name] = getattr(params, name)
        return {**fields, **params.extra_body}
