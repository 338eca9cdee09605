"""SFT data from generation outputs: filtered, deduplicated, shuffled (seeded), in NeMo-RL's formats.

Output formats (NeMo-RL's `ResponseDataset`, `data.train.data_path`):
- `messages` (default): `{"messages": [{"role": "system", ...}, {"role": "user", ...}, {"role": "assistant", ...}]}`
  (the system message only when the prompt has one). NeMo-RL keeps a `messages` column as is and applies the
  model's chat template.
- `input_output`: `{"input": ..., "output": ...}`, NeMo-RL's defaults for `data.default.input_key`/`output_key`.
  `input` is the user message, or with `apply_chat_template` (needs `tokenizer`) the whole prompt rendered with the
  tokenizer's chat template (use it with a pass-through chat template on the NeMo-RL side). A prompt with a system
  message needs `apply_chat_template` here: the format has no place for it otherwise.
`keep_fields` copies more input fields (e.g. `id`, `expected_answer`) into every output row.

Steps, in order (each optional one is reported with its count): `correct_only`, `drop_truncated`
(`finish_reason == "length"`), `thinking` (with `remove`: rows whose thinking never ended), empty solutions
(always), `require_boxed`, `min_length`/`max_length` (of the solution, in `length_unit` chars or tokens of
`tokenizer`), `contamination_files`, `deduplicate` (exact prompt + solution), then the seeded shuffle,
`max_solutions_per_problem` (exact problem text) and `max_rows`.
The solution is the row's `generation`; graded files keep the text with thinking in `generation_with_thinking`,
which `thinking=keep` uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.training.data.common import (
    CommonDataConfig,
    Funnel,
    PreparationSummary,
    apply_order_and_limits,
    check_output_file,
    load_contamination,
    normalize_problem,
    write_jsonl,
    write_summary,
)
from nemo_skills.training.data.prompting import Messages, PromptBuilder, PromptOptions
from nemo_skills.training.data.rows import SourceRow, check_correctness_mode, expand_inputs, is_correct, read_rows

if TYPE_CHECKING:
    from nemo_skills.prompt.prompt import ChatTemplateRenderer

SFT_FORMATS = ("messages", "input_output")


@dataclass
class SftDataConfig(CommonDataConfig):
    output_format: str = "messages"  # messages | input_output
    generation_key: str = "generation"
    correct_only: Optional[str] = None  # symbolic | judge | any | both; None: keep incorrect solutions too
    drop_truncated: bool = True  # drop rows with finish_reason == "length"
    thinking: str = "keep"  # keep | remove the <think>...</think> part of solutions
    thinking_begin: str = "<think>"
    thinking_end: str = "</think>"
    require_boxed: bool = False  # drop solutions without a (closed) \boxed{...} answer
    min_length: Optional[int] = None  # of the solution, in length_unit
    max_length: Optional[int] = None
    length_unit: str = "chars"  # chars | tokens (of `tokenizer`)
    tokenizer: Optional[str] = None  # Hugging Face tokenizer (path or name) for tokens and apply_chat_template
    apply_chat_template: bool = False  # input_output only: `input` rendered with the tokenizer's chat template
    max_solutions_per_problem: Optional[int] = None
    keep_fields: list[str] = field(default_factory=list)


@dataclass
class Example:
    row: SourceRow
    problem: str
    prompt: Messages
    solution: Optional[str]  # None: thinking was to be removed but never ended


def _solution(row: SourceRow, config: SftDataConfig) -> Optional[str]:
    key = config.generation_key
    if key not in row.data:
        raise InputError(f"{row.where}: no `{key}` field; pass generation outputs (or set generation_key).")
    text = row.data.get(f"{key}_with_thinking") or row.data[key]
    text = "" if text is None else str(text)
    if config.thinking == "keep":
        return text
    if config.thinking_end in text:
        return text.rsplit(config.thinking_end, 1)[1].lstrip()
    return None if config.thinking_begin in text else text


def _check(config: SftDataConfig) -> None:
    if config.output_format not in SFT_FORMATS:
        raise ConfigError(f"Unknown output_format {config.output_format!r}; choose one of {', '.join(SFT_FORMATS)}.")
    if config.correct_only is not None:
        check_correctness_mode(config.correct_only)
    if config.thinking not in ("keep", "remove"):
        raise ConfigError(f"thinking must be keep or remove, got {config.thinking!r}.")
    if config.length_unit not in ("chars", "tokens"):
        raise ConfigError(f"length_unit must be chars or tokens, got {config.length_unit!r}.")
    needs_tokenizer = config.apply_chat_template or (
        config.length_unit == "tokens" and (config.min_length is not None or config.max_length is not None)
    )
    if needs_tokenizer and not config.tokenizer:
        raise ConfigError("Token lengths and apply_chat_template need a tokenizer (--tokenizer / ++tokenizer).")
    if config.apply_chat_template and config.output_format != "input_output":
        raise ConfigError("apply_chat_template only applies to output_format=input_output.")


def _length_of(config: SftDataConfig) -> Callable[[str], int]:
    if config.length_unit == "chars":
        return len
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(config.tokenizer)
    except (OSError, ValueError) as error:
        raise ConfigError(f"Cannot load tokenizer {config.tokenizer!r}: {error}") from None
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _filter(funnel: Funnel[Example], config: SftDataConfig) -> None:
    if config.correct_only is not None:
        funnel.keep(
            "correct_only", f"not correct ({config.correct_only})", lambda e: is_correct(e.row, config.correct_only)
        )
    if config.drop_truncated:
        funnel.keep("drop_truncated", "finish_reason == length", lambda e: e.row.data.get("finish_reason") != "length")
    if config.thinking == "remove":
        funnel.keep("thinking", f"{config.thinking_begin} never closed", lambda e: e.solution is not None)
    hint = f"Check that `{config.generation_key}` holds the solutions."
    funnel.keep("empty_solution", "empty solution", lambda e: bool(e.solution and e.solution.strip()), hint)
    if config.require_boxed:
        from nemo_skills.evaluation.math_grader import extract_answer

        funnel.keep("require_boxed", "no \\boxed{} answer", lambda e: extract_answer(e.solution) is not None)
    if config.min_length is not None or config.max_length is not None:
        length = _length_of(config)
        low, high = config.min_length or 0, config.max_length if config.max_length is not None else float("inf")
        reason = f"solution length outside [{low}, {high}] {config.length_unit}"
        funnel.keep("min_length/max_length", reason, lambda e: low <= length(e.solution) <= high)
    if config.contamination_files:
        banned = load_contamination(config.contamination_files, config.contamination_key)
        funnel.keep(
            "contamination_files",
            "problem in a contamination file",
            lambda e: normalize_problem(e.problem) not in banned,
        )
    if config.deduplicate:
        seen: set[str] = set()

        def first(example: Example) -> bool:
            key = json.dumps([example.prompt, example.solution], ensure_ascii=False)
            if key in seen:
                return False
            seen.add(key)
            return True

        funnel.keep("deduplicate", "exact duplicate of an earlier prompt + solution", first)


def _renderer(config: SftDataConfig) -> ChatTemplateRenderer | None:
    if not config.apply_chat_template:
        return None
    from nemo_skills.prompt.prompt import ChatTemplateRenderer

    return ChatTemplateRenderer(config.tokenizer)  # type: ignore[arg-type]


def _record(example: Example, config: SftDataConfig, renderer: ChatTemplateRenderer | None) -> dict[str, Any]:
    if config.output_format == "messages":
        record: dict[str, Any] = {"messages": [*example.prompt, {"role": "assistant", "content": example.solution}]}
    elif renderer is not None:
        record = {"input": renderer.render(example.prompt), "output": example.solution}
    else:
        if len(example.prompt) != 1 or example.prompt[0]["role"] != "user":
            raise InputError(
                f"{example.row.where}: the prompt has {[m['role'] for m in example.prompt]} messages, but "
                "input_output holds one user message; use output_format=messages or apply_chat_template."
            )
        record = {"input": example.prompt[0]["content"], "output": example.solution}
    for name in config.keep_fields:
        if name not in example.row.data:
            raise InputError(f"{example.row.where}: no `{name}` field to keep (keep_fields).")
        record[name] = example.row.data[name]
    return record


def prepare_sft_data(config: SftDataConfig) -> PreparationSummary:
    """Filter generation outputs into SFT data, write it to `config.output_file` (+ `.summary.json`)."""
    _check(config)
    output = check_output_file(config, (".jsonl",))
    files = expand_inputs(config.input_files)
    builder = PromptBuilder(PromptOptions(config.prompt_config, config.system_message, config.problem_key))
    examples = [
        Example(row, builder.problem_text(row), builder.messages(row), _solution(row, config))
        for row in read_rows(files)
    ]
    funnel = Funnel(examples, ", ".join(map(str, files)))
    _filter(funnel, config)
    apply_order_and_limits(funnel, config, lambda e: e.problem, config.max_solutions_per_problem)
    renderer = _renderer(config)
    records = [_record(example, config, renderer) for example in funnel.items]
    write_jsonl(output, records)
    return write_summary("sft", files, len(examples), funnel, len(records), output, config)
