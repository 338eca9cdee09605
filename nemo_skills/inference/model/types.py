"""What flows between the generation loop, the client and the backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Prompt = str | list[dict[str, Any]]


@dataclass(frozen=True)
class HttpRequest:
    path: str  # appended to the backend's base URL, e.g. "/chat/completions"
    payload: dict[str, Any]


@dataclass
class GenerationResult:
    generation: str
    finish_reason: str | None = None
    num_generated_tokens: int | None = None
    num_input_tokens: int | None = None
    stop_reason: str | None = None  # the stop phrase that ended the generation, when the server reports it
    reasoning_content: str | None = None
    logprobs: list[float] | None = None
    tokens: list[str] | None = None
    top_logprobs: list[dict[str, float]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "generation": self.generation,
            "finish_reason": self.finish_reason,
            "num_generated_tokens": self.num_generated_tokens,
        }
        optional = {
            "num_input_tokens": self.num_input_tokens,
            "stop_reason": self.stop_reason,
            "reasoning_content": self.reasoning_content,
            "logprobs": self.logprobs,
            "tokens": self.tokens,
            "top_logprobs": self.top_logprobs,
        }
        record.update({key: value for key, value in optional.items() if value is not None})
        record.update(self.extra)
        return record
