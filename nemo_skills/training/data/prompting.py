"""The prompt side of a training example: the chat messages a row's problem turns into.

- With `prompt_config` (`generic/math`, or a `.yaml` path): the prompt config filled with the row's fields,
  exactly as `ns generate` fills it (system message, user template, few-shot examples).
- Without one: the row's `problem_key` field (default `problem`) as the user message, as is; a row without it
  but with chat `messages` (a chat-input generation) uses those messages.
`system_message` replaces the prompt config's system message, or adds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from nemo_skills.errors import InputError
from nemo_skills.training.data.rows import SourceRow

Messages = list[dict[str, Any]]
ROLES = ("system", "user", "assistant", "tool")


@dataclass
class PromptOptions:
    prompt_config: Optional[str] = None  # e.g. generic/math; None: the problem as is
    system_message: Optional[str] = None  # replaces (or adds) the system message
    problem_key: str = "problem"


class PromptBuilder:
    def __init__(self, options: PromptOptions):
        self.options = options
        self.prompt = None
        if options.prompt_config:
            from nemo_skills.prompt.prompt import Prompt

            self.prompt = Prompt.from_names(options.prompt_config, system_message=options.system_message)

    def messages(self, row: SourceRow) -> Messages:
        if self.prompt is not None:
            missing = self.prompt.missing_fields(row.data)
            if missing:
                raise InputError(
                    f"{row.where}: prompt config {self.options.prompt_config} needs the field(s) "
                    f"{', '.join(missing)}, which this row lacks."
                )
            return self.prompt.fill(row.data)
        system = [{"role": "system", "content": self.options.system_message}] if self.options.system_message else []
        key = self.options.problem_key
        if key in row.data and row.data[key] is not None:
            return [*system, {"role": "user", "content": str(row.data[key])}]
        if "messages" in row.data:
            messages = chat_messages(row, "messages")
            if system:
                messages = [*system, *(m for m in messages if m["role"] != "system")]
            return messages
        raise InputError(f"{row.where}: no `{key}` field (nor chat `messages`); set problem_key to the problem field.")

    def problem_text(self, row: SourceRow) -> str:
        """The problem itself (for deduplication, per-problem caps and contamination checks)."""
        key = self.options.problem_key
        if key in row.data and row.data[key] is not None:
            return str(row.data[key])
        if "messages" in row.data:
            users = [m["content"] for m in chat_messages(row, "messages") if m["role"] == "user"]
            if users:
                return str(users[-1])
        raise InputError(f"{row.where}: no `{key}` field (nor a user message); set problem_key to the problem field.")


def chat_messages(row: SourceRow, key: str) -> Messages:
    value = row.data.get(key)
    if not isinstance(value, list) or not value:
        raise InputError(f"{row.where}: `{key}` must be a non-empty list of {{role, content}} messages.")
    for message in value:
        if not isinstance(message, dict) or message.get("role") not in ROLES or "content" not in message:
            raise InputError(
                f"{row.where}: every message in `{key}` needs a `role` ({', '.join(ROLES)}) and `content`; "
                f"got {str(message)[:80]}."
            )
    return [dict(message) for message in value]
