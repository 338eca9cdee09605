"""`ns prepare_sft_data` and `ns prepare_rl_data`: generation outputs -> training data, on this machine (no job).

Both are thin skins over `nemo_skills.training.data.prepare_sft_data` / `prepare_rl_data`: the options fill the
typed config; `++key=value` arguments set any config key as well (applied last, checked against the config).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from nemo_skills.pipeline.cli import EXTRA_ARGS, app

Inputs = Annotated[
    list[str], typer.Argument(help="Generation output files or glob patterns (e.g. 'results/output-rs*.jsonl').")
]
OutputFile = Annotated[str, typer.Option("--output_file", help="Where to write the training data.")]
PromptConfig = Annotated[
    Optional[str],
    typer.Option("--prompt_config", help="Prompt config for the user message (generic/math); default: the problem."),
]
SystemMessage = Annotated[
    Optional[str], typer.Option("--system_message", help="Replaces (or adds) the system message.")
]
ProblemKey = Annotated[str, typer.Option("--problem_key", help="Field holding the problem.")]
Contamination = Annotated[
    Optional[list[str]],
    typer.Option(
        "--contamination_file",
        help="Problems to exclude: .jsonl (field --contamination_key) or text, one per line. Repeatable.",
    ),
]
ContaminationKey = Annotated[
    str, typer.Option("--contamination_key", help="Problem field of JSONL contamination files.")
]
Deduplicate = Annotated[bool, typer.Option("--deduplicate/--no_deduplicate", help="Drop exact duplicates.")]
Shuffle = Annotated[bool, typer.Option("--shuffle/--no_shuffle", help="Shuffle (seeded) before the caps.")]
Seed = Annotated[int, typer.Option("--seed", help="Shuffle seed.")]
MaxRows = Annotated[Optional[int], typer.Option("--max_rows", help="Keep at most this many rows.")]


def _split_overrides(inputs: list[str]) -> tuple[list[str], list[str]]:
    """`++key=value` words among the positional arguments are overrides, the rest are input files."""
    overrides = [word for word in inputs if word.startswith(("+", "~"))]
    return [word for word in inputs if word not in overrides], overrides


def _config(config_cls: type, values: dict[str, Any], inputs: list[str]) -> Any:
    from dataclasses import asdict, fields

    from nemo_skills.utils.overrides import build_config, hydra_value

    files, overrides = _split_overrides(inputs)
    names = {f.name for f in fields(config_cls)}
    given = {k: v for k, v in values.items() if k in names - {"input_files"} and v is not None}
    config = config_cls(input_files=files, **given)
    if not overrides:
        return config
    base = [f"++{key}={hydra_value(value)}" for key, value in asdict(config).items()]
    return build_config(config_cls, base + overrides)


@app.command("prepare_sft_data", context_settings=EXTRA_ARGS)
def prepare_sft_data_command(
    input_files: Inputs,
    output_file: OutputFile,
    output_format: Annotated[str, typer.Option("--output_format", help="messages | input_output")] = "messages",
    prompt_config: PromptConfig = None,
    system_message: SystemMessage = None,
    problem_key: ProblemKey = "problem",
    generation_key: Annotated[
        str, typer.Option("--generation_key", help="Field holding the solution.")
    ] = "generation",
    correct_only: Annotated[
        Optional[str], typer.Option("--correct_only", help="Keep correct solutions only: symbolic|judge|any|both.")
    ] = None,
    drop_truncated: Annotated[
        bool, typer.Option("--drop_truncated/--keep_truncated", help="Drop finish_reason == length.")
    ] = True,
    thinking: Annotated[str, typer.Option("--thinking", help="keep | remove the <think>...</think> part.")] = "keep",
    require_boxed: Annotated[bool, typer.Option("--require_boxed", help="Drop solutions without \\boxed{}.")] = False,
    min_length: Annotated[Optional[int], typer.Option("--min_length", help="Min solution length.")] = None,
    max_length: Annotated[Optional[int], typer.Option("--max_length", help="Max solution length.")] = None,
    length_unit: Annotated[str, typer.Option("--length_unit", help="chars | tokens (of --tokenizer)")] = "chars",
    tokenizer: Annotated[Optional[str], typer.Option("--tokenizer", help="HF tokenizer path or name.")] = None,
    apply_chat_template: Annotated[
        bool, typer.Option("--apply_chat_template", help="input_output: render `input` with the chat template.")
    ] = False,
    contamination_file: Contamination = None,
    contamination_key: ContaminationKey = "problem",
    deduplicate: Deduplicate = True,
    max_solutions_per_problem: Annotated[
        Optional[int], typer.Option("--max_solutions_per_problem", help="Keep at most N solutions per problem.")
    ] = None,
    max_rows: MaxRows = None,
    shuffle: Shuffle = True,
    seed: Seed = 42,
    keep_field: Annotated[
        Optional[list[str]], typer.Option("--keep_field", help="Copy this input field to the output. Repeatable.")
    ] = None,
) -> None:
    """Filter generation outputs into SFT data (NeMo-RL chat `messages` or `input`/`output` JSONL).
    `++key=value` sets any SftDataConfig key (e.g. ++thinking_end=</reasoning>)."""
    from nemo_skills.training.data import SftDataConfig, prepare_sft_data

    values = dict(locals())
    values.update(contamination_files=list(contamination_file or []), keep_fields=list(keep_field or []))
    print(prepare_sft_data(_config(SftDataConfig, values, input_files)).format())


@app.command("prepare_rl_data", context_settings=EXTRA_ARGS)
def prepare_rl_data_command(
    input_files: Inputs,
    output_file: OutputFile,
    output_format: Annotated[
        str, typer.Option("--output_format", help="nemo_rl (JSONL) | verl (parquet)")
    ] = "nemo_rl",
    prompt_config: PromptConfig = None,
    system_message: SystemMessage = None,
    problem_key: ProblemKey = "problem",
    answer_key: Annotated[
        str, typer.Option("--answer_key", help="Field holding the ground truth.")
    ] = "expected_answer",
    drop_missing_answer: Annotated[
        bool, typer.Option("--drop_missing_answer", help="Drop rows without an answer instead of failing.")
    ] = False,
    correctness: Annotated[
        str, typer.Option("--correctness", help="What pass rates count: symbolic|judge|any|both.")
    ] = "symbolic",
    min_pass_rate: Annotated[
        Optional[float], typer.Option("--min_pass_rate", help="Drop problems solved less often.")
    ] = None,
    max_pass_rate: Annotated[
        Optional[float], typer.Option("--max_pass_rate", help="Drop problems solved more often.")
    ] = None,
    contamination_file: Contamination = None,
    contamination_key: ContaminationKey = "problem",
    deduplicate: Deduplicate = True,
    max_rows: MaxRows = None,
    shuffle: Shuffle = True,
    seed: Seed = 42,
    data_source: Annotated[str, typer.Option("--data_source", help="verl: data_source column.")] = "nemo_skills_math",
    ability: Annotated[str, typer.Option("--ability", help="verl: ability column.")] = "math",
    split: Annotated[str, typer.Option("--split", help="verl: extra_info.split.")] = "train",
) -> None:
    """Write RL prompts with ground truths (NeMo-RL GRPO JSONL or veRL parquet).
    `++key=value` sets any RlDataConfig key."""
    from nemo_skills.training.data import RlDataConfig, prepare_rl_data

    values = dict(locals())
    values.update(contamination_files=list(contamination_file or []))
    print(prepare_rl_data(_config(RlDataConfig, values, input_files)).format())
