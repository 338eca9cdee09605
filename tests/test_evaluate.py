"""The grading runner and the verdict parsers: strict, loud, resumable."""

from __future__ import annotations

import json

import pytest

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.evaluation.evaluate import EvaluateConfig, evaluate, graded_record_path, strip_thinking
from nemo_skills.evaluation.evaluator.builtin.judge import parse_simpleqa_grade, parse_yes_no_judgement
from nemo_skills.inference.output_files import mark_done
from nemo_skills.utils.jsonl import read_jsonl, write_jsonl_atomic


def write_output(path, rows, done=True):
    write_jsonl_atomic(path, rows)
    if done:
        mark_done(path)
    return path


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Reasoning: same.\nJudgement: Yes", True),
        ("Judgement: no, they differ", False),
        ("judgement: YES.", True),
        ("Judgement: No\n...\nJudgement: Yes", True),  # the last verdict counts
        ("Judgement: **Yes**", True),
        ("Judgement: maybe", None),
        ("Judgement: Yesterday it was", None),
        ("The answers are the same. Yes.", None),  # no verdict line
        ("", None),
        (None, None),
    ],
)
def test_yes_no_judgements_are_parsed_strictly(text, expected):
    assert parse_yes_no_judgement(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The answer matches.\nA", "correct"),
        ("Grade: B", "incorrect"),
        ("explanation\n\nC\n", "not_attempted"),
        ("**A**", "correct"),
        ("A is right but B is wrong", "invalid"),
        ("D", "invalid"),
        ("", "invalid"),
    ],
)
def test_simpleqa_grades(text, expected):
    assert parse_simpleqa_grade(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<think>long</think>The answer is 5", "The answer is 5"),
        ("<think>a</think>b</think> final", "final"),
        ("<think>never finished", ""),
        ("no thinking at all", "no thinking at all"),
    ],
)
def test_strip_thinking(text, expected):
    assert strip_thinking(text, "<think>", "</think>") == expected


def test_judge_grading_writes_fields_and_a_record(tmp_path):
    path = write_output(
        tmp_path / "output.jsonl",
        [
            {"judgement": "Judgement: Yes"},
            {"judgement": "Judgement: No"},
            {"judgement": "I refuse"},
        ],
    )
    [result] = evaluate(EvaluateConfig(input_files=[str(path)], eval_type="judge"))
    assert result.num_rows == 3 and result.skipped is None
    rows = read_jsonl(path)
    assert [(r["judge_correct"], r["judge_invalid"]) for r in rows] == [(True, False), (False, False), (False, True)]
    record = json.loads(graded_record_path(path).read_text())
    assert record["signature"]["eval_type"] == "judge" and record["num_rows"] == 3
    # the same evaluator and config again: nothing to do; a changed file is graded again
    [again] = evaluate(EvaluateConfig(input_files=[str(path)], eval_type="judge"))
    assert again.skipped == "already graded with this evaluator and config"
    rows[2]["judgement"] = "Judgement: yes"
    write_jsonl_atomic(path, rows)
    evaluate(EvaluateConfig(input_files=[str(path)], eval_type="judge"))
    assert read_jsonl(path)[2]["judge_correct"] is True


def test_thinking_is_stripped_before_grading_and_kept(tmp_path):
    path = write_output(tmp_path / "o.jsonl", [{"generation": "<think>Judgement: Yes</think>Judgement: No"}])
    evaluate(EvaluateConfig(input_files=[str(path)], eval_type="judge", eval_config={"judgement_key": "generation"}))
    [row] = read_jsonl(path)
    assert row["generation"] == "Judgement: No" and row["judge_correct"] is False
    assert row["generation_with_thinking"] == "<think>Judgement: Yes</think>Judgement: No"


def test_unfinished_generation_is_not_graded(tmp_path):
    path = write_output(tmp_path / "o.jsonl", [{"judgement": "Judgement: Yes"}], done=False)
    [result] = evaluate(EvaluateConfig(input_files=[str(path)], eval_type="judge"))
    assert result.skipped == "generation unfinished"
    assert "judge_correct" not in read_jsonl(path)[0]


def test_globs_expand_and_missing_files_fail(tmp_path):
    for seed in range(3):
        write_output(tmp_path / f"output-rs{seed}.jsonl", [{"judgement": "Judgement: Yes"}])
    results = evaluate(EvaluateConfig(input_files=[str(tmp_path / "output-rs*.jsonl")], eval_type="judge"))
    assert [r.path.name for r in results] == ["output-rs0.jsonl", "output-rs1.jsonl", "output-rs2.jsonl"]
    with pytest.raises(InputError, match="No file matches"):
        evaluate(EvaluateConfig(input_files=[str(tmp_path / "nothing*.jsonl")], eval_type="judge"))


def test_a_missing_verdict_field_fails_the_run(tmp_path):
    path = write_output(tmp_path / "o.jsonl", [{"judgement": "Judgement: Yes"}, {"generation": "x"}])
    with pytest.raises(InputError, match="1 row.*no `judgement` field"):
        evaluate(EvaluateConfig(input_files=[str(path)], eval_type="judge"))
    assert "judge_correct" not in read_jsonl(path)[0]  # nothing half-written


def test_unknown_evaluator_and_config_keys_fail_before_grading(tmp_path):
    path = write_output(tmp_path / "o.jsonl", [{"generation": "x"}])
    with pytest.raises(ConfigError, match="Unknown evaluator 'judgee'.*Did you mean 'judge'"):
        evaluate(EvaluateConfig(input_files=[str(path)], eval_type="judgee"))
    with pytest.raises(ConfigError, match="judgment_key"):
        evaluate(EvaluateConfig(input_files=[str(path)], eval_type="judge", eval_config={"judgment_key": "x"}))
    with pytest.raises(ConfigError, match="Set \\+\\+eval_type"):
        evaluate(EvaluateConfig(input_files=[str(path)]))


def test_answer_judgement_compares_verdicts(tmp_path):
    rows = [
        {"generation": "Judgement: Yes", "expected_judgement": "Judgement: Yes"},
        {"generation": "Judgement: Yes", "expected_judgement": "Judgement: No"},
        {"generation": "unsure", "expected_judgement": "Judgement: No"},
    ]
    path = write_output(tmp_path / "o.jsonl", rows)
    evaluate(EvaluateConfig(input_files=[str(path)], eval_type="answer-judgement"))
    graded = read_jsonl(path)
    assert [(r["judgement_verdict"], r["judgement_correct"], r["expected_verdict"]) for r in graded] == [
        ("yes", True, "yes"),
        ("yes", False, "no"),
        (None, False, "no"),
    ]
    write_output(tmp_path / "bad.jsonl", [{"generation": "Judgement: Yes", "expected_judgement": "perhaps"}])
    with pytest.raises(InputError, match="not a yes/no judgement"):
        evaluate(EvaluateConfig(input_files=[str(tmp_path / "bad.jsonl")], eval_type="answer-judgement"))


def test_command_line_entry_point(tmp_path, capsys):
    from nemo_skills.evaluation.evaluate import main

    path = write_output(tmp_path / "o.jsonl", [{"judgement": "Judgement: No"}])
    assert main([f"++input_files=['{path}']", "++eval_type=judge"]) == 0
    assert read_jsonl(path)[0]["judge_correct"] is False
    assert main([f"++input_files=['{path}']", "++eval_type=nope"]) == 2
    assert "Unknown evaluator 'nope'" in capsys.readouterr().err
