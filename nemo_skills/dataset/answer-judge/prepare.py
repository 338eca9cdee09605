"""Answer judgement: a small hand-written set of (problem, expected answer, predicted answer, verdict) cases for
checking a model as a math answer judge. The reference ships a handful of inline examples rather than a
downloaded dataset; these are our own cases covering the same kinds of traps: notation that differs but agrees
(fractions vs decimals, thousands separators, reordered sums, unordered solution sets) and answers that look
alike but differ (open vs closed intervals, ordered pairs, units asked for, plain wrong values).
`expected_judgement` is "Judgement: Yes" or "Judgement: No", the format the judge/math prompt asks for."""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.prepare import PrepareContext

# (problem, expected_answer, predicted_answer, answers match?, why)
CASES: tuple[tuple[str, str, str, bool, str], ...] = (
    ("What is $\\frac{3}{4} + \\frac{1}{2}$?", "\\frac{5}{4}", "1.25", True, "same value, fraction vs decimal"),
    (
        "Find all real solutions of $x^2 - 5x + 6 = 0$, separated by commas.",
        "2, 3",
        "x = 3 \\text{ or } x = 2",
        True,
        "the same solution set, listed in another order",
    ),
    (
        "Solve $|x - 1| < 2$. Give your answer in interval notation.",
        "(-1, 3)",
        "[-1, 3]",
        False,
        "closed interval includes endpoints the strict inequality excludes",
    ),
    ("Simplify $\\sqrt{50}$.", "5\\sqrt{2}", "\\sqrt{2} \\cdot 5", True, "factors in another order"),
    (
        "A shirt costs \\$40 and is discounted by 15\\%. What is the sale price, in dollars?",
        "34",
        "\\$34.00",
        True,
        "the dollar sign and trailing zeros do not change the value",
    ),
    (
        "What is the smallest positive angle, in degrees, whose sine equals $\\frac{1}{2}$?",
        "30",
        "\\frac{\\pi}{6}",
        False,
        "the problem asks for degrees; the prediction is in radians",
    ),
    ("Compute $\\binom{6}{2}$.", "15", "16", False, "different values"),
    ("Expand $(x+1)^2$.", "x^2 + 2x + 1", "x^2 + 1 + 2x", True, "the same polynomial with terms reordered"),
    (
        "Find the ordered pair $(x, y)$ with $x + y = 5$ and $x - y = 1$.",
        "(3, 2)",
        "(2, 3)",
        False,
        "an ordered pair: swapping the coordinates changes the answer",
    ),
    ("What is $2^{10}$?", "1024", "1,024", True, "a thousands separator only"),
    (
        "Two fair six-sided dice are rolled. What is the probability that the sum is 7? Express your answer as a "
        "common fraction.",
        "\\frac{1}{6}",
        "\\frac{7}{36}",
        False,
        "different values",
    ),
)


def rows() -> list[dict[str, Any]]:
    return [
        {
            "id": f"answer-judge-{index}",
            "problem": problem,
            "expected_answer": expected,
            "predicted_answer": predicted,
            "expected_judgement": "Judgement: Yes" if match else "Judgement: No",
            "comment": why,
        }
        for index, (problem, expected, predicted, match, why) in enumerate(CASES)
    ]


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", rows())
