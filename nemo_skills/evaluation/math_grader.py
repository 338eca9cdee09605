"""Math and multiple-choice grading: answer extraction and answer equivalence (pure functions).

Extraction
    `extract_answer` returns the model's final answer: the content of the **last** `\\boxed{...}` / `\\fbox{...}`
    (braces matched, so nested braces survive; `\\boxed 5` without braces works too), or group 1 of the **last**
    match of `extract_regex`. It returns None when there is no answer, including a last box whose braces never
    close (a truncated generation): an earlier box is *not* used instead, because the model had moved past it.
    `fallback_to_last_number=True` (gsm8k-style benchmarks) falls back to the last number in the text.

Equivalence
    `math_equal(expected, predicted)` is True when the predicted answer equals the expected one. Cheap exact checks
    come first (normalised text, numbers by value, intervals/sets/tuples of numbers, arithmetic expressions, also
    in single-letter variables; see `math_fastpath`), and only answers they cannot settle go to math-verify's
    sympy-based `parse` + `verify`, whose results are cached per (expected, predicted).
    Expected answers that are a single letter A-J are treated as multiple-choice letters; `take_modulo` compares
    integers modulo m. Percent signs on plain numbers are dropped (`50\\%` equals `50`, not `0.5`), as in the
    reference implementation.

Timeouts and threads
    math-verify bounds its own work with `signal.alarm`, which only works on the main thread. On the main thread
    `math_equal` passes `timeout_s` (rounded up to whole seconds) to it; on any other thread it disables that
    timeout, so a pathological answer can run unbounded there. Grade many answers with
    `grading_pool.grade_in_processes`, whose per-item limit kills the worker process and holds on every thread.
    While math-verify runs on the main thread its alarm takes over SIGALRM; a timer the caller had set (pytest-timeout,
    for one) is re-armed afterwards with the time it had left, so it fires late rather than never.
"""

from __future__ import annotations

import logging
import math
import re
import signal
import threading
import time
from functools import lru_cache

import math_verify

from nemo_skills.evaluation.math_fastpath import drop_assignment, fast_verdict, matching_brace, prepare
from nemo_skills.evaluation.math_values import parse_scalar

__all__ = [
    "CHOICE_LETTERS",
    "DEFAULT_CHOICE_REGEX",
    "DEFAULT_EXTRACT_REGEX",
    "choice_equal",
    "extract_answer",
    "extract_choice_letter",
    "last_number",
    "math_equal",
    "math_equal_pair",
]

DEFAULT_EXTRACT_REGEX = r"The final answer is (.+)$"
CHOICE_LETTERS = "ABCDEFGHIJ"

# --- extraction ---------------------------------------------------------------------------------------------------

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_UNBRACED_BOX_TOKEN = re.compile(r"[^\s$]+")
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:/\d+)?")


def _last_boxed(text: str) -> str | None:
    boxes = list(_BOX.finditer(text))
    if not boxes:
        return None
    pos = boxes[-1].end()
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos < len(text) and text[pos] == "{":
        end = matching_brace(text, pos)
        return None if end is None else text[pos + 1 : end]
    if pos == boxes[-1].end():  # `\boxed5` is not LaTeX for a box; `\boxed 5` is
        return None
    token = _UNBRACED_BOX_TOKEN.match(text, pos)
    return token.group(0) if token else None


def last_number(text: str | None) -> str | None:
    """The last number in `text` (integer, decimal or `a/b`), thousands separators removed; None if there is none."""
    if not text:
        return None
    numbers = _NUMBER_IN_TEXT.findall(text)
    return numbers[-1].replace(",", "").lstrip("+") if numbers else None


def extract_answer(
    text: str | None,
    *,
    extract_from_boxed: bool = True,
    extract_regex: str = DEFAULT_EXTRACT_REGEX,
    fallback_to_last_number: bool = False,
) -> str | None:
    """The final answer in a generation (see the module docstring), stripped; None when there is none."""
    if not text:
        return None
    if extract_from_boxed:
        answer = _last_boxed(text)
    else:
        matches = list(re.finditer(extract_regex, text, re.MULTILINE))
        answer = None
        if matches:
            last = matches[-1]
            answer = last.group(1) if last.re.groups else last.group(0)
    answer = answer.strip() if answer else None
    if not answer and fallback_to_last_number:
        return last_number(text)
    return answer or None


# --- multiple choice ----------------------------------------------------------------------------------------------

_TEXT_COMMAND = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_LONE_LETTER = re.compile(r"^[\s$({\[*]*([A-Ja-j])[\s$)}\].:*]*$")
_STANDALONE_LETTER = re.compile(r"(?<![A-Za-z\\])[A-J](?![A-Za-z])")
DEFAULT_CHOICE_REGEX = r"(?i:answer)\s*(?:is)?\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*\(?\s*([A-J])(?![A-Za-z])"


def _letter_in(content: str) -> str | None:
    """`B`, `(B)`, `\\text{(B)}`, `b` -> `B`; otherwise the last standalone capital A-J; else None."""
    content = _TEXT_COMMAND.sub(r"\1", content)
    if lone := _LONE_LETTER.match(content):
        return lone.group(1).upper()
    letters = _STANDALONE_LETTER.findall(content)
    return letters[-1] if letters else None


def extract_choice_letter(
    text: str | None,
    *,
    extract_from_boxed: bool = True,
    extract_regex: str = DEFAULT_CHOICE_REGEX,
) -> str | None:
    """The chosen letter A-J, or None.

    With `extract_from_boxed`, the letter in the last box (`\\boxed{B}`, `\\boxed{\\text{(B)}}`, or the last standalone
    A-J inside it). When that finds none (or boxes are off), the last match of `extract_regex` (default: `Answer: X`),
    whose group 1 (or whole match) is read the same way.
    """
    if not text:
        return None
    if extract_from_boxed and (boxed := _last_boxed(text)) is not None:
        if (letter := _letter_in(boxed)) is not None:
            return letter
    matches = list(re.finditer(extract_regex, text, re.MULTILINE))
    if not matches:
        return None
    last = matches[-1]
    return _letter_in(last.group(1) if last.re.groups else last.group(0))


def choice_equal(expected: str, predicted: str | None) -> bool:
    """Exact letter comparison (the expected letter is stripped and upper-cased; the predicted one is not)."""
    return predicted is not None and predicted == expected.strip().upper()


# --- equivalence --------------------------------------------------------------------------------------------------


def _as_integer(text: str) -> int | None:
    scalar = parse_scalar(prepare(text)[1])
    if scalar is None or scalar.infinity or scalar.value.denominator != 1:
        return None
    return int(scalar.value)


def _signal_timeout(timeout_s: float | None) -> int | None:
    """math-verify's own timeout in whole seconds, or None where signals cannot be used (off the main thread)."""
    if timeout_s is None or timeout_s <= 0:
        return None
    if threading.current_thread() is not threading.main_thread():
        _quiet_disabled_timeout_warning()
        return None
    return max(1, math.ceil(timeout_s))


class _DisabledTimeoutFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Timeout is disabled")


@lru_cache(maxsize=1)
def _quiet_disabled_timeout_warning() -> None:
    # math-verify warns once that its timeout is off; off the main thread that is our documented choice
    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addFilter(_DisabledTimeoutFilter())


class _NothingParsed(Exception):
    pass


@lru_cache(maxsize=16384)
def _parse(answer: str, timeout: int | None) -> list:
    parsed = math_verify.parse(f"${answer}$", parsing_timeout=timeout)  # type: ignore[arg-type]
    if not parsed:
        raise _NothingParsed  # not cached: a parse that timed out may succeed another time
    return parsed


@lru_cache(maxsize=16384)
def _symbolic_equal(expected: str, predicted: str, numeric_precision: int, timeout: int | None) -> bool:
    try:
        gold, pred = _parse(expected, timeout), _parse(predicted, timeout)
    except _NothingParsed:
        return False
    return math_verify.verify(gold, pred, numeric_precision=numeric_precision, timeout_seconds=timeout)


def math_equal(
    expected: str | int | float | None,
    predicted: str | int | float | None,
    *,
    take_modulo: int | None = None,
    numeric_precision: int = 15,
    timeout_s: float = 10.0,
) -> bool:
    """Whether `predicted` is the same answer as `expected` (see the module docstring). None or empty is False."""
    if expected is None or predicted is None:
        return False
    expected, predicted = str(expected).strip(), str(predicted).strip()
    if take_modulo is not None:
        gold_int, pred_int = _as_integer(expected), _as_integer(predicted)
        return gold_int is not None and pred_int is not None and gold_int % take_modulo == pred_int % take_modulo
    if len(expected) == 1 and expected in CHOICE_LETTERS:
        return _letter_in(predicted) == expected
    (gold, gold_key), (pred, pred_key) = prepare(expected), prepare(predicted)
    if not gold or not pred:
        return False
    gold_key, pred_key = drop_assignment(gold_key, pred_key)
    if gold_key == pred_key:
        return True
    verdict = fast_verdict(gold_key, pred_key)
    if verdict is not None:
        return verdict
    timeout = _signal_timeout(timeout_s)
    if timeout is None:
        return _symbolic_equal(gold, pred, numeric_precision, None)
    remaining, interval = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    try:
        return _symbolic_equal(gold, pred, numeric_precision, timeout)
    finally:
        if remaining > 0:  # math-verify cancelled the caller's timer: re-arm it
            left = remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), interval)


def math_equal_pair(
    pair: tuple[str | int | float | None, str | int | float | None],
    *,
    take_modulo: int | None = None,
    numeric_precision: int = 15,
    timeout_s: float = 10.0,
) -> bool:
    """`math_equal(*pair)`: a picklable one-argument form for `grade_in_processes` (bind options with partial)."""
    return math_equal(
        pair[0], pair[1], take_modulo=take_modulo, numeric_precision=numeric_precision, timeout_s=timeout_s
    )
