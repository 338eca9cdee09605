"""Metrics of judge-graded benchmarks.

* `simpleqa`: each sample is graded correct / incorrect / not attempted (or invalid, when the judge's verdict could
  not be parsed: counted as not correct and reported as `invalid_judgements`). Reported: `correct` (percent, with
  pass@k), `incorrect`, `not_attempted`, `accuracy_given_attempted` = correct / (correct + incorrect), and `f1`, the
  harmonic mean of `correct` and `accuracy_given_attempted` (SimpleQA's summary figure).
* `answer-judgement`: the model is the judge. `judgement_correct` (percent; majority@k votes by verdict), and over
  all samples pooled, with "yes" (the answers match) as the positive class: `false_positives`, `false_negatives`
  and `invalid_judgements` (percent of samples) and `precision`, `recall`, `f1` (percent).
"""

from __future__ import annotations

from nemo_skills.errors import InputError
from nemo_skills.evaluation.metrics.kinds import METRIC_KINDS
from nemo_skills.evaluation.metrics.kinds.base import (
    MetricsKind,
    Modes,
    Rows,
    average_mode_name,
    graded_samples,
    merge_scores,
    percent_of,
    require_field,
)

SIMPLEQA_GRADES = ("correct", "incorrect", "not_attempted", "invalid")


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else 100.0 * numerator / denominator


@METRIC_KINDS.register("simpleqa")
class SimpleQAMetrics(MetricsKind):
    display_order = (
        "num_entries",
        "avg_tokens",
        "gen_seconds",
        "correct",
        "incorrect",
        "not_attempted",
        "accuracy_given_attempted",
        "f1",
        "invalid_judgements",
    )

    def compute(self, problems: Rows, where: str) -> Modes:
        require_field(
            problems, "judge_grade", where, "run the judge and grade its verdicts (eval_type simpleqa-judge)."
        )
        for rows in problems:
            for row in rows:
                if row["judge_grade"] not in SIMPLEQA_GRADES:
                    raise InputError(
                        f"{where}: unknown judge_grade {row['judge_grade']!r}; expected {SIMPLEQA_GRADES}."
                    )
        samples = graded_samples(problems, lambda row: float(row["judge_grade"] == "correct"), None, where)
        modes = merge_scores({"correct": samples}, has_answers=False)
        average = modes[average_mode_name(len(problems[0]))]
        shares = {
            grade: percent_of(problems, lambda row, g=grade: row["judge_grade"] == g) for grade in SIMPLEQA_GRADES
        }
        given_attempted = _ratio(shares["correct"], shares["correct"] + shares["incorrect"])
        f1 = None
        if given_attempted is not None and shares["correct"] + given_attempted > 0:
            f1 = 2 * shares["correct"] * given_attempted / (shares["correct"] + given_attempted)
        average.update(
            {
                "incorrect": shares["incorrect"],
                "not_attempted": shares["not_attempted"],
                "invalid_judgements": shares["invalid"],
                "accuracy_given_attempted": given_attempted,
                "f1": f1,
            }
        )
        return modes


@METRIC_KINDS.register("answer-judgement")
class AnswerJudgementMetrics(MetricsKind):
    display_order = (
        "num_entries",
        "avg_tokens",
        "gen_seconds",
        "judgement_correct",
        "precision",
        "recall",
        "f1",
        "false_positives",
        "false_negatives",
        "invalid_judgements",
        "no_answer",
    )

    def compute(self, problems: Rows, where: str) -> Modes:
        for field in ("judgement_correct", "judgement_verdict", "expected_verdict"):
            require_field(problems, field, where, "grade the outputs with eval_type answer-judgement.")
        samples = graded_samples(
            problems, lambda row: float(bool(row["judgement_correct"])), "judgement_verdict", where
        )
        modes = merge_scores({"judgement_correct": samples})
        rows = [row for seeds in problems for row in seeds]
        true_positive = sum(1 for r in rows if r["judgement_verdict"] == "yes" and r["expected_verdict"] == "yes")
        predicted_yes = sum(1 for r in rows if r["judgement_verdict"] == "yes")
        actual_yes = sum(1 for r in rows if r["expected_verdict"] == "yes")
        precision = _ratio(true_positive, predicted_yes)
        recall = _ratio(true_positive, actual_yes)
        f1 = None
        if precision is not None and recall is not None and precision + recall > 0:
            f1 = 2 * precision * recall / (precision + recall)
        average = modes[average_mode_name(len(problems[0]))]
        average.update(
            {
                "false_positives": percent_of(
                    problems, lambda r: r["judgement_verdict"] == "yes" and r["expected_verdict"] == "no"
                ),
                "false_negatives": percent_of(
                    problems, lambda r: r["judgement_verdict"] == "no" and r["expected_verdict"] == "yes"
                ),
                "invalid_judgements": percent_of(problems, lambda r: r["judgement_verdict"] is None),
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
        )
        return modes
