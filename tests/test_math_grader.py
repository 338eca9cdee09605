"""Math / multiple-choice answer extraction and equivalence, on hand-checked cases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

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
]


@pytest.mark.parametrize(("expected", "predicted"), EQUAL)
def test_equal(expected: str, predicted: str) -> None:
    assert math_equal(expected, predicted)


@pytest.mark.parametrize(("expected", "predicted"), NOT_EQUAL)
def test_not_equal(expected: str | None, predicted: str | None) -> None:
    assert not math_equal(expected, predicted)


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
    assert extract_choice_letter(text, extract_from_boxed=False) == "C"
    assert extract_choice_letter("Final: D", extract_from_boxed=False, extract_regex=r"Final: (.+)$") == "D"
    assert choice_equal("C", "C")
    assert choice_equal(" c ", "C")
    assert not choice_equal("C", "D")
    assert not choice_equal("C", None)
