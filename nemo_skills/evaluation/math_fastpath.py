"""Cheap, exact verdicts for the common math answers, taken before falling back to math-verify.

`fast_verdict(gold_key, pred_key)` returns True or False only where math-verify (sympy) would reach the same verdict
(or where it is known to be wrong, such as `1\\,000` read as `1*0`), and None for everything it cannot decide, so the
caller falls back to symbolic comparison. It understands:

* plain numbers: integers, decimals, `a/b`, `\\frac{a}{b}`, thousands separated by commas or thin spaces;
  compared exactly, or, when either side is written with a decimal point, after rounding both to 6 decimals (the
  rule math-verify applies to floats, so `1/3 == 0.333333` but `1/3 != 0.3333`);
* intervals (and unions of disjoint intervals), tuples and sets whose members are such numbers or `\\infty`;
* arithmetic expressions (`2\\sqrt{3}`, `\\frac{\\pi}{4}`, `9^{8}`, `(x+1)^2`, `\\frac{x+1}{x-1}`; see `math_values`):
  exact rationals must be equal; otherwise values further apart than one part in a million are different, and values
  equal to 1e-12 (1e-9 with variables, compared at two points) with no decimal literal on either side are equal; an
  expression against a plain decimal is rounded to 6 decimals as math-verify does; anything else goes to sympy;
* `y=...` against `y=...` (the right-hand sides as above), and text answers (`Monday`), compared as text.

Keys come from `normalize_key`: LaTeX spacing, `\\left`/`\\right`, `\\dfrac`, `\\text{}` wrappers, degree signs, units,
percent signs and dollar signs already handled by `clean_answer`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

from nemo_skills.evaluation.math_values import FLOAT_DECIMALS, Scalar, evaluate, parse_scalar, scalars_equal

# --- normalisation ------------------------------------------------------------------------------------------------

_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_WHOLE_BOX = re.compile(r"^\\(?:boxed|fbox)\s*\{")
_SIZED_DELIMITER = re.compile(r"\\(?:left|right|[bB]igg?[lr]?)(?![A-Za-z])\.?")
_STYLE = re.compile(r"\\(?:displaystyle|textstyle|scriptstyle)(?![A-Za-z])")
_NEG_SPACE = re.compile(r"(?<!\\)\\!")
_SPACE_COMMANDS = re.compile(r"(?<!\\)\\[,;: ]|\\q?quad(?![A-Za-z])")
_DEGREES = re.compile(r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\circ|°|\\degree)\s*$")
_NUMBER_PREFIX = r"[-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)"
_TEXT_UNIT = re.compile(
    r"(?<=\S)\s*\\(?:text|textrm|textnormal|mbox)\s*\{(?!\s*i\s*\})\s*[A-Za-z][A-Za-z .]{0,24}\}(?:\^\{?\d\}?)?$"
)
_WORD_UNIT = re.compile(rf"^({_NUMBER_PREFIX})\s+[A-Za-z]{{2,}}(?:\s[A-Za-z]{{2,}})?(?:\^\{{?\d\}}?)?$")
_PERCENT = re.compile(rf"^({_NUMBER_PREFIX})\s*\\?%$")
_TRAILING_JUNK = re.compile(r"(?:\s|\.(?!\d)|\\\\)+$")


def _strip_delimiters(text: str) -> str:
    changed = True
    while changed and text:
        changed = False
        for left, right in _DELIMITERS:
            if len(text) > len(left) + len(right) and text.startswith(left) and text.endswith(right):
                text = text[len(left) : -len(right)].strip()
                changed = True
        if _WHOLE_BOX.match(text):
            start = text.index("{")
            end = matching_brace(text, start)
            if end == len(text) - 1:
                text = text[start + 1 : end].strip()
                changed = True
    return text


def matching_brace(text: str, start: int) -> int | None:
    """Index of the `}` closing the `{` at `start` (escaped `\\{`, `\\}` skipped), or None when unbalanced."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


_PLAIN_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def clean_answer(text: str) -> str:
    """Remove what never changes an answer's value: delimiters, spacing commands, sizing, units, `%`, `$`, `°`."""
    text = text.strip()
    if not text or _PLAIN_NUMBER.fullmatch(text):
        return text
    # each rewrite is guarded by a cheap test for the characters it needs: most answers skip most of them
    if text[0] in "$\\":
        text = _strip_delimiters(text)
    if "\\" in text:
        text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
        text = _SIZED_DELIMITER.sub("", text)
        text = _STYLE.sub("", text)
        text = _NEG_SPACE.sub("", text)
        text = _SPACE_COMMANDS.sub(" ", text)
        text = text.replace("\\$", "")
    if "{,}" in text:
        text = text.replace("{,}", ",")
    if "~" in text:
        text = text.replace("~", " ")
    if "$" in text:
        text = text.replace("$", "")
    text = _trim_end(text)
    if "circ" in text or "°" in text or "degree" in text:
        text = _DEGREES.sub("", text)
    if "{" in text:
        text = _TEXT_UNIT.sub("", text)
    if " " in text or "%" in text:
        if match := _WORD_UNIT.match(text) or _PERCENT.match(text):
            text = match.group(1)
    return _trim_end(text)


def _trim_end(text: str) -> str:
    text = text.strip()
    return _TRAILING_JUNK.sub("", text) if text and text[-1] in ".\\" else text


_TEXT_WRAPPER = re.compile(
    r"\\(?:text|textrm|textbf|textit|textnormal|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}"
)
_SPACES = re.compile(r"\s+")
# LaTeX math ignores spaces, except after a command name (`\pi r`); between digits they may separate a list (`1 2`)
_MEANINGFUL_SPACE = re.compile(r"(?<=\d) (?=\d)|(\\[A-Za-z]+) (?=[A-Za-z])")
_SHORT_FRAC = ((re.compile(r"\\frac(\d)(\d)"), r"\\frac{\1}{\2}"), (re.compile(r"\\frac(\d)\{"), r"\\frac{\1}{"))
_SHORT_FRAC_DENOMINATOR = re.compile(r"\\frac(\{[^{}]*\})(\d)")
_SHORT_SQRT = re.compile(r"\\sqrt(\d)")
_SINGLE_CHAR_EXPONENT = re.compile(r"\^\{(\w)\}")


def normalize_key(cleaned: str) -> str:
    """A comparison key for an already cleaned answer: equal keys mean equal answers."""
    key = cleaned
    if "\\" in key:
        if "{" in key:
            key = _TEXT_WRAPPER.sub(r"\1", key)
        if "\\frac" in key:
            for pattern, replacement in _SHORT_FRAC:
                key = pattern.sub(replacement, key)
            key = _SHORT_FRAC_DENOMINATOR.sub(r"\\frac\1{\2}", key)
        if "\\sqrt" in key:
            key = _SHORT_SQRT.sub(r"\\sqrt{\1}", key)
    if " " in key or "\t" in key or "\n" in key:
        key = _MEANINGFUL_SPACE.sub(lambda match: (match.group(1) or "") + "\0", _SPACES.sub(" ", key).strip())
        key = key.replace(" ", "").replace("\0", " ")
    if "^{" in key:
        key = _SINGLE_CHAR_EXPONENT.sub(r"^\1", key)
    return key


@lru_cache(maxsize=1 << 16)
def prepare(answer: str) -> tuple[str, str]:
    """(`clean_answer(answer)`, its `normalize_key`), cached: gold answers repeat once per sample."""
    cleaned = clean_answer(answer)
    return cleaned, normalize_key(cleaned)


_ASSIGNMENT = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?=([^=<>]+)$")


def drop_assignment(gold_key: str, pred_key: str) -> tuple[str, str]:
    """`x=5` against `5` compares `5` with `5` (as math-verify does); two relations are left as they are."""
    gold_match, pred_match = _ASSIGNMENT.match(gold_key), _ASSIGNMENT.match(pred_key)
    if pred_match and not _has_relation(gold_key):
        return gold_key, pred_match.group(1)
    if gold_match and not _has_relation(pred_key):
        return gold_match.group(1), pred_key
    return gold_key, pred_key


def _has_relation(key: str) -> bool:
    return any(symbol in key for symbol in ("=", "<", ">", "\\le", "\\ge", "\\ne"))


# --- intervals, tuples, sets --------------------------------------------------------------------------------------

_OPENERS, _CLOSERS = "({[", ")}]"


def _split_top_level(text: str, separator: str) -> list[str] | None:
    """Split at `separator` outside any brackets (`\\{`/`\\}` count as brackets); None when they do not balance."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            i += len(separator)
            start = i
            continue
        char = text[i]
        if char == "\\":
            escaped = text[i + 1 : i + 2]
            if escaped in ("{", "}"):
                depth += 1 if escaped == "{" else -1
                i += 1
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
        if depth < 0:
            return None
        i += 1
    if depth != 0:
        return None
    parts.append(text[start:])
    return parts


def _scalars(parts: list[str]) -> list[Scalar] | None:
    scalars = [parse_scalar(part) for part in parts]
    return None if any(scalar is None for scalar in scalars) else scalars  # type: ignore[return-value]


@dataclass(frozen=True)
class Structure:
    kind: str  # "set", "tuple" or "intervals" (a union of disjoint intervals, sorted)
    members: tuple  # Scalars; for "intervals": (left_open, start, end, right_open) per interval


def _bracketed(key: str) -> Structure | tuple | None:
    """`(a,b)`-like text: an interval (as a 4-tuple), a Structure("tuple"), or None."""
    if len(key) < 2 or key[0] not in "([" or key[-1] not in ")]":
        return None
    parts = _split_top_level(key[1:-1], ",")
    members = _scalars(parts) if parts and len(parts) >= 2 else None
    if members is None:
        return None
    if len(members) == 2 and members[0].order < members[1].order:
        return (key[0] == "(", members[0], members[1], key[-1] == ")")
    if key[0] == "(" and key[-1] == ")":
        return Structure("tuple", tuple(members))
    return None  # e.g. `[2,1]`: leave it to sympy


@lru_cache(maxsize=1 << 16)
def parse_structure(key: str) -> Structure | None:
    if key in ("\\emptyset", "\\varnothing", "\\{\\}"):
        return Structure("set", ())
    if key.startswith("\\{") and key.endswith("\\}"):
        parts = _split_top_level(key[2:-2], ",")
        members = _scalars(parts) if parts else None
        return None if members is None else Structure("set", tuple(members))
    unions = _split_top_level(key, "\\cup")
    if unions is None:
        return None
    if len(unions) == 1:
        single = _bracketed(key)
        if isinstance(single, tuple):
            return Structure("intervals", (single,))
        if single is not None:
            return single
        parts = _split_top_level(key, ",")
        members = _scalars(parts) if parts and len(parts) >= 2 else None  # a bare `1,2,3` is a set for math-verify
        return None if members is None else Structure("set", tuple(members))
    intervals = [_bracketed(part) for part in unions]
    if not all(isinstance(interval, tuple) for interval in intervals):
        return None
    intervals.sort(key=lambda interval: interval[1].order)
    # sympy merges touching or overlapping pieces; only a union with gaps is already canonical
    if any(left[2].order >= right[1].order for left, right in pairwise(intervals)):
        return None
    return Structure("intervals", tuple(intervals))


def _structures_equal(gold: Structure, pred: Structure) -> bool | None:
    if gold.kind != pred.kind:
        return None
    if gold.kind == "tuple":
        return len(gold.members) == len(pred.members) and all(map(scalars_equal, gold.members, pred.members))
    if gold.kind == "intervals":
        if len(gold.members) != len(pred.members):
            return False
        return all(
            g[0] == p[0] and g[3] == p[3] and scalars_equal(g[1], p[1]) and scalars_equal(g[2], p[2])
            for g, p in zip(gold.members, pred.members, strict=True)
        )
    gold_members, pred_members = _sorted_set(gold.members), _sorted_set(pred.members)
    if len(gold_members) == len(pred_members) and all(map(scalars_equal, gold_members, pred_members)):
        return True
    if any(member.inexact for member in gold_members + pred_members):
        return None  # rounding may merge or split members; let sympy decide
    return False


def _sorted_set(members: tuple[Scalar, ...]) -> list[Scalar]:
    unique = {(member.infinity, member.value if not member.infinity else 0): member for member in members}
    return sorted(unique.values(), key=lambda member: member.order)


def _evaluations_equal(gold_key: str, pred_key: str) -> bool | None:
    gold, pred = evaluate(gold_key), evaluate(pred_key)
    if gold is None or pred is None or gold.variables != pred.variables:
        return None
    decimal = gold.decimal or pred.decimal
    close = 1e-9 if gold.variables else 1e-12
    verdict: bool | None = True
    for gold_value, pred_value in zip(gold.values, pred.values, strict=True):
        if isinstance(gold_value, Fraction) and isinstance(pred_value, Fraction):
            if gold_value == pred_value:
                continue
            if not decimal:
                return False  # exact rationals that differ
        try:
            gold_float, pred_float = float(gold_value), float(pred_value)
        except OverflowError:
            return None
        scale = max(1.0, abs(gold_float), abs(pred_float))
        difference = abs(gold_float - pred_float)
        # a millionth apart differs for sympy too, and even after math-verify's rounding of floats to 6 decimals
        if difference > 1e-6 * scale:
            return False
        if difference > close * scale or decimal:
            verdict = None
    return verdict


def _rounded_equal(key: str, decimal: Scalar) -> bool | None:
    """An expression against a plain decimal, which math-verify compares after rounding both to 6 decimals."""
    evaluation = evaluate(key)
    if evaluation is None or evaluation.variables or decimal.infinity:
        return None
    value = evaluation.values[0]
    if isinstance(value, float):
        shifted = value * 10**FLOAT_DECIMALS
        if not math.isfinite(shifted) or abs(shifted - math.floor(shifted) - 0.5) < 1e-6 + 1e-12 * abs(shifted):
            return None  # too close to a rounding boundary to trust a float
        value = Fraction(value)
    return round(value, FLOAT_DECIMALS) == round(decimal.value, FLOAT_DECIMALS)


# --- the verdict --------------------------------------------------------------------------------------------------

_WORDS = re.compile(r"[A-Za-z]+(?:[ ,]+[A-Za-z]+)*")
_LONG_WORD = re.compile(r"[A-Za-z]{3,}")
_SAME_ASSIGNMENT = re.compile(r"([a-z])=([^=<>]+)")


def fast_verdict(gold_key: str, pred_key: str) -> bool | None:
    """True/False where the answer is certain without sympy, else None. Keys come from `normalize_key`."""
    gold_scalar, pred_scalar = parse_scalar(gold_key), parse_scalar(pred_key)
    if gold_scalar is not None and pred_scalar is not None:
        return scalars_equal(gold_scalar, pred_scalar)
    gold_structure = None if gold_scalar else parse_structure(gold_key)
    pred_structure = None if pred_scalar else parse_structure(pred_key)
    if gold_structure is not None and pred_structure is not None:
        return _structures_equal(gold_structure, pred_structure)
    if gold_structure is not None or pred_structure is not None:
        # a number against a set is a one-member set against it (as in sympy); other mixes are left to sympy
        scalar, structure = (gold_scalar, pred_structure) if gold_scalar else (pred_scalar, gold_structure)
        if scalar is not None and structure is not None and structure.kind == "set":
            return _structures_equal(Structure("set", (scalar,)), structure)
        return None
    if gold_scalar is not None and gold_scalar.inexact:
        return _rounded_equal(pred_key, gold_scalar)
    if pred_scalar is not None and pred_scalar.inexact:
        return _rounded_equal(gold_key, pred_scalar)
    if _WORDS.fullmatch(gold_key) and _WORDS.fullmatch(pred_key):
        # literal text answers ("Monday", "even") compare as text, as in the reference; `ab` may be a product
        if gold_key.casefold() == pred_key.casefold():
            return True
        if _LONG_WORD.search(gold_key) or _LONG_WORD.search(pred_key):
            return False
    gold_assignment, pred_assignment = _SAME_ASSIGNMENT.fullmatch(gold_key), _SAME_ASSIGNMENT.fullmatch(pred_key)
    if gold_assignment and pred_assignment:
        # `y=...` against `y=...`: the same relation exactly when the right-hand sides are the same function
        variable = gold_assignment.group(1)
        if pred_assignment.group(1) != variable or variable in gold_key[2:] or variable in pred_key[2:]:
            return None
        gold_key, pred_key = gold_assignment.group(2), pred_assignment.group(2)
    return _evaluations_equal(gold_key, pred_key)
