"""RL (GRPO/PPO) data: one prompt + ground truth per problem, from benchmark files or generation outputs.

Output formats:
- `nemo_rl` (JSONL) for NeMo-RL's GRPO math setup (`grpo_math_1B.yaml`): `data.train.data_path` read by
  `ResponseDataset`, whose `data.default.input_key`/`output_key` default to `input`/`output`; it turns them into
  `messages = [user: input, assistant: output]`. `data.default.processor: math_hf_data_processor` then sends
  `messages[0]` (the user prompt, formatted with `data.default.prompt_file` when that is set) to the policy and
  passes `messages[1]` as `extra_env_info.ground_truth` to the `math` environment (`data.default.env_name`).
  Rows: `{"input": <user prompt>, "output": <ground truth>, "problem": ..., "expected_answer": ...}`; the last two
  are what NeMo-RL's `math_data_processor` reads instead. With a `prompt_config` here, set
  `data.default.prompt_file=null` there, or the prompt is wrapped twice. That processor sends only the user
  message, so a prompt with a system message is refused for this format.
- `verl` (parquet, written with pyarrow) in veRL's documented schema: `data_source` (selects the reward
  function; `data.reward_fn_key`), `prompt` (chat messages, list of {role, content}), `ability`,
  `reward_model` {`style`: "rule", `ground_truth`}, `extra_info` {`index`, `split`, `problem`}.
The ground truth is the row's `answer_key` field (`expected_answer`): text as is, numbers as text, lists and
objects (e.g. an expected tool call) as JSON.

Steps, in order: `drop_missing_answer` (otherwise a row without an answer is an error), `min_pass_rate`/
`max_pass_rate` (share of a problem's rows that are correct by `correctness`, over every row of that problem: use
several seeds' outputs to keep problems that are neither always nor never solved), `contamination_files`,
`deduplicate` (exact problem text; keep the first), then the seeded shuffle and `max_rows`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.training.data.common import (
    CommonDataConfig,
    Funnel,
    PreparationSummary,
    apply_order_and_limits,
    check_output_file,
    load_contamination,
    normalize_problem,
    write_atomic,
    write_jsonl,
    write_summary,
)
from nemo_skills.training.data.prompting import Messages, PromptBuilder, PromptOptions
from nemo_skills.training.data.rows import SourceRow, check_correctness_mode, expand_inputs, is_correct, read_rows

RL_FORMATS = {"nemo_rl": (".jsonl",), "verl": (".parquet",)}


@dataclass
class RlDataConfig(CommonDataConfig):
    output_format: str = "nemo_rl"  # nemo_rl (JSONL) | verl (parquet)
    answer_key: str = "expected_answer"
    drop_missing_answer: bool = False  # drop rows without an answer instead of failing
    correctness: str = "symbolic"  # symbolic | judge | any | both: what min/max_pass_rate count
    min_pass_rate: Optional[float] = None
    max_pass_rate: Optional[float] = None
    data_source: str = "nemo_skills_math"  # verl: data_source column
    ability: str = "math"  # verl: ability column
    split: str = "train"  # verl: extra_info.split


@dataclass
class Problem:
    row: SourceRow
    problem: str
    prompt: Messages
    answer: Optional[str]


def ground_truth(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _check(config: RlDataConfig) -> None:
    if config.output_format not in RL_FORMATS:
        raise ConfigError(f"Unknown output_format {config.output_format!r}; choose one of {', '.join(RL_FORMATS)}.")
    check_correctness_mode(config.correctness)
    for name in ("min_pass_rate", "max_pass_rate"):
        value = getattr(config, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise ConfigError(f"{name} must be between 0 and 1, got {value}.")


def _pass_rates(funnel: Funnel[Problem], config: RlDataConfig) -> None:
    totals: dict[str, list[int]] = {}
    for item in funnel.items:
        counts = totals.setdefault(item.problem, [0, 0])
        counts[0] += is_correct(item.row, config.correctness)
        counts[1] += 1
    low = config.min_pass_rate if config.min_pass_rate is not None else 0.0
    high = config.max_pass_rate if config.max_pass_rate is not None else 1.0
    reason = f"pass rate ({config.correctness}) outside [{low}, {high}]"
    funnel.keep(
        "min_pass_rate/max_pass_rate", reason, lambda p: low <= totals[p.problem][0] / totals[p.problem][1] <= high
    )


def _filter(funnel: Funnel[Problem], config: RlDataConfig) -> None:
    if config.drop_missing_answer:
        funnel.keep("drop_missing_answer", f"no `{config.answer_key}`", lambda p: p.answer is not None)
    else:
        for item in funnel.items:
            if item.answer is None:
                raise InputError(
                    f"{item.row.where}: no `{config.answer_key}` (the ground truth); set answer_key, or drop such "
                    "rows with drop_missing_answer."
                )
    if config.min_pass_rate is not None or config.max_pass_rate is not None:
        _pass_rates(funnel, config)
    if config.contamination_files:
        banned = load_contamination(config.contamination_files, config.contamination_key)
        funnel.keep(
            "contamination_files",
            "problem in a contamination file",
            lambda p: normalize_problem(p.problem) not in banned,
        )
    if config.deduplicate:
        seen: set[str] = set()

        def first(item: Problem) -> bool:
            if item.problem in seen:
                return False
            seen.add(item.problem)
            return True

        funnel.keep("deduplicate", "repeat of an earlier problem", first)


def nemo_rl_record(item: Problem) -> dict[str, Any]:
    if len(item.prompt) != 1 or item.prompt[0]["role"] != "user":
        raise InputError(
            f"{item.row.where}: the prompt has {[m['role'] for m in item.prompt]} messages, but NeMo-RL's "
            "math_hf_data_processor sends only one user message; use a prompt without a system message."
        )
    prompt = str(item.prompt[0]["content"])
    return {"input": prompt, "output": item.answer, "problem": item.problem, "expected_answer": item.answer}


def verl_record(item: Problem, index: int, config: RlDataConfig) -> dict[str, Any]:
    for message in item.prompt:
        if not isinstance(message["content"], str):
            raise InputError(f"{item.row.where}: veRL prompts hold text messages; got {type(message['content'])}.")
    return {
        "data_source": config.data_source,
        "prompt": [{"role": m["role"], "content": m["content"]} for m in item.prompt],
        "ability": config.ability,
        "reward_model": {"style": "rule", "ground_truth": item.answer},
        "extra_info": {"index": index, "split": config.split, "problem": item.problem},
    }


def write_verl_parquet(path: Path, records: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    schema = pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(message)),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            ("extra_info", pa.struct([("index", pa.int64()), ("split", pa.string()), ("problem", pa.string())])),
        ]
    )
    table = pa.Table.from_pylist(records, schema=schema)
    write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def prepare_rl_data(config: RlDataConfig) -> PreparationSummary:
    """Write RL prompts with ground truths to `config.output_file` (+ `.summary.json`)."""
    _check(config)
    output = check_output_file(config, RL_FORMATS[config.output_format])
    files = expand_inputs(config.input_files)
    builder = PromptBuilder(PromptOptions(config.prompt_config, config.system_message, config.problem_key))
    items = [
        Problem(row, builder.problem_text(row), builder.messages(row), ground_truth(row.data.get(config.answer_key)))
        for row in read_rows(files)
    ]
    funnel = Funnel(items, ", ".join(map(str, files)))
    _filter(funnel, config)
    apply_order_and_limits(funnel, config)
    if config.output_format == "verl":
        records = [verl_record(item, index, config) for index, item in enumerate(funnel.items)]
        write_verl_parquet(output, records)
    else:
        records = [nemo_rl_record(item) for item in funnel.items]
        write_jsonl(output, records)
    return write_summary("rl", files, len(items), funnel, len(records), output, config)
