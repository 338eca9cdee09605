"""Metrics with hand-checked numbers: the arithmetic is written next to every expected value."""

from __future__ import annotations

import itertools
import json
import math
import random
from fractions import Fraction
from pathlib import Path

import pytest

from nemo_skills.errors import InputError
from nemo_skills.evaluation.metrics import (
    GradedSample,
    compute_metrics,
    default_ks,
    expected_max_at_k,
    majority_vote,
    pass_at_k,
    pass_at_k_from_scores,
    same_answer,
)
from nemo_skills.evaluation.metrics.loader import load_graded_samples

# ---------------------------------------------------------------------------------------------------------------
# pass@k


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, Fraction(2, 5)),  # 1 - C(3,1)/C(5,1) = 1 - 3/5 = 2/5
        (2, Fraction(7, 10)),  # 1 - C(3,2)/C(5,2) = 1 - 3/10 = 7/10
        (3, Fraction(9, 10)),  # 1 - C(3,3)/C(5,3) = 1 - 1/10 = 9/10
        (4, Fraction(1)),  # only 3 incorrect samples: every 4-subset holds a correct one
        (5, Fraction(1)),
    ],
)
def test_pass_at_k_n5_c2(k: int, expected: Fraction) -> None:
    assert pass_at_k(5, 2, k) == float(expected)  # exact: the fraction rounded once
    assert pass_at_k_from_scores([0, 1, 0, 0, 1], k) == float(expected)
    assert expected_max_at_k([0, 1, 0, 0, 1], k) == pytest.approx(float(expected), abs=1e-15)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_pass_at_k_edges(k: int) -> None:
    assert pass_at_k(4, 0, k) == 0.0  # nothing correct
    assert pass_at_k(4, 4, k) == 1.0  # everything correct


def test_pass_at_k_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(3, 1, 4)
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(3, 1, 0)
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError, match="at least one sample"):
        pass_at_k_from_scores([], 1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pass_at_k_from_scores([0.5, 1.5], 1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_max_at_k([0.5, float("nan")], 1)


def test_pass_at_k_large_n_product_form() -> None:
    # n above the exact-integer limit: the product form must agree with the exact fraction.
    n, c, k = 5000, 3, 10
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        # sorted ascending: 0, 0.2, 0.5, 1.0
        (1, 0.425),  # the mean: (0 + 0.2 + 0.5 + 1.0) / 4 = 1.7 / 4
        # C(4,2) = 6 pairs; max of {0,.2}=.2 {0,.5}=.5 {0,1}=1 {.2,.5}=.5 {.2,1}=1 {.5,1}=1 -> 4.2 / 6 = 0.7
        # formula: (0.2*C(1,1) + 0.5*C(2,1) + 1.0*C(3,1)) / 6 = (0.2 + 1.0 + 3.0) / 6
        (2, 0.7),
        (3, 0.875),  # (0.5*C(2,2) + 1.0*C(3,2)) / C(4,3) = (0.5 + 3) / 4
        (4, 1.0),  # the whole set: its max
    ],
)
def test_partial_credit_expected_max(k: int, expected: float) -> None:
    assert pass_at_k_from_scores([0.2, 1.0, 0.0, 0.5], k) == pytest.approx(expected, abs=1e-15)
    # Order does not matter (the reference's "max of the first k" gave 0.2 vs 1.0 for these two orders at k=2).
    assert pass_at_k_from_scores([0.0, 0.2, 0.5, 1.0], k) == pytest.approx(expected, abs=1e-15)
    assert pass_at_k_from_scores([1.0, 0.5, 0.2, 0.0], k) == pytest.approx(expected, abs=1e-15)


def _brute_force_expected_max(scores: list[float], k: int) -> Fraction:
    subsets = list(itertools.combinations(range(len(scores)), k))
    return sum((Fraction(max(scores[i] for i in subset)) for subset in subsets), Fraction(0)) / len(subsets)


def test_pass_at_k_matches_brute_force_enumeration() -> None:
    rng = random.Random(1234)
    for _ in range(300):
        n = rng.randint(1, 9)
        binary = rng.random() < 0.5
        scores = [
            float(rng.randint(0, 1)) if binary else rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, rng.random()])
            for _ in range(n)
        ]
        for k in range(1, n + 1):
            expected = _brute_force_expected_max(scores, k)
            got = pass_at_k_from_scores(scores, k)
            assert got == pytest.approx(float(expected), abs=1e-12), (scores, k)
            if all(score in (0.0, 1.0) for score in scores):
                # binary: the estimator is the exact fraction rounded once
                assert got == float(expected), (scores, k)


# ---------------------------------------------------------------------------------------------------------------
# majority@k


def test_equivalent_numeric_strings_vote_together() -> None:
    answers = ["204", "204.0", " 204 ", "17", "17"]
    scores = [1, 1, 1, 0, 0]
    # By raw string "17" has 2 votes against 1 for each spelling of 204, so the reference scored 0.
    # By value 204 has 3 votes against 2.
    vote = majority_vote(answers, scores)
    assert vote.score == 1.0
    assert vote.votes == 3
    assert vote.winners == ("204",)
    assert not vote.no_answer
    assert same_answer("204", "2.04e2") and same_answer("-0", "0") and same_answer(".5", "0.50")
    assert not same_answer("204", "204x") and not same_answer("1e1", "1E+1 apples")


def test_majority_ties_average_the_tied_classes() -> None:
    answers = ["1", "2", "1", "2"]
    scores = [1, 0, 1, 0]
    assert majority_vote(answers, scores, k=2).score == 0.5  # "1" vs "2", one vote each: (1 + 0) / 2
    assert majority_vote(answers, scores, k=3).score == 1.0  # "1" has 2 votes, "2" has 1
    tie = majority_vote(answers, scores, k=4)  # 2 votes each: (1 + 0) / 2
    assert tie.score == 0.5 and tie.votes == 2 and tie.winners == ("1", "2")
    # three-way tie of partially-credited classes: (0.3 + 0.6 + 0.9) / 3 = 0.6
    assert majority_vote(["a", "b", "c"], [0.3, 0.6, 0.9]).score == pytest.approx(0.6, abs=1e-15)


def test_majority_partial_credit_class_uses_mean() -> None:
    # class "a": scores 1.0 and 0.5 -> mean 0.75 with 2 votes; class "b": 1 vote
    assert majority_vote(["a", "a", "b"], [1.0, 0.5, 0.0]).score == 0.75
    # identical member scores are used as they are (no averaging error): 0.1 stays 0.1
    assert majority_vote(["a", "a", "a"], [0.1, 0.1, 0.1]).score == 0.1


def test_majority_missing_answers_never_vote() -> None:
    all_missing = majority_vote([None, "", "   "], [0, 0, 0])
    assert all_missing.no_answer and all_missing.score == 0.0 and all_missing.votes == 0
    # three missing answers (even "correct" ones, as a judge might grade) do not outvote one real answer
    vote = majority_vote([None, None, None, "7"], [1, 1, 1, 0])
    assert vote.score == 0.0 and vote.winners == ("7",) and not vote.no_answer
    assert majority_vote([None, "7"], [0, 1], k=1).no_answer  # only the first k samples vote


def test_majority_custom_equivalence() -> None:
    vote = majority_vote(["X", "x", "y", "y", "Y"], [1, 1, 0, 0, 0], k=3, same=lambda a, b: a.lower() == b.lower())
    assert vote.score == 1.0 and vote.winners == ("X",)
    with pytest.raises(ValueError, match="1 <= k <= 2"):
        majority_vote(["1", "2"], [1, 0], k=3)


def _brute_force_majority(answers: list[str | None], scores: list[float], k: int) -> tuple[float, bool]:
    """A deliberately different implementation: pairwise equivalence over all valid answers."""
    valid = [i for i in range(k) if answers[i] is not None and answers[i].strip()]
    if not valid:
        return 0.0, True
    classes = {frozenset(j for j in valid if same_answer(answers[i], answers[j])) for i in valid}
    most = max(len(c) for c in classes)
    tied = [c for c in classes if len(c) == most]
    class_scores = [sum(Fraction(scores[i]) for i in c) / len(c) for c in tied]
    return float(sum(class_scores, Fraction(0)) / len(class_scores)), False


def test_majority_matches_brute_force() -> None:
    rng = random.Random(99)
    pool = ["1", "1.0", " 1", "01", "2", "2.00", "x", " x ", "y", "1/2", None, "", "  "]
    for _ in range(500):
        n = rng.randint(1, 8)
        answers = [rng.choice(pool) for _ in range(n)]
        scores = [
            rng.choice([0.0, 1.0]) if rng.random() < 0.6 else rng.choice([0.0, 0.25, 0.5, 1.0]) for _ in range(n)
        ]
        for k in range(1, n + 1):
            vote = majority_vote(answers, scores, k)
            expected, no_answer = _brute_force_majority(answers, scores, k)
            assert vote.no_answer == no_answer, (answers, scores, k)
            assert vote.score == pytest.approx(expected, abs=1e-12), (answers, scores, k)


# ---------------------------------------------------------------------------------------------------------------
# aggregation


def _table() -> list[list[GradedSample]]:
    """4 problems x 3 seeds; every sample has 100 tokens except the truncated one (1000)."""
    s = GradedSample
    return [
        # P0: scores 1, 1, 0; "4" and "4.0" are one answer
        [s(1, "4", "stop", 100, 10.0, 20.0), s(1, "4.0", "stop", 100), s(0, "5", "stop", 100)],
        # P1: scores 0, 0, 1; seed 1 was truncated and has no answer
        [s(0, "3", "stop", 100), s(0, None, "length", 1000), s(1, "2", "stop", 100, 30.0, 70.4)],
        # P2: no answer in any seed (one empty string)
        [s(0, None, "stop", 100), s(0, None, "stop", 100), s(0, "", "stop", 100)],
        # P3: scores 1, 0, 1
        [s(1, "7", "stop", 100), s(0, "8", "stop", 100), s(1, "7", "stop", 100)],
    ]


def test_hand_checked_table() -> None:
    metrics = compute_metrics(_table())
    assert list(metrics) == ["pass@1[avg-of-3]", "majority@2", "majority@3", "pass@1", "pass@2", "pass@3"]
    for mode in metrics.values():
        assert mode["num_entries"] == 4
        assert mode["avg_tokens"] == 175  # (11 * 100 + 1000) / 12 = 2100 / 12
        assert mode["gen_seconds"] == 60  # max end 70.4 - min start 10.0 = 60.4, rounded

    avg = metrics["pass@1[avg-of-3]"]
    assert avg["accuracy"] == pytest.approx(100 * 5 / 12)  # 2 + 1 + 0 + 2 correct of 12 samples = 41.67%
    assert avg["no_answer"] == pytest.approx(100 * 4 / 12)  # 1 (P1) + 3 (P2) missing of 12 samples = 33.33%
    # per-seed accuracy: seed0 (1+0+0+1)/4 = 50, seed1 (1+0+0+0)/4 = 25, seed2 (0+1+0+1)/4 = 50; mean 125/3
    # deviations 25/3, -50/3, 25/3; sum of squares 3750/9; / (3-1) = 1875/9; std = sqrt(1875)/3 = 25/sqrt(3)
    assert avg["accuracy_std_dev_across_runs"] == pytest.approx(25 / math.sqrt(3))  # 14.43 points
    assert avg["accuracy_std_err_across_runs"] == pytest.approx(25 / 3)  # (25/sqrt(3)) / sqrt(3) = 8.33 points
    assert avg["truncated"] == pytest.approx(100 / 12)  # 1 of 12 = 8.33% > 5%
    assert avg["accuracy_completed_only"] == pytest.approx(100 * 5 / 11)  # 5 correct of the 11 completed
    assert len(avg["warnings"]) == 1 and "8.33% of generations (1 of 12) were truncated" in avg["warnings"][0]

    # pass@k per problem (c correct of n=3): P0 c=2, P1 c=1, P2 c=0, P3 c=2
    assert metrics["pass@1"]["accuracy"] == pytest.approx(100 * 5 / 12)  # (2/3 + 1/3 + 0 + 2/3) / 4
    # pass@2: P0 1 (one wrong < k), P1 1 - C(2,2)/C(3,2) = 2/3, P2 0, P3 1 -> (8/3) / 4 = 2/3
    assert metrics["pass@2"]["accuracy"] == pytest.approx(100 * 2 / 3)
    assert metrics["pass@3"]["accuracy"] == pytest.approx(75.0)  # P0, P1, P3 have a correct sample
    # no_answer for pass@k: mean of C(m,k)/C(3,k), m missing per problem = 0, 1, 3, 0
    assert metrics["pass@1"]["no_answer"] == pytest.approx(100 / 3)  # (0 + 1/3 + 1 + 0) / 4 = sample share
    assert metrics["pass@2"]["no_answer"] == pytest.approx(25.0)  # (0 + C(1,2)=0 + 3/3 + 0) / 4
    assert metrics["pass@3"]["no_answer"] == pytest.approx(25.0)  # only P2 has no answer at all

    # majority@2 (first 2 seeds): P0 "4"~"4.0" -> 1; P1 "3" (None does not vote) -> 0; P2 none -> 0;
    # P3 "7" vs "8" tie -> (1 + 0) / 2 = 0.5.  (1 + 0 + 0 + 0.5) / 4 = 37.5%
    assert metrics["majority@2"]["accuracy"] == pytest.approx(37.5)
    # majority@3: P0 {"4","4.0"} 2 votes vs "5" -> 1 (by raw string a 3-way tie: 2/3); P1 "3" vs "2" tie -> 0.5;
    # P2 -> 0; P3 "7" 2 votes -> 1.  (1 + 0.5 + 0 + 1) / 4 = 62.5%
    assert metrics["majority@3"]["accuracy"] == pytest.approx(62.5)
    assert metrics["majority@2"]["no_answer"] == pytest.approx(25.0)  # P2 only
    assert metrics["majority@3"]["no_answer"] == pytest.approx(25.0)
    json.dumps(metrics)  # the layout is JSON-serialisable as it is


def test_no_answer_never_above_100_percent() -> None:
    # The reference's bug: counting missing answers per sample but dividing by problems gave up to N * 100%.
    problems = [[GradedSample(0, None) for _ in range(4)] for _ in range(3)]
    metrics = compute_metrics(problems)
    for name, mode in metrics.items():
        assert mode["no_answer"] == 100.0, name
        assert mode["accuracy"] == 0.0, name
    rng = random.Random(7)
    for _ in range(50):
        n = rng.randint(1, 6)
        problems = [
            [GradedSample(rng.choice([0, 1]), rng.choice([None, "", "1", "2"])) for _ in range(n)]
            for _ in range(rng.randint(1, 5))
        ]
        for mode in compute_metrics(problems, ks=range(1, n + 1)).values():
            assert 0.0 <= mode["no_answer"] <= 100.0
            assert 0.0 <= mode["accuracy"] <= 100.0


def test_empty_output_no_answer_and_truncation() -> None:
    # empty generation (no answer, finished), an answer that is wrong, and a truncated generation
    problems = [
        [GradedSample(0, None, "stop", 0)],
        [GradedSample(0, "12", "stop", 50)],
        [GradedSample(0, None, "length", 4096)],
    ]
    metrics = compute_metrics(problems)
    assert list(metrics) == ["pass@1"]  # N = 1: the average is reported as pass@1, as the reference does
    mode = metrics["pass@1"]
    assert mode["accuracy"] == 0.0
    assert mode["no_answer"] == pytest.approx(200 / 3)  # 2 of 3 samples have no answer
    assert mode["truncated"] == pytest.approx(100 / 3)
    assert mode["accuracy_completed_only"] == 0.0
    assert mode["accuracy_std_dev_across_runs"] is None and mode["accuracy_std_err_across_runs"] is None
    assert mode["avg_tokens"] == 1382  # (0 + 50 + 4096) / 3 = 1382.0
    assert "gen_seconds" not in mode  # no timestamps
    assert mode["warnings"]

    all_truncated = compute_metrics([[GradedSample(1, "1", "length"), GradedSample(0, "2", "length")]])
    avg = all_truncated["pass@1[avg-of-2]"]
    assert avg["truncated"] == 100.0 and avg["accuracy_completed_only"] is None
    assert "completed-only accuracy: n/a" in avg["warnings"][0]
    assert "avg_tokens" not in avg


def test_truncation_warning_threshold_is_strictly_above_5_percent() -> None:
    def run(truncated: int) -> list[str]:
        problems = [[GradedSample(1, "1", "length" if i < truncated else "stop")] for i in range(20)]
        return compute_metrics(problems)["pass@1"]["warnings"]

    assert run(1) == []  # 1 of 20 = 5.00%: not above 5%
    assert len(run(2)) == 1  # 2 of 20 = 10%


def test_std_on_three_seeds() -> None:
    # 2 problems x 3 seeds; per-seed accuracy: seed0 (1+1)/2 = 100, seed1 (1+0)/2 = 50, seed2 (0+0)/2 = 0
    # mean 50; deviations 50, 0, -50; sum of squares 5000; / 2 = 2500; std = 50; stderr = 50 / sqrt(3) = 28.87
    problems = [
        [GradedSample(1, "a"), GradedSample(1, "a"), GradedSample(0, "b")],
        [GradedSample(1, "a"), GradedSample(0, "b"), GradedSample(0, "b")],
    ]
    avg = compute_metrics(problems)["pass@1[avg-of-3]"]
    assert avg["accuracy"] == pytest.approx(50.0)  # 3 of 6
    assert avg["accuracy_std_dev_across_runs"] == pytest.approx(50.0)
    assert avg["accuracy_std_err_across_runs"] == pytest.approx(50 / math.sqrt(3))


def test_partial_credit_aggregation() -> None:
    problems = [[GradedSample(0.5, "a"), GradedSample(1.0, "b"), GradedSample(0.0, "c"), GradedSample(0.5, "a")]]
    metrics = compute_metrics(problems, score_name="score")
    assert metrics["pass@1[avg-of-4]"]["score"] == pytest.approx(50.0)  # (0.5 + 1 + 0 + 0.5) / 4
    # sorted 0, .5, .5, 1; pass@2 = (0.5*C(1,1) + 0.5*C(2,1) + 1*C(3,1)) / C(4,2) = (0.5 + 1 + 3) / 6 = 0.75
    assert metrics["pass@2"]["score"] == pytest.approx(75.0)
    assert metrics["pass@4"]["score"] == pytest.approx(100.0)
    # majority@2: "a" vs "b" tie -> (0.5 + 1.0) / 2 = 0.75; majority@4: "a" 2 votes, score 0.5
    assert metrics["majority@2"]["score"] == pytest.approx(75.0)
    assert metrics["majority@4"]["score"] == pytest.approx(50.0)


def test_mismatched_sample_counts_raise() -> None:
    problems = [[GradedSample(1)] * 3, [GradedSample(1)] * 3, [GradedSample(1)] * 2, [GradedSample(1)]]
    with pytest.raises(ValueError, match="Problem 2 has 2 samples but problem 0 has 3"):
        compute_metrics(problems)
    with pytest.raises(ValueError, match="No problems"):
        compute_metrics([])
    with pytest.raises(ValueError, match="Problem 0 has no samples"):
        compute_metrics([[]])
    with pytest.raises(ValueError, match=r"Problem 1, sample 0: the score must lie in \[0, 1\]"):
        compute_metrics([[GradedSample(1)], [GradedSample(2)]])
    with pytest.raises(ValueError, match="pass@5"):
        compute_metrics([[GradedSample(1)] * 3], ks=[5])


def test_reported_ks_and_options() -> None:
    assert default_ks(1) == [1]
    assert default_ks(6) == [1, 2, 4, 6]
    assert default_ks(8) == [1, 2, 4, 8]
    problems = [[GradedSample(1, None)] * 3]
    metrics = compute_metrics(problems, ks=range(1, 4), has_answers=False)
    assert list(metrics) == ["pass@1[avg-of-3]", "pass@1", "pass@2", "pass@3"]  # no majority without answers
    assert all("no_answer" not in mode for mode in metrics.values())


# ---------------------------------------------------------------------------------------------------------------
# loader


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_loader_reads_seeds_in_lockstep(tmp_path: Path) -> None:
    seed0 = _write(
        tmp_path / "output-rs0.jsonl",
        [
            {"symbolic_correct": True, "predicted_answer": "4", "num_generated_tokens": 10, "finish_reason": "stop"},
            {"symbolic_correct": False, "predicted_answer": None},
        ],
    )
    seed1 = _write(
        tmp_path / "output-rs1.jsonl",
        [
            {"symbolic_correct": False, "predicted_answer": 5, "generation_start_time": 1, "generation_end_time": 3},
            {"symbolic_correct": True, "predicted_answer": "2", "finish_reason": "length"},
        ],
    )
    problems = load_graded_samples([seed0, seed1], "symbolic_correct")
    assert problems[0][0] == GradedSample(1.0, "4", "stop", 10)
    assert problems[0][1] == GradedSample(0.0, "5", None, None, 1.0, 3.0)
    assert problems[1][1].finish_reason == "length"
    assert compute_metrics(problems)["pass@1[avg-of-2]"]["accuracy"] == 50.0  # 2 correct of 4


def test_loader_errors(tmp_path: Path) -> None:
    good = _write(tmp_path / "a.jsonl", [{"correct": 1}, {"correct": 0}])
    short = _write(tmp_path / "b.jsonl", [{"correct": 1}])
    with pytest.raises(InputError, match="has 1 rows but"):
        load_graded_samples([good, short], "correct")
    ungraded = _write(tmp_path / "c.jsonl", [{"generation": "x"}])
    with pytest.raises(InputError, match=r"c.jsonl:1: no `correct` field"):
        load_graded_samples([ungraded], "correct")
    bad = _write(tmp_path / "d.jsonl", [{"correct": "yes"}])
    with pytest.raises(InputError, match="must be a boolean or a number"):
        load_graded_samples([bad], "correct")
    with pytest.raises(InputError, match="No output files"):
        load_graded_samples([], "correct")
