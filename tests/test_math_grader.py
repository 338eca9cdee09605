"""Math / multiple-choice answer extraction and equivalence, on hand-checked cases."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from nemo_skills.evaluation.math_fastpath import drop_assignment, fast_verdict, prepare
from nemo_skills.evaluation.math_grader import (
    choice_equal,
    extract_answer,
    extract_choice_letter,
    last_number,
    math_equal,
)

# --- extraction ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("So the answer is $\\boxed{42}$.", "42"),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("nested: \\boxed{\\left\\{ \\frac{a}{b^{2}} \\right\\}} done", "\\left\\{ \\frac{a}{b^{2}} \\right\\}"),
        ("first \\boxed{1} then corrected \\boxed{2}", "2"),  # the last box wins
        ("\\boxed{\\boxed{7}}", "7"),
        ("\\fbox{3}", "3"),
        ("The answer is \\boxed 5$.", "5"),
        ("\\boxed{ 12 }", "12"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),  # escaped braces do not count
        ("no answer here", None),
        ("", None),
        (None, None),
        ("\\boxed{}", None),
        ("earlier \\boxed{3}, but then \\boxed{\\frac{1}{", None),  # truncated: the last box never closes
        ("\\boxedfoo{3}", None),
    ],
)
def test_extract_boxed(text: str | None, expected: str | None) -> None:
    assert extract_answer(text) == expected


def test_extract_by_regex_takes_the_last_match_per_line() -> None:
    text = "The final answer is 3\nwait, no.\nThe final answer is 4\nThat is all."
    assert extract_answer(text, extract_from_boxed=False) == "4"
    assert extract_answer("nothing", extract_from_boxed=False) is None
    assert extract_answer("Answer = 17!", extract_from_boxed=False, extract_regex=r"Answer = (\d+)") == "17"


def test_last_number_fallback() -> None:
    text = "She pays $1,250.50 in total, i.e. 3 payments. So 1,234 apples."
    assert last_number(text) == "1234"
    assert last_number("no digits") is None
    assert last_number("x2 is not a number, -7 is") == "-7"
    assert extract_answer("so it is 18.", fallback_to_last_number=True) == "18"
    assert extract_answer("so it is 18.") is None
    assert extract_answer("\\boxed{5} then 18", fallback_to_last_number=True) == "5"


# --- equivalence --------------------------------------------------------------------------------------------------

EQUAL = [
    ("42", "42"),
    ("42", " 42 "),
    ("1000", "1,000"),
    ("1000", "1\\,000"),
    ("-3", "- 3"),
    ("2", "2.0"),
    ("3", "3."),
    ("0.5", "\\frac{1}{2}"),
    ("\\frac{1}{2}", "0.5"),
    ("\\frac{3}{4}", "\\dfrac{3}{4}"),
    ("\\frac{3}{4}", "\\tfrac34"),
    ("-\\frac{3}{4}", "\\frac{-3}{4}"),
    ("-\\frac{3}{4}", "-0.75"),
    ("\\frac{1}{3}", "0.333333"),  # math-verify rounds floats to 6 decimals
    ("3/4", "\\frac{3}{4}"),
    ("50\\%", "50"),
    ("50", "50\\%"),
    ("10", "10\\text{ cm}"),
    ("10", "10 \\text{cm}^2"),
    ("10", "10 meters"),
    ("30", "30^\\circ"),
    ("30^{\\circ}", "30"),
    ("5", "\\$5"),
    ("5", "$5$"),
    ("5", "x = 5"),
    ("2\\sqrt{3}", "\\sqrt{12}"),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}"),
    ("\\frac{\\pi}{4}", "\\frac{1}{4}\\pi"),
    ("\\pi", "3.141593"),
    ("x^2+1", "1 + x^{2}"),
    ("(1,2]", "\\left( 1, 2 \\right]"),
    ("(-\\infty, 3)", "(-\\infty,3)"),
    ("(-\\infty,1)\\cup(2,\\infty)", "(2,\\infty)\\cup(-\\infty,1)"),
    ("\\{1, 2, 3\\}", "\\{3,2,1\\}"),
    ("1,2,3", "3, 2, 1"),
    ("(1, 2, 3)", "(1,2,3)"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"),
    ("\\begin{pmatrix} 1 & 2 \\end{pmatrix}", "\\begin{pmatrix} \\frac{2}{2} & 2 \\end{pmatrix}"),
    ("\\text{Monday}", "monday"),
    ("12345678901234567890", "12,345,678,901,234,567,890"),
    ("2^{10}", "1024"),
    ("\\{5\\}", "5"),
    ("\\frac{4\\pi}{13}", "0.966644"),
    ("y=5x+7", "y = 5x + 7"),
    ("x^2+12x+36", "(x+6)^2"),
    ("x(x+1)", "x^2+x"),
    ("\\frac{x+1}{x-1}", "\\frac{-x-1}{1-x}"),
    ("3+2i", "2i+3"),
    ("\\log_2 8", "3"),
]

NOT_EQUAL = [
    ("42", "43"),
    ("-3", "3"),
    ("0.5", "\\frac{1}{3}"),
    ("\\frac{1}{3}", "0.3333"),
    ("\\frac{1}{3}", "0.33"),
    ("50\\%", "0.5"),  # percent signs are dropped, not divided by 100
    ("12345678901234567890", "12345678901234567891"),
    ("2\\sqrt{3}", "\\sqrt{13}"),
    ("\\frac{\\pi}{4}", "\\frac{\\pi}{3}"),
    ("\\pi", "3.14"),
    ("x^2+1", "x^2-1"),
    ("(1,2]", "[1,2]"),
    ("(1,2)", "(1,3)"),
    ("(-\\infty,1)\\cup(2,\\infty)", "(-\\infty,1)\\cup(3,\\infty)"),
    ("\\{1, 2, 3\\}", "\\{1,2\\}"),
    ("(1, 2, 3)", "(3,2,1)"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\3\\end{pmatrix}"),
    ("Monday", "Tuesday"),
    ("12", "1 2"),
    ("5", "x = 6"),
    ("5", ""),
    ("5", None),
    (None, "5"),
    ("", ""),
    ("9^{8}", "43046722"),
    ("\\{1, 2\\}", "1"),
    ("\\frac{4\\pi}{13}", "0.97"),
    ("y=5x+7", "y=7x+5"),
    ("x^2+12x+36", "(x-6)^2"),
    ("\\frac{x+2}{x-13}", "\\frac{x-13}{x+2}"),
    ("3+2i", "3-2i"),
]


@pytest.mark.parametrize(("expected", "predicted"), EQUAL)
def test_equal(expected: str, predicted: str) -> None:
    assert math_equal(expected, predicted)


@pytest.mark.parametrize(("expected", "predicted"), NOT_EQUAL)
def test_not_equal(expected: str | None, predicted: str | None) -> None:
    assert not math_equal(expected, predicted)


# Pairs the fast paths decide; each verdict must be math-verify's (sympy's). The rows of EQUAL/NOT_EQUAL join them.
FAST_PATH_PAIRS = [
    ("7", "7.0"), ("7", "7.000001"), ("\\frac{2}{3}", "0.666667"), ("\\frac{2}{3}", "0.6667"), ("-4", "4"),
    ("(-3, 5]", "(-3,5]"), ("(-3, 5]", "[-3,5]"), ("(-3, 5]", "(-3,6]"), ("[2, \\infty)", "(2,\\infty)"),
    ("\\{-1, 4\\}", "4,-1"), ("\\{-1, 4\\}", "\\{-1, 5\\}"), ("(1, 2, 3)", "(1, 2)"), ("\\{3\\}", "4"),
    ("3\\sqrt{2}", "\\sqrt{18}"), ("3\\sqrt{2}", "\\sqrt{19}"), ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"),
    ("\\sqrt[3]{27}", "3"), ("\\frac{5\\pi}{6}", "2.617994"), ("\\frac{5\\pi}{6}", "2.62"), ("2\\pi", "6.28"),
    ("3^{4}-1", "80"), ("3^{4}-1", "81"), ("(2x+1)^2", "4x^2+4x+1"), ("(2x+1)^2", "4x^2+2x+1"),
    ("\\frac{1}{x}+\\frac{1}{y}", "\\frac{x+y}{xy}"), ("a^2-b^2", "(a-b)(a+b)"), ("a^2-b^2", "(a-b)^2"),
    ("y=3x-2", "y=-2+3x"), ("y=3x-2", "y=3x+2"), ("x=4", "4"), ("4", "x=5"), ("yes", "Yes"), ("even", "odd"),
]  # fmt: skip


def test_fast_paths_agree_with_math_verify() -> None:
    import math_verify

    decided = 0
    for expected, predicted in FAST_PATH_PAIRS + EQUAL + NOT_EQUAL:
        if not expected or not predicted or expected == "1000" and predicted == "1\\,000":  # sympy reads 1*0
            continue
        (gold, gold_key), (pred, pred_key) = prepare(expected), prepare(predicted)
        verdict = fast_verdict(*drop_assignment(gold_key, pred_key)) if gold_key != pred_key else True
        if verdict is None:
            continue
        decided += 1
        reference = math_verify.verify(math_verify.parse(f"${gold}$"), math_verify.parse(f"${pred}$"))
        assert verdict == reference, (expected, predicted, verdict)
    assert decided >= 80  # the fast paths really took these decisions


def test_non_string_answers() -> None:
    assert math_equal(204, "204.0")
    assert math_equal("0.25", 0.25)
    assert not math_equal(204, 205)


def test_end_to_end_from_generation() -> None:
    generation = "First I got \\boxed{\\frac{2}{4}}. Simplifying, the answer is $\\boxed{\\dfrac{1}{2}}$."
    assert math_equal("0.5", extract_answer(generation))
    truncated = "Thus the result is \\boxed{\\frac{1}{"
    assert not math_equal("0.5", extract_answer(truncated))


def test_take_modulo() -> None:
    assert math_equal("7", "1007", take_modulo=1000)
    assert math_equal("1007", "7", take_modulo=1000)
    assert math_equal("7", "1,007", take_modulo=1000)
    assert not math_equal("7", "1008", take_modulo=1000)
    assert not math_equal("7", "7.5", take_modulo=1000)
    assert not math_equal("7", "x", take_modulo=1000)
    assert not math_equal("7", None, take_modulo=1000)


def test_choice_letter_gold_in_math_equal() -> None:
    assert math_equal("B", "B")
    assert math_equal("B", "(B)")
    assert math_equal("B", "\\text{B}")
    assert math_equal("B", "b")
    assert not math_equal("B", "C")
    assert not math_equal("B", "")


def test_a_caller_alarm_survives_symbolic_comparison() -> None:
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        # only sympy can settle this one, and math-verify's own alarm cancels the caller's timer
        assert math_equal("\\sin\\frac{\\pi}{6}", "\\frac{1}{2}")
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < remaining <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_math_equal_off_the_main_thread() -> None:
    # math-verify's signal-based timeout cannot run here; math_equal must still work, including the sympy path
    pairs = [("x^2+1", "1+x^2"), ("x^2+1", "x^2+2"), ("\\frac{1}{2}", "0.5")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(lambda pair: math_equal(*pair), pairs))
    assert verdicts == [True, False, True]


# --- multiple choice ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("The answer is \\boxed{C}.", "C"),
        ("\\boxed{\\text{(B)}}", "B"),
        ("\\boxed{(D)}", "D"),
        ("\\boxed{\\textbf{E}}", "E"),
        ("\\boxed{b}", "B"),
        ("\\boxed{A} at first, but actually \\boxed{J}", "J"),
        ("\\boxed{\\text{The answer is } G}", "G"),
        ("I think so.\nAnswer: H", "H"),
        ("**Answer:** (A)", "A"),
        ("\\boxed{42}", None),
        ("no letter at all", None),
        ("\\boxed{K}", None),
        ("", None),
    ],
)
def test_extract_choice_letter(text: str, letter: str | None) -> None:
    assert extract_choice_letter(text) == letter


def test_choice_letter_by_regex_and_comparison() -> None:
    text = "The final answer is (C)\n"
    assert extract_choice_letter(text, extract_from_boxed=False, extract_regex=r"The final answer is (.+)$") == "C"
    assert extract_choice_letter("Final: D", extract_from_boxed=False, extract_regex=r"Final: (.+)$") == "D"
    # the regex is also the fallback when there is no boxed letter; boxes win over it
    assert extract_choice_letter("\\boxed{42}. Final: E", extract_regex=r"Final: (.+)$") == "E"
    assert extract_choice_letter("Answer: A ... \\boxed{B}") == "B"
    assert extract_choice_letter("\\boxed{B}", extract_from_boxed=False) is None
    assert choice_equal("C", "C")
    assert choice_equal(" c ", "C")
    assert not choice_equal("C", "D")
    assert not choice_equal("C", None)
