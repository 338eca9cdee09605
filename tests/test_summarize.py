"""Metric kinds on hand-checked graded files, the printed table, metrics.json, and the layouts summarize accepts."""

from __future__ import annotations

import json
import math

import pytest

from nemo_skills.errors import InputError
from nemo_skills.evaluation.summarize import SummarizeConfig, format_table, summarize_results
from nemo_skills.inference.output_files import mark_done
from nemo_skills.utils.jsonl import write_jsonl_atomic

# 3 problems x 2 seeds: (symbolic_correct, predicted_answer)
SEEDS = [
    [(True, "5"), (False, "3"), (False, None)],
    [(True, "5.0"), (True, "4"), (False, None)],
]


def write_seeds(folder, seeds=SEEDS, extra=None):
    folder.mkdir(parents=True, exist_ok=True)
    for seed, rows in enumerate(seeds):
        path = folder / f"output-rs{seed}.jsonl"
        write_jsonl_atomic(
            path,
            [
                {
                    "symbolic_correct": ok,
                    "predicted_answer": answer,
                    "num_generated_tokens": 10 * (seed + 1),
                    **(extra or {}),
                }
                for ok, answer in rows
            ],
        )
        mark_done(path)


def test_math_metrics_match_the_hand_computed_values(tmp_path):
    write_seeds(tmp_path / "eval-results" / "toy")
    metrics, table = summarize_results(SummarizeConfig(str(tmp_path), metric_type="math"))
    modes = metrics["toy"]
    assert list(modes) == ["pass@1[avg-of-2]", "majority@2", "pass@1", "pass@2"]
    average = modes["pass@1[avg-of-2]"]
    assert average["num_entries"] == 3 and average["avg_tokens"] == 15
    assert average["symbolic_correct"] == pytest.approx(50.0)
    assert average["no_answer"] == pytest.approx(100 / 3)
    # per seed: 33.33% and 66.67%
    assert average["symbolic_correct_std_dev_across_runs"] == pytest.approx(100 / 3 / math.sqrt(2))
    assert average["symbolic_correct_std_err_across_runs"] == pytest.approx(100 / 3 / 2)
    stats = average["symbolic_correct_statistics"]
    assert stats["avg"] == pytest.approx(0.5)
    assert stats["avg_sample_std_dev"] == pytest.approx(math.sqrt(0.5) / 3)
    # majority: "5" and "5.0" are one answer (correct); "3" vs "4" tie -> 0.5; no answer -> 0
    assert modes["majority@2"]["symbolic_correct"] == pytest.approx(50.0)
    assert modes["majority@2"]["no_answer"] == pytest.approx(100 / 3)
    assert modes["pass@2"]["symbolic_correct"] == pytest.approx(200 / 3)
    assert modes["pass@2"]["no_answer"] == pytest.approx(100 / 3)
    assert modes["pass@1"]["symbolic_correct"] == pytest.approx(50.0)
    saved = json.loads((tmp_path / "eval-results" / "metrics.json").read_text())
    assert saved["toy"]["majority@2"]["symbolic_correct"] == pytest.approx(50.0)
    lines = table.splitlines()
    assert lines[0].strip("-") == " toy "
    assert lines[1].split(" | ") == ["evaluation_mode ", "num_entries", "avg_tokens", "symbolic_correct", "no_answer"]
    assert "50.00% ± 23.57%" in lines[2] and "33.33%" in lines[2]
    assert lines[3].startswith("majority@2      ")
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns


def test_judge_scores_add_both_and_any(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    rows = [
        {"symbolic_correct": True, "judge_correct": False, "judge_invalid": True, "predicted_answer": "1"},
        {"symbolic_correct": False, "judge_correct": True, "judge_invalid": False, "predicted_answer": "2"},
    ]
    write_jsonl_atomic(folder / "output.jsonl", rows)
    mark_done(folder / "output.jsonl")
    metrics, _ = summarize_results(SummarizeConfig(str(folder), metric_type="math"))
    [(mode, values)] = metrics["b"].items()
    assert mode == "pass@1"
    assert values["symbolic_correct"] == values["judge_correct"] == 50.0
    assert values["both_correct"] == 0.0 and values["any_correct"] == 100.0
    assert values["invalid_judgements"] == 50.0
    assert (folder / "metrics.json").is_file()


def test_truncation_is_reported_and_warned(tmp_path):
    folder = tmp_path / "eval-results" / "t"
    folder.mkdir(parents=True)
    rows = [
        {"symbolic_correct": i < 5, "predicted_answer": str(i), "finish_reason": "length" if i >= 8 else "stop"}
        for i in range(10)
    ]
    write_jsonl_atomic(folder / "output.jsonl", rows)
    mark_done(folder / "output.jsonl")
    metrics, table = summarize_results(SummarizeConfig(str(tmp_path), metric_type="math"))
    values = metrics["t"]["pass@1"]
    assert values["truncated"] == 20.0
    assert values["symbolic_correct_completed_only"] == pytest.approx(62.5)
    assert "WARNING: 20.00% of generations" in table and "| truncated" in table


def test_unfinished_and_mixed_files(tmp_path):
    write_seeds(tmp_path / "x")
    path = tmp_path / "x" / "output-rs2.jsonl"
    write_jsonl_atomic(path, [{"symbolic_correct": True, "predicted_answer": "1"}])  # no .done: left out
    metrics, _ = summarize_results(SummarizeConfig(str(tmp_path), metric_type="math"))
    assert "pass@1[avg-of-2]" in metrics["x"]
    write_jsonl_atomic(tmp_path / "x" / "output.jsonl", [{}])
    with pytest.raises(InputError, match="both output.jsonl and output-rs"):
        summarize_results(SummarizeConfig(str(tmp_path), metric_type="math"))


def test_ungraded_or_unequal_files_fail_loudly(tmp_path):
    write_seeds(tmp_path / "eval-results" / "u", seeds=[[(True, "1")], [(True, "1"), (False, "2")]])
    with pytest.raises(InputError, match="every seed's output must cover the same problems"):
        summarize_results(SummarizeConfig(str(tmp_path), metric_type="math"))
    folder = tmp_path / "v"
    folder.mkdir()
    write_jsonl_atomic(folder / "output.jsonl", [{"generation": "x"}])
    mark_done(folder / "output.jsonl")
    with pytest.raises(InputError, match="grade the outputs first"):
        summarize_results(SummarizeConfig(str(folder), metric_type="math"))
    with pytest.raises(InputError, match="does not exist"):
        summarize_results(SummarizeConfig(str(tmp_path / "nope")))


def test_metrics_type_comes_from_the_benchmark(tmp_path):
    write_seeds(tmp_path / "eval-results" / "gsm8k")
    metrics, _ = summarize_results(SummarizeConfig(str(tmp_path)))
    assert metrics["gsm8k"]["pass@1[avg-of-2]"]["symbolic_correct"] == pytest.approx(50.0)


def test_simpleqa_metrics(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    grades = ["correct", "correct", "incorrect", "not_attempted", "invalid"]
    write_jsonl_atomic(folder / "output.jsonl", [{"judge_grade": g} for g in grades])
    mark_done(folder / "output.jsonl")
    metrics, _ = summarize_results(SummarizeConfig(str(folder), metric_type="simpleqa"))
    values = metrics["s"]["pass@1"]
    assert values["correct"] == 40.0 and values["incorrect"] == 20.0 and values["not_attempted"] == 20.0
    assert values["invalid_judgements"] == 20.0
    assert values["accuracy_given_attempted"] == pytest.approx(200 / 3)
    assert values["f1"] == pytest.approx(2 * 40 * (200 / 3) / (40 + 200 / 3))
    assert "no_answer" not in values


def test_answer_judgement_metrics(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    rows = [  # (verdict, expected): TP, FP, FN, TN, invalid(expected yes)
        ("yes", "yes"),
        ("yes", "no"),
        ("no", "yes"),
        ("no", "no"),
        (None, "yes"),
    ]
    write_jsonl_atomic(
        folder / "output.jsonl",
        [{"judgement_verdict": v, "expected_verdict": e, "judgement_correct": v == e} for v, e in rows],
    )
    mark_done(folder / "output.jsonl")
    metrics, _ = summarize_results(SummarizeConfig(str(folder), metric_type="answer-judgement"))
    values = metrics["a"]["pass@1"]
    assert values["judgement_correct"] == 40.0
    assert values["false_positives"] == 20.0 and values["false_negatives"] == 20.0
    assert values["invalid_judgements"] == 20.0 and values["no_answer"] == 20.0
    assert values["precision"] == 50.0 and values["recall"] == pytest.approx(100 / 3)


def test_table_hides_dicts_and_shows_missing_values():
    modes = {"pass@1": {"num_entries": 2, "score": 50.0, "nested": {"a": 1}, "f1": None, "warnings": []}}
    table = format_table("bench", modes, ("num_entries", "score"))
    assert "nested" not in table
    header, row = table.splitlines()[1:]
    assert header.split(" | ") == ["evaluation_mode", "num_entries", "score ", "f1"]
    assert row.split(" | ") == ["pass@1         ", "2          ", "50.00%", "- "]


def _if_row(strict, loose, finish_reason="stop"):
    return {
        "strict_eval": {"follow_all_instructions": all(strict), "follow_instruction_list": strict},
        "loose_eval": {"follow_all_instructions": all(loose), "follow_instruction_list": loose},
        "finish_reason": finish_reason,
    }


def test_instruction_following_metrics_pool_instructions(tmp_path):
    folder = tmp_path / "ifeval"
    folder.mkdir()
    write_jsonl_atomic(folder / "output.jsonl", [_if_row([True, False], [True, True]), _if_row([True], [True])])
    mark_done(folder / "output.jsonl")
    metrics, table = summarize_results(SummarizeConfig(str(folder), metric_type="if"))
    values = metrics["ifeval"]["pass@1"]
    assert values["num_entries"] == 2 and values["num_instructions"] == 3
    assert values["prompt_strict_accuracy"] == 50.0 and values["prompt_loose_accuracy"] == 100.0
    assert values["instruction_strict_accuracy"] == pytest.approx(200 / 3)
    assert values["instruction_loose_accuracy"] == 100.0
    assert values["average_score"] == pytest.approx((50 + 200 / 3 + 100 + 100) / 4)
    assert "no_answer" not in values and "majority" not in table


def test_instruction_following_metrics_over_seeds(tmp_path):
    folder = tmp_path / "eval-results" / "ifbench"
    folder.mkdir(parents=True)
    seeds = [
        [_if_row([True, False], [True, False]), _if_row([False], [True])],
        [_if_row([True, True], [True, True]), _if_row([False], [False])],
    ]
    for seed, rows in enumerate(seeds):
        write_jsonl_atomic(folder / f"output-rs{seed}.jsonl", rows)
        mark_done(folder / f"output-rs{seed}.jsonl")
    metrics, _ = summarize_results(SummarizeConfig(str(tmp_path), metric_type="if"))
    modes = metrics["ifbench"]
    assert list(modes) == ["pass@1[avg-of-2]", "pass@1", "pass@2"]
    # strict, instructions: seed 0 1/3, seed 1 2/3 -> 50%; pass@2 per instruction: T, T, F -> 66.67%
    assert modes["pass@1[avg-of-2]"]["instruction_strict_accuracy"] == pytest.approx(50.0)
    assert modes["pass@2"]["instruction_strict_accuracy"] == pytest.approx(200 / 3)
    # strict, prompts: seed 0 0/2, seed 1 1/2 -> 25%; pass@2: row 1 yes, row 2 no -> 50%
    assert modes["pass@1[avg-of-2]"]["prompt_strict_accuracy"] == pytest.approx(25.0)
    assert modes["pass@2"]["prompt_strict_accuracy"] == pytest.approx(50.0)
    assert modes["pass@1[avg-of-2]"]["prompt_strict_accuracy_std_dev_across_runs"] == pytest.approx(50 / 2**0.5)


def test_subsets_get_their_own_entries(tmp_path):
    folder = tmp_path / "mmlu"
    folder.mkdir()
    rows = [
        {"symbolic_correct": True, "predicted_answer": "A", "subset_for_metrics": "law"},
        {"symbolic_correct": False, "predicted_answer": "B", "subset_for_metrics": "math"},
        {"symbolic_correct": True, "predicted_answer": "C", "subset_for_metrics": "math"},
    ]
    write_jsonl_atomic(folder / "output.jsonl", rows)
    mark_done(folder / "output.jsonl")
    metrics, table = summarize_results(SummarizeConfig(str(folder), metric_type="multichoice"))
    assert list(metrics) == ["mmlu", "mmlu-law", "mmlu-math"]
    assert metrics["mmlu"]["pass@1"]["symbolic_correct"] == pytest.approx(200 / 3)
    assert metrics["mmlu-law"]["pass@1"]["symbolic_correct"] == 100.0
    assert metrics["mmlu-math"]["pass@1"]["num_entries"] == 2
    assert " mmlu-math " in table


def test_summarize_results_command(tmp_path):
    import subprocess

    from tests.test_cli import NS

    write_seeds(tmp_path / "eval-results" / "gsm8k")
    result = subprocess.run(
        [*NS, "summarize_results", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "50.00% ± 23.57%" in result.stdout and " gsm8k " in result.stdout
    result = subprocess.run(
        [*NS, "summarize_results", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_group_scores_average_their_members(tmp_path):
    from nemo_skills.evaluation.summarize import mean_over_members

    for name, seeds in {
        "aime24": SEEDS,
        "aime25": [[(True, "1"), (True, "2"), (True, "3")], [(True, "1"), (True, "2"), (False, "0")]],
        "hmmt_feb25": SEEDS,
        "brumo25": SEEDS,
    }.items():
        write_seeds(tmp_path / "eval-results" / name, seeds=seeds)
    metrics, table = summarize_results(SummarizeConfig(str(tmp_path), groups=["competition-math"]))
    group = metrics["competition-math"]["pass@1[avg-of-2]"]
    assert group["num_benchmarks_in_group"] == 4
    assert group["symbolic_correct"] == pytest.approx((50 + 50 + 50 + 500 / 6) / 4)
    assert group["avg_tokens"] == 15 and "num_entries" not in group
    assert " competition-math " in table
    saved = json.loads((tmp_path / "eval-results" / "metrics.json").read_text())
    assert "competition-math" in saved
    assert mean_over_members({"a": {"m": {"x": 1}}, "b": {"m": {"x": 2}, "n": {"x": 5}}}) == {
        "m": {"num_benchmarks_in_group": 2, "x": 2}
    }
    with pytest.raises(InputError, match="no metrics for member"):
        summarize_results(SummarizeConfig(str(tmp_path), benchmarks=["aime24"], groups=["competition-math"]))
