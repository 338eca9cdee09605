"""SFT and RL data preparation on generation outputs written here: every filter, both formats, errors, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.training.data import RlDataConfig, SftDataConfig, normalize_problem, prepare_rl_data, prepare_sft_data

NS = [sys.executable, "-c", "from nemo_skills.pipeline.cli import main; main()"]


def row(problem, answer, generation, correct, finish="stop", **extra):
    data = {"problem": problem, "expected_answer": answer, "generation": generation, "finish_reason": finish}
    data.update(num_generated_tokens=len(generation.split()), predicted_answer=None, symbolic_correct=correct)
    data.update(extra)
    return data


THOUGHT = "<think>1 and 1 make 2</think>The answer is \\boxed{2}."
SEED0 = [
    row("What is 1+1?", "2", "The answer is \\boxed{2}.", True, generation_with_thinking=THOUGHT),
    row("What is 2+3?", "5", "So \\boxed{6}", False),
    row("Compute 10/2.", "5", "5 5 5 5 5", False, finish="length"),
    row("What is 3*3?", "9", "It is 9", True),
    row("What is  2 + 2?", "4", "Clearly \\boxed{4}", True),
]
SEED1 = [
    row("What is 1+1?", "2", "The answer is \\boxed{2}.", True, generation_with_thinking=THOUGHT),  # duplicate
    row("What is 1+1?", "2", "1+1 = \\boxed{2}", True),
    row("What is 2+3?", "5", "2+3 = \\boxed{5}", True),
    row("Compute 10/2.", "5", "<think>halving 10", False, finish="length"),
    row("What is 3*3?", "9", "3*3 = \\boxed{9}", True),
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    folder = tmp_path / "gen"
    folder.mkdir()
    write_jsonl(folder / "output-rs0.jsonl", SEED0)
    write_jsonl(folder / "output-rs1.jsonl", SEED1)
    return folder


def sft(outputs: Path, tmp_path: Path, **options):
    config = SftDataConfig(input_files=[str(outputs / "output-rs*.jsonl")], output_file=str(tmp_path / "sft.jsonl"))
    for key, value in options.items():
        setattr(config, key, value)
    summary = prepare_sft_data(config)
    rows = [json.loads(line) for line in Path(config.output_file).read_text().splitlines()]
    return summary, rows


def dropped(summary) -> dict[str, int]:
    return {step.name: step.dropped for step in summary.steps}


def assistant(record: dict) -> str:
    return record["messages"][-1]["content"]


def test_defaults_drop_truncated_and_exact_duplicates_and_write_chat_messages(outputs, tmp_path):
    summary, rows = sft(outputs, tmp_path, shuffle=False)
    assert summary.num_input_rows == 10 and summary.num_written == 7
    assert dropped(summary) == {"drop_truncated": 2, "empty_solution": 0, "deduplicate": 1}
    assert rows[0]["messages"] == [
        {"role": "user", "content": "What is 1+1?"},
        {"role": "assistant", "content": THOUGHT},  # thinking kept: taken from generation_with_thinking
    ]
    assert set(rows[0]) == {"messages"}
    record = json.loads((tmp_path / "sft.jsonl.summary.json").read_text())
    assert record["kind"] == "sft" and record["num_written"] == 7 and record["config"]["seed"] == 42
    assert "drop_truncated" in summary.format() and "Kept 7 of 10 rows" in summary.format()


def test_keep_truncated(outputs, tmp_path):
    summary, rows = sft(outputs, tmp_path, drop_truncated=False, deduplicate=False)
    assert summary.num_written == 10 and "drop_truncated" not in dropped(summary)


def test_correct_only_modes(outputs, tmp_path):
    summary, rows = sft(outputs, tmp_path, correct_only="symbolic")
    assert dropped(summary)["correct_only"] == 3 and summary.num_written == 6  # 7 correct, one duplicate
    judged = tmp_path / "judged"
    judged.mkdir()
    write_jsonl(judged / "output-rs0.jsonl", [dict(r, judge_correct=not r["symbolic_correct"]) for r in SEED0])
    for mode, kept in (("judge", 2), ("any", 5), ("both", 0)):
        options = dict(correct_only=mode, drop_truncated=False)
        if kept == 0:
            with pytest.raises(InputError, match="`correct_only` .* dropped all 5"):
                sft(judged, tmp_path, **options)
        else:
            assert sft(judged, tmp_path, **options)[0].num_written == kept
    with pytest.raises(InputError, match=r"output-rs0.jsonl:1: no `judge_correct` field"):
        sft(outputs, tmp_path, correct_only="judge")
    with pytest.raises(ConfigError, match="Unknown correctness mode"):
        sft(outputs, tmp_path, correct_only="right")


def test_thinking_removed_and_unfinished_thinking_dropped(outputs, tmp_path):
    summary, rows = sft(outputs, tmp_path, thinking="remove", drop_truncated=False, shuffle=False)
    assert dropped(summary)["thinking"] == 1  # "<think>halving 10" never closed
    assert assistant(rows[0]) == "The answer is \\boxed{2}."
    assert not any("<think>" in assistant(r) for r in rows)


def test_require_boxed(outputs, tmp_path):
    summary, rows = sft(outputs, tmp_path, require_boxed=True)
    assert dropped(summary)["require_boxed"] == 1  # "It is 9"
    assert all("\\boxed{" in assistant(r) for r in rows)


def test_length_in_chars(outputs, tmp_path):
    summary, rows = sft(outputs, tmp_path, min_length=10, max_length=16, thinking="remove")
    assert sorted(len(assistant(r)) for r in rows) == [12, 15, 15, 15]  # 24, 7, 17 and 24 chars are dropped
    assert dropped(summary)["min_length/max_length"] == 4


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    from nemo_skills.utils.tiny_model import corpus_lines, save_tokenizer, train_tokenizer, wrap_tokenizer

    folder = tmp_path_factory.mktemp("tokenizer")
    save_tokenizer(wrap_tokenizer(train_tokenizer(corpus_lines(0, 300), 512)), folder)
    return folder


def test_length_in_tokens_and_chat_template(outputs, tmp_path, tokenizer_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    count = {r["generation"]: len(tokenizer(r["generation"], add_special_tokens=False)["input_ids"]) for r in SEED0}
    limit = sorted(count.values())[2]
    summary, rows = sft(
        outputs,
        tmp_path,
        length_unit="tokens",
        tokenizer=str(tokenizer_dir),
        max_length=limit,
        thinking="remove",
        output_format="input_output",
        apply_chat_template=True,
        prompt_config="generic/math",
    )
    assert rows and all(len(tokenizer(r["output"], add_special_tokens=False)["input_ids"]) <= limit for r in rows)
    assert all(r["input"].startswith("<|im_start|>user\nSolve the following math problem") for r in rows)
    with pytest.raises(ConfigError, match="need a tokenizer"):
        sft(outputs, tmp_path, length_unit="tokens", max_length=5)


def test_contamination_by_normalised_text(outputs, tmp_path):
    assert normalize_problem(" WHAT is ２ +\t2? ") == normalize_problem("what is 2+2?") == "whatis2+2?"
    listing = tmp_path / "test.jsonl"
    write_jsonl(listing, [{"problem": "what is 2+2?"}, {"problem": "What is 1+1"}])  # the second is not equal
    text = tmp_path / "banned.txt"
    text.write_text("\nCOMPUTE 10 / 2.\n")
    summary, rows = sft(outputs, tmp_path, contamination_files=[str(listing), str(text)], drop_truncated=False)
    assert dropped(summary)["contamination_files"] == 3
    assert not any(r["messages"][0]["content"] in ("What is  2 + 2?", "Compute 10/2.") for r in rows)
    with pytest.raises(InputError, match="test.jsonl:1: no text `question`"):
        sft(outputs, tmp_path, contamination_files=[str(listing)], contamination_key="question")


def test_seeded_shuffle_and_per_problem_cap(outputs, tmp_path):
    first = sft(outputs, tmp_path, seed=1, max_solutions_per_problem=1)
    again = sft(outputs, tmp_path, seed=1, max_solutions_per_problem=1)
    assert first[1] == again[1]  # deterministic
    problems = [r["messages"][0]["content"] for r in first[1]]
    assert len(problems) == len(set(problems)) == 4
    assert dropped(first[0])["max_solutions_per_problem"] == 3
    orders = {json.dumps(sft(outputs, tmp_path, seed=seed)[1]) for seed in range(4)}
    assert len(orders) > 1
    assert sft(outputs, tmp_path, max_rows=2)[0].num_written == 2


def test_prompt_config_system_message_and_keep_fields(outputs, tmp_path):
    with pytest.raises(InputError, match="no `id` field to keep"):
        sft(outputs, tmp_path, keep_fields=["id"])
    _, rows = sft(
        outputs,
        tmp_path,
        prompt_config="generic/math",
        system_message="Be brief.",
        keep_fields=["expected_answer"],
        shuffle=False,
    )
    system, user, _ = rows[0]["messages"]
    assert system == {"role": "system", "content": "Be brief."}
    assert user["content"].endswith("inside \\boxed{}.\n\nWhat is 1+1?")
    assert rows[0]["expected_answer"] == "2"
    with pytest.raises(InputError, match="input_output holds one user message"):
        sft(outputs, tmp_path, system_message="Be brief.", output_format="input_output")
    _, rows = sft(outputs, tmp_path, output_format="input_output", shuffle=False)
    assert rows[0] == {"input": "What is 1+1?", "output": THOUGHT}


def test_chat_message_inputs(tmp_path):
    chat = [{"role": "system", "content": "sys"}, {"role": "user", "content": "Hi?"}]
    path = write_jsonl(tmp_path / "chat.jsonl", [{"messages": chat, "generation": "Hello.", "finish_reason": "stop"}])
    config = SftDataConfig(input_files=[str(path)], output_file=str(tmp_path / "out.jsonl"))
    prepare_sft_data(config)
    record = json.loads((tmp_path / "out.jsonl").read_text())
    assert record["messages"] == [*chat, {"role": "assistant", "content": "Hello."}]


def test_errors_name_file_and_line(outputs, tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [SEED0[0], {"problem": "x", "finish_reason": "stop"}])
    with pytest.raises(InputError, match=r"bad.jsonl:2: no `generation` field"):
        prepare_sft_data(SftDataConfig(input_files=[str(bad)], output_file=str(tmp_path / "o.jsonl")))
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "x", "generation": "y"}])
    with pytest.raises(InputError, match=r"bad.jsonl:1: no `problem` field"):
        prepare_sft_data(SftDataConfig(input_files=[str(bad)], output_file=str(tmp_path / "o.jsonl")))
    with pytest.raises(InputError, match="No file matches"):
        prepare_sft_data(SftDataConfig(input_files=[str(tmp_path / "none-*.jsonl")], output_file="o.jsonl"))
    with pytest.raises(InputError, match="`require_boxed` .* dropped all"):
        sft(
            outputs,
            tmp_path,
            max_rows=1,
            require_boxed=True,
            correct_only=None,
            contamination_files=[],
            input_files=[str(write_jsonl(tmp_path / "nobox.jsonl", [SEED0[3]]))],
        )
    with pytest.raises(ConfigError, match="No output file"):
        prepare_sft_data(SftDataConfig(input_files=[str(outputs / "output-rs0.jsonl")]))


def rl(outputs: Path, tmp_path: Path, name: str = "rl.jsonl", **options):
    config = RlDataConfig(input_files=[str(outputs / "output-rs*.jsonl")], output_file=str(tmp_path / name))
    for key, value in options.items():
        setattr(config, key, value)
    return prepare_rl_data(config), Path(config.output_file)


def test_rl_nemo_rl_rows(outputs, tmp_path):
    summary, path = rl(outputs, tmp_path, shuffle=False)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert dropped(summary) == {"deduplicate": 5} and len(rows) == 5
    assert rows[0] == {"input": "What is 1+1?", "output": "2", "problem": "What is 1+1?", "expected_answer": "2"}
    _, path = rl(outputs, tmp_path, shuffle=False, prompt_config="generic/math")
    assert json.loads(path.read_text().splitlines()[0])["input"].startswith("Solve the following math problem.")
    with pytest.raises(InputError, match="math_hf_data_processor sends only one user message"):
        rl(outputs, tmp_path, system_message="sys")


def test_rl_pass_rate_filter(outputs, tmp_path):
    # pass rates over both seeds: 1+1 -> 1.0, 2+3 -> 0.5, 10/2 -> 0.0, 3*3 -> 1.0, 2+2 -> 1.0 (one row)
    summary, path = rl(outputs, tmp_path, min_pass_rate=0.25, max_pass_rate=0.75)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["problem"] for r in rows] == ["What is 2+3?"]
    assert dropped(summary)["min_pass_rate/max_pass_rate"] == 8


def test_rl_verl_parquet(outputs, tmp_path):
    import pyarrow.parquet as pq

    extra = write_jsonl(tmp_path / "tools.jsonl", [{"problem": "Weather?", "expected_answer": {"name": "w"}}])
    config = RlDataConfig(
        input_files=[str(outputs / "output-rs0.jsonl"), str(extra)],
        output_file=str(tmp_path / "train.parquet"),
        output_format="verl",
        system_message="Think.",
        shuffle=False,
        data_source="my_math",
        split="test",
    )
    prepare_rl_data(config)
    table = pq.read_table(tmp_path / "train.parquet")
    assert table.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    rows = table.to_pylist()
    assert rows[0] == {
        "data_source": "my_math",
        "prompt": [{"role": "system", "content": "Think."}, {"role": "user", "content": "What is 1+1?"}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": "2"},
        "extra_info": {"index": 0, "split": "test", "problem": "What is 1+1?"},
    }
    assert rows[-1]["reward_model"]["ground_truth"] == '{"name": "w"}'
    with pytest.raises(ConfigError, match="should end with .parquet"):
        rl(outputs, tmp_path, name="x.jsonl", output_format="verl")


def test_rl_missing_answer(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"problem": "a", "expected_answer": "1"}, {"problem": "b"}])
    config = RlDataConfig(input_files=[str(path)], output_file=str(tmp_path / "o.jsonl"))
    with pytest.raises(InputError, match=r"in.jsonl:2: no `expected_answer`"):
        prepare_rl_data(config)
    config.drop_missing_answer = True
    assert prepare_rl_data(config).num_written == 1


def ns(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NS, *args], capture_output=True, text=True, timeout=120)


def test_cli_sft_and_rl(outputs, tmp_path):
    out = tmp_path / "cli" / "sft.jsonl"
    result = ns(
        "prepare_sft_data",
        str(outputs / "output-rs0.jsonl"),
        str(outputs / "output-rs1.jsonl"),
        "--output_file",
        str(out),
        "--correct_only",
        "symbolic",
        "--require_boxed",
        "--max_solutions_per_problem",
        "1",
        "++thinking=remove",
        "--no_shuffle",
    )
    assert result.returncode == 0, result.stderr
    assert "correct_only" in result.stdout and "Kept 4 of 10 rows" in result.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert assistant(rows[0]) == "The answer is \\boxed{2}."
    out = tmp_path / "cli" / "train.parquet"
    result = ns(
        "prepare_rl_data",
        str(outputs / "output-rs*.jsonl"),
        "--output_file",
        str(out),
        "--output_format",
        "verl",
        "--contamination_file",
        str(write_jsonl(tmp_path / "c.jsonl", SEED0[:1])),
    )
    assert result.returncode == 0, result.stderr
    assert "contamination_files" in result.stdout and out.is_file()


def test_cli_error_is_one_line(outputs, tmp_path):
    args = [str(outputs / "output-rs0.jsonl"), "--output_file", str(tmp_path / "o.jsonl"), "--min_length", "1000"]
    result = ns("prepare_sft_data", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: No rows left: `min_length/max_length`")


def test_plus_overrides_are_checked_against_the_config(outputs, tmp_path):
    from nemo_skills.pipeline.prepare_training_data import _config

    inputs = [str(outputs / "output-rs0.jsonl"), "++thinking=remove", "++contamination_files=[a.txt,b.txt]"]
    config = _config(SftDataConfig, {"output_file": "o.jsonl", "seed": 7, "max_rows": None}, inputs)
    assert (config.input_files, config.thinking, config.seed) == ([inputs[0]], "remove", 7)
    assert config.contamination_files == ["a.txt", "b.txt"] and config.max_rows is None
    with pytest.raises(ConfigError, match="Did you mean 'thinking'"):
        _config(SftDataConfig, {"output_file": "o.jsonl"}, [inputs[0], "++thinkng=remove"])
