"""The math-correctness reward: 1.0 when a response's final answer equals the expected one, else 0.0.

The answer is the last `\\boxed{...}` of the response after its thinking (the text after the last `</think>`; a
response whose thinking never ended has no answer), extracted and compared by the same grader `ns eval` uses
(`nemo_skills.evaluation.math_grader`: exact and numeric fast paths, then math-verify's symbolic check). No
answer, a missing expected answer, a check that errs or runs past `timeout_s` all give 0.0, never an exception.
math-verify's time limit works through SIGALRM on the main thread only; on other threads the check is unbounded
(see `math_grader`), so run rewards on a main thread or in worker processes.
"""

from __future__ import annotations

import logging

LOG = logging.getLogger(__name__)


def math_reward(
    generation: str | None,
    expected_answer: str | int | float | None,
    *,
    timeout_s: float = 10.0,
    remove_thinking: bool = True,
) -> float:
    """1.0 if the last boxed answer of `generation` is mathematically equal to `expected_answer`, else 0.0."""
    from math_verify.errors import TimeoutException

    from nemo_skills.evaluation.evaluate import strip_thinking
    from nemo_skills.evaluation.math_grader import extract_answer, math_equal

    if not generation or expected_answer is None or not str(expected_answer).strip():
        return 0.0
    text = strip_thinking(generation, "<think>", "</think>") if remove_thinking else generation
    try:
        predicted = extract_answer(text)
        if predicted is None:
            return 0.0
        return 1.0 if math_equal(expected_answer, predicted, timeout_s=timeout_s) else 0.0
    except (Exception, TimeoutException) as error:  # math-verify's timeout is a BaseException
        LOG.debug("math_reward: grading failed (%s): 0.0", type(error).__name__)
        return 0.0
