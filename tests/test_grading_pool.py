"""grade_in_processes: order, hard per-item time limits, per-item errors, dead workers."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time

import pytest

from nemo_skills.evaluation.grading_pool import GradeOutcome, WorkerStartupError, grade_in_processes


# Worker functions must be top-level to be picklable.
def square(x: int) -> int:
    return x * x


def hang_on(item: str) -> str:
    """'sleep': sleeps with the usual termination signals ignored; 'bigint': a C-level computation holding the GIL."""
    if item == "sleep":
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        time.sleep(3600)
    if item == "bigint":
        return str(len(str(10**10**8)))  # hours of work inside one C call
    return item.upper()


def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def exit_on(x: int) -> int:
    if x == 3:
        os._exit(7)  # the worker vanishes without a word
    return x


def unpicklable_result(x: int) -> object:
    return threading.Lock() if x == 1 else x


def test_results_come_back_in_input_order_across_workers_and_chunks() -> None:
    items = list(range(1000))
    outcomes = grade_in_processes(square, items, num_workers=2, item_timeout_s=10, chunk_size=7)
    assert [outcome.value for outcome in outcomes] == [x * x for x in items]
    assert all(outcome.ok and not outcome.timed_out for outcome in outcomes)


def test_empty_input_starts_nothing() -> None:
    assert grade_in_processes(square, [], item_timeout_s=1) == []


@pytest.mark.timeout(60)  # without a working limit this test would hang for hours
@pytest.mark.parametrize("num_workers", [1, 2])
def test_hung_items_are_killed_and_the_rest_still_finish(num_workers: int) -> None:
    # one chunk holds everything, so the items after each hung one must be re-queued to a fresh worker
    items = ["a", "sleep", "b", "bigint", "c", "d"]
    started = time.monotonic()
    outcomes = grade_in_processes(hang_on, items, num_workers=num_workers, item_timeout_s=1.0, chunk_size=len(items))
    elapsed = time.monotonic() - started
    assert [outcome.value for outcome in outcomes] == ["A", None, "B", None, "C", "D"]
    assert [outcome.timed_out for outcome in outcomes] == [False, True, False, True, False, False]
    assert outcomes[1].error is not None and "timed out" in outcomes[1].error
    assert not outcomes[3].ok
    assert elapsed < 8, elapsed  # two 1 s limits, run one after the other at worst, plus worker restarts


def test_items_under_the_limit_are_not_killed() -> None:
    outcomes = grade_in_processes(sleep_for, [0.4, 0.4, 0.4], num_workers=1, item_timeout_s=1.0, chunk_size=3)
    assert [outcome.value for outcome in outcomes] == [0.4, 0.4, 0.4]
    assert not any(outcome.timed_out for outcome in outcomes)


def test_exceptions_are_recorded_per_item_never_as_a_value() -> None:
    outcomes = grade_in_processes(fail_on_odd, list(range(6)), num_workers=2, item_timeout_s=5, chunk_size=2)
    for x, outcome in enumerate(outcomes):
        if x % 2:
            assert outcome == GradeOutcome(error=f"ValueError: odd {x}")
            assert not outcome.ok
        else:
            assert outcome == GradeOutcome(value=x)


def test_a_worker_that_dies_costs_only_its_item() -> None:
    outcomes = grade_in_processes(exit_on, list(range(6)), num_workers=1, item_timeout_s=5, chunk_size=6)
    assert [outcome.value for outcome in outcomes] == [0, 1, 2, None, 4, 5]
    assert outcomes[3].error is not None and "exit code 7" in outcomes[3].error
    assert not outcomes[3].timed_out


def test_an_unpicklable_result_is_an_error_for_that_item_only() -> None:
    outcomes = grade_in_processes(unpicklable_result, [0, 1, 2], num_workers=1, item_timeout_s=5)
    assert outcomes[0].value == 0 and outcomes[2].value == 2
    assert outcomes[1].value is None and "could not be sent back" in (outcomes[1].error or "")


def test_an_unpicklable_function_fails_loudly() -> None:
    with pytest.raises(Exception, match="pickle|lambda"):
        grade_in_processes(lambda x: x, [1], item_timeout_s=1)


def test_a_function_workers_cannot_import_fails_loudly(tmp_path, monkeypatch) -> None:
    (tmp_path / "vanishing_grader.py").write_text("def grade(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import vanishing_grader

    (tmp_path / "vanishing_grader.py").unlink()  # a fresh process can no longer import it
    try:
        with pytest.raises(WorkerStartupError, match="vanishing_grader"):
            grade_in_processes(vanishing_grader.grade, [1, 2], num_workers=1, item_timeout_s=30, start_method="spawn")
    finally:
        sys.modules.pop("vanishing_grader", None)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        grade_in_processes(square, [1], item_timeout_s=0)
    with pytest.raises(ValueError):
        grade_in_processes(square, [1], item_timeout_s=1, chunk_size=0)


def test_forkserver_workers_import_the_function() -> None:
    outcomes = grade_in_processes(square, [2, 3], num_workers=2, item_timeout_s=30, start_method="forkserver")
    assert [outcome.value for outcome in outcomes] == [4, 9]


def test_math_grading_in_workers_matches_in_process() -> None:
    # imported here so that workers started by forkserver (which import this module) start quickly
    from nemo_skills.evaluation.math_grader import math_equal, math_equal_pair

    pairs = [("\\frac{1}{2}", "0.5"), ("x^2+1", "1+x^2"), ("(1,2]", "[1,2]"), ("3", "\\boxed{3}"), ("7", None)] * 4
    grade = functools.partial(math_equal_pair, timeout_s=5)
    outcomes = grade_in_processes(grade, pairs, num_workers=2, item_timeout_s=30, chunk_size=3)
    assert [outcome.value for outcome in outcomes] == [math_equal(g, p) for g, p in pairs]
    assert [outcome.value for outcome in outcomes[:5]] == [True, True, False, True, False]
