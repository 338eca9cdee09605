"""Fill a prompt config with one data row: OpenAI chat messages, or a text prompt through a chat template."""

from __future__ import annotations

import string
from typing import Any

from nemo_skills.errors import ConfigError
from nemo_skills.prompt.config import CodeTags, PromptConfig, load_code_tags, load_examples, load_prompt_config
from nemo_skills.prompt.few_shot import BM25Retriever, select_retrieved

Messages = list[dict[str, Any]]


def template_slots(template: str) -> set[str]:
    """The top-level field names a `str.format` template uses (`{a.b}` and `{a[0]}` count as `a`)."""
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    except ValueError as error:
        raise ConfigError(f"Invalid prompt template ({error}); literal braces must be doubled: {{{{ }}}}.") from None
    return {name.split(".")[0].split("[")[0] for name in names}


class Prompt:
    def __init__(
        self,
        config: PromptConfig,
        code_tags: CodeTags | None = None,
        examples_type: str | None = None,
        system_message: str | None = None,
        prompt_suffix: str = "",
    ):
        self.config = config
        self.code_tags = code_tags or CodeTags()
        self.system = config.system if system_message is None else system_message
        self.prompt_suffix = prompt_suffix
        few_shot = config.few_shot_examples
        self.examples_type = examples_type or few_shot.examples_type
        self.slots = template_slots(config.user) - {"examples"} - set(CodeTags.model_fields)
        self._retriever = None
        if few_shot.retrieval_field:
            if not few_shot.retrieval_file:
                raise ConfigError("few_shot_examples.retrieval_field needs few_shot_examples.retrieval_file.")
            self._retriever = BM25Retriever(few_shot.retrieval_file, few_shot.retrieval_field)
            self.slots.add(few_shot.retrieval_field)
        if self.examples_type and "{" in self.examples_type:
            self.slots |= template_slots(self.examples_type)  # e.g. examples_type=math_{topic}
        elif self.examples_type:
            load_examples(self.examples_type)  # fail now, not on the first row

    @classmethod
    def from_names(cls, prompt_config: str, code_tags: str | None = None, **kwargs: Any) -> Prompt:
        tags = load_code_tags(code_tags) if code_tags else None
        return cls(load_prompt_config(prompt_config), tags, **kwargs)

    def missing_fields(self, row: dict[str, Any]) -> list[str]:
        return sorted(slot for slot in self.slots if slot not in row)

    def examples_text(self, row: dict[str, Any], seed: int = 0) -> str:
        few_shot = self.config.few_shot_examples
        if self._retriever is not None:
            examples = select_retrieved(self._retriever, str(row[few_shot.retrieval_field]), few_shot, seed)
        elif self.examples_type:
            examples = load_examples(self.examples_type.format(**row))
        else:
            return ""
        if not examples:
            return ""
        tag_fields = self.code_tags.model_dump()
        body = "".join(self._render_example(example, tag_fields) for example in examples)
        return few_shot.prefix + body + few_shot.suffix

    def _render_example(self, example: dict[str, Any], tag_fields: dict[str, str]) -> str:
        text = self.config.few_shot_examples.template.format(**example)
        for name, value in tag_fields.items():
            text = text.replace("{" + name + "}", value)
        return text

    def fill(self, row: dict[str, Any], seed: int = 0) -> Messages:
        """The chat messages for one row. Raises KeyError naming a slot the row lacks."""
        fields = {**self.code_tags.model_dump(), **row, "examples": self.examples_text(row, seed)}
        user = self.config.user.format(**fields) + self.prompt_suffix
        messages: Messages = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": user})
        return messages


class ChatTemplateRenderer:
    """Renders chat messages to a text prompt with a (local) Hugging Face tokenizer's chat template."""

    def __init__(self, tokenizer_path: str, chat_template_kwargs: dict[str, Any] | None = None):
        from transformers import AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
        except (OSError, ValueError) as error:
            raise ConfigError(f"Cannot load tokenizer from {tokenizer_path!r} (set ++tokenizer): {error}") from None
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        # Servers tokenize a text prompt with the tokenizer's special tokens; a template that already starts with
        # BOS would then give the model two. Drop the template's own BOS when the tokenizer adds one itself.
        bos_id = self.tokenizer.bos_token_id
        ids = self.tokenizer("a")["input_ids"]
        self._strip_bos = self.tokenizer.bos_token if bos_id is not None and ids[:1] == [bos_id] else None

    def render(self, messages: Messages) -> str:
        if self.tokenizer.chat_template is None:
            bos = "" if self._strip_bos else self.tokenizer.bos_token or ""  # the server adds it otherwise
            return bos + "\n\n".join(message["content"] for message in messages)
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, **self.chat_template_kwargs
        )
        if self._strip_bos and text.startswith(self._strip_bos):
            text = text[len(self._strip_bos) :]
        return text
