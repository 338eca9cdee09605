"""Generation with code execution: when the model closes a code block, run it in the sandbox, append the output in
the prompt's code tags, and let the model continue (up to `max_code_executions` times per sample)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, replace
from typing import Any, Optional

from nemo_skills.inference.model.config import InferenceConfig
from nemo_skills.inference.model.types import GenerationResult, Prompt
from nemo_skills.prompt.config import CodeTags


@dataclass
class CodeExecutionConfig:
    max_code_executions: int = 8  # per sample
    code_execution_timeout: float = 10.0  # seconds, per execution
    max_code_output_characters: int = 1000
    code_execution_language: str = "ipython"  # ipython keeps state between the blocks of one sample
    sandbox_host: Optional[str] = None  # default: $NEMO_SKILLS_SANDBOX_HOST, else 127.0.0.1
    sandbox_port: Optional[int] = None  # default: $NEMO_SKILLS_SANDBOX_PORT, else 6000

    def sandbox_url(self) -> str:
        host = self.sandbox_host or os.environ.get("NEMO_SKILLS_SANDBOX_HOST", "127.0.0.1")
        port = self.sandbox_port or int(os.environ.get("NEMO_SKILLS_SANDBOX_PORT", "6000"))
        return f"http://{host}:{port}"


def open_code_block(text: str, tags: CodeTags) -> str | None:
    """The code of a block the text opened last and has not closed, else None."""
    start = text.rfind(tags.code_begin)
    if start < 0:
        return None
    code = text[start + len(tags.code_begin) :]
    return None if tags.code_end in code else code


def format_output(stdout: str, stderr: str, status: str, tags: CodeTags, max_characters: int) -> str:
    """The execution's output in the prompt's tags (`qwen`: raw output; `llama`: status with stdout/stderr parts)."""

    def cut(text: str) -> str:
        return text if len(text) <= max_characters else text[:max_characters] + "\n<output cut>\n"

    if tags.code_output_format == "llama":
        body = f"[status] {status}\n"
        if stdout:
            body += f"[stdout]\n{cut(stdout)}[/stdout]\n"
        if stderr:
            body += f"[stderr]\n{cut(stderr)}[/stderr]\n"
    else:
        body = cut(stdout + stderr)
        if status == "timeout":
            body += "Execution timed out\n"
    return tags.code_output_begin + body + tags.code_output_end


def continued(prompt: Prompt, text: str, params: InferenceConfig) -> tuple[Prompt, InferenceConfig]:
    """The request that continues `text`: appended to a text prompt, or as the open assistant message of a chat."""
    if not text:
        return prompt, params
    if isinstance(prompt, str):
        return prompt + text, params
    # vLLM and SGLang continue a final assistant message with these chat-template options
    extra = {**params.extra_body, "continue_final_message": True, "add_generation_prompt": False}
    return [*prompt, {"role": "assistant", "content": text}], replace(params, extra_body=extra)


class CodeExecutionGenerator:
    def __init__(self, client: Any, sandbox: Any, tags: CodeTags, config: CodeExecutionConfig):
        self.client = client
        self.sandbox = sandbox
        self.tags = tags
        self.config = config

    async def generate(self, prompt: Prompt, params: InferenceConfig | None = None) -> GenerationResult:
        params = params or self.client.inference
        params = replace(params, stop_phrases=[*params.stop_phrases, self.tags.code_end])
        session_id = uuid.uuid4().hex
        text, tokens, rounds, timeouts = "", 0, 0, 0
        finish: str | None = None
        try:
            while True:
                budget = None if params.tokens_to_generate is None else params.tokens_to_generate - tokens
                if budget is not None and budget <= 0:
                    finish = "length"
                    break
                request, request_params = continued(prompt, text, replace(params, tokens_to_generate=budget))
                result = await self.client.generate(request, request_params)
                text += result.generation
                tokens += result.num_generated_tokens or 0
                finish = result.finish_reason
                code = open_code_block(text, self.tags)
                stopped_at_code_end = finish == "stop" and result.stop_reason in (None, self.tags.code_end)
                if code is None or not stopped_at_code_end or rounds >= self.config.max_code_executions:
                    break
                execution = await self.sandbox.execute(
                    code,
                    language=self.config.code_execution_language,
                    timeout=self.config.code_execution_timeout,
                    session_id=session_id,
                )
                rounds += 1
                timeouts += execution.process_status == "timeout"
                text += self.tags.code_end + format_output(
                    execution.stdout,
                    execution.stderr,
                    execution.process_status,
                    self.tags,
                    self.config.max_code_output_characters,
                )
        finally:
            if rounds:
                try:
                    await self.sandbox.delete_session(session_id)
                except Exception:  # noqa: BLE001 - a session that is gone already is fine
                    pass
        return GenerationResult(
            generation=text,
            finish_reason=finish,
            num_generated_tokens=tokens,
            extra={"code_rounds_executed": rounds, "num_code_timeouts": timeouts},
        )
