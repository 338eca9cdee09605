"""The values of math answers, for `math_fastpath`: plain numbers, and arithmetic expressions evaluated exactly or in
floating point.

`parse_scalar` reads a plain number (integer, decimal, `a/b`, `\\frac{a}{b}`, thousands separators) or `\\infty` as an
exact `Fraction`, remembering whether it was written with a decimal point (math-verify rounds such floats to 6
decimals before comparing). `evaluate` computes an arithmetic expression (numbers, `\\pi`, roots, fractions, powers,
single-letter variables): in exact rationals while only rational operations are involved, else in floats; with
variables, at two fixed irrational-looking points (identity testing: two different rational functions agreeing at both
to 1e-9 is possible in principle, but not a risk for answers written by a model).
Notation that sympy might read differently is refused (None) rather than guessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

# --- plain numbers ------------------------------------------------------------------------------------------------

FLOAT_DECIMALS = 6  # math-verify's `float_rounding`


@dataclass(frozen=True, slots=True)
class Scalar:
    value: Fraction  # ignored when infinite
    inexact: bool = False  # written with a decimal point
    infinity: int = 0  # -1 / +1 for -inf / +inf

    @property
    def order(self) -> Fraction | float:
        return self.value if not self.infinity else math.inf * self.infinity


_INTEGER_OR_DECIMAL = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+|\d+)(?:\.\d*)?|[-+]?\.\d+")
_SIGNED = r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)"
_LATEX_FRACTION = re.compile(rf"([-+]?)\\frac\{{({_SIGNED})\}}\{{({_SIGNED})\}}")
_SLASH_FRACTION = re.compile(r"([-+]?\d+)/(\d+)")
_INFINITY = re.compile(r"([-+]?)\\infty")


@lru_cache(maxsize=1 << 16)
def parse_scalar(key: str) -> Scalar | None:
    """A plain number (or `\\infty`) written in one of the usual ways, else None."""
    try:
        if _INTEGER_OR_DECIMAL.fullmatch(key):
            return Scalar(Fraction(key.replace(",", "").replace(" ", "")), "." in key)
        if match := _LATEX_FRACTION.fullmatch(key):
            sign = -1 if match.group(1) == "-" else 1
            value = sign * Fraction(match.group(2)) / Fraction(match.group(3))
            return Scalar(value, "." in key)
        if match := _SLASH_FRACTION.fullmatch(key):
            return Scalar(Fraction(int(match.group(1)), int(match.group(2))))
    except (ValueError, ZeroDivisionError):  # a zero denominator, or more digits than int() accepts
        return None
    if match := _INFINITY.fullmatch(key):
        return Scalar(Fraction(0), infinity=-1 if match.group(1) == "-" else 1)
    return None


def scalars_equal(gold: Scalar, pred: Scalar) -> bool:
    if gold.infinity or pred.infinity:
        return gold.infinity == pred.infinity
    if gold.value == pred.value:
        return True
    if gold.inexact or pred.inexact:
        return round(gold.value, FLOAT_DECIMALS) == round(pred.value, FLOAT_DECIMALS)
    return False


# --- arithmetic expressions -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+(?:\.\d+)?|\.\d+|\\[A-Za-z]+|[A-Za-z]|[-+*/^(){}\[\]]|\s")
_COMMANDS = frozenset(("\\frac", "\\sqrt", "\\pi", "\\cdot", "\\times", "\\div"))
# letters sympy may read as constants (e, i, j) or as function names (f, g, h) are not variables here
_VARIABLES = frozenset("abcdklmnopqrstuvwxyz")
_IMPLICIT_FACTOR_START = frozenset(("\\pi", "\\sqrt", "\\frac", "(", "{")) | _VARIABLES


def _sample_points(variables: frozenset[str]) -> list[dict[str, float]]:
    """Two fixed points with irrational-looking, distinct coordinates (polynomial identity testing)."""
    return [
        {name: math.sqrt(2 + (ord(name) * 7919 % 97) / 13) for name in variables},
        {name: -math.log(3 + (ord(name) * 104729 % 89) / 7) for name in variables},
    ]


class _Unsupported(Exception):
    """The expression uses something the evaluator does not model (functions, ambiguous notation, ...)."""


Number = Fraction | float  # exact while only rational operations are involved


class _Evaluator:
    """Recursive descent over a small LaTeX arithmetic grammar at one point: exact rationals while it can, else floats.

    Ambiguous notation is refused rather than guessed: a number right before `\\frac` (a mixed number?), implicit
    multiplication after `/` (`1/2\\pi`), multi-digit unbraced exponents (`2^10`), chained exponents, a letter before
    `(` (`p(x)` is a function call to sympy). So are forms whose identity is not decided by values at two points:
    roots of expressions with variables, non-integer powers of them.
    """

    def __init__(self, tokens: list[str], point: dict[str, float]) -> None:
        self.tokens = tokens
        self.point = point
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _Unsupported
        self.pos += 1
        return token

    def has_variables(self, start: int) -> bool:
        return any(token in self.point for token in self.tokens[start : self.pos])

    def expression(self) -> Number:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> Number:
        value = self.unary()
        divided = False
        while (token := self.peek()) is not None:
            if token in ("*", "\\cdot", "\\times"):
                self.take()
                value *= self.unary()
            elif token in ("/", "\\div"):
                self.take()
                value /= self.unary()
                divided = True
            elif token in _IMPLICIT_FACTOR_START:
                if divided or (token == "\\frac" and _is_number(self.tokens[self.pos - 1])):
                    raise _Unsupported
                value *= self.power()
            else:
                break
        return value

    def unary(self) -> Number:
        if self.peek() in ("-", "+"):
            return -self.unary() if self.take() == "-" else self.unary()
        return self.power()

    def power(self) -> Number:
        start = self.pos
        base = self.primary()
        if self.peek() != "^":
            return base
        self.take()
        if self.peek() == "{":
            exponent = self.group()
        else:
            token = self.take()
            if not (_is_number(token) and len(token) == 1):
                raise _Unsupported
            exponent = Fraction(token)
        integral = exponent == int(exponent)
        if self.peek() == "^" or (not integral and (base < 0 or self.has_variables(start))):
            raise _Unsupported
        if isinstance(base, Fraction) and isinstance(exponent, Fraction) and integral:
            size = max(base.numerator.bit_length(), base.denominator.bit_length())
            if abs(exponent) * size <= _MAX_EXACT_BITS:
                return base ** int(exponent)
        return float(base) ** float(exponent)

    def group(self) -> Number:
        if self.peek() != "{":
            token = self.take()
            if not (_is_number(token) and len(token) == 1):
                raise _Unsupported
            return Fraction(token)
        self.take("{")
        value = self.expression()
        self.take("}")
        return value

    def primary(self) -> Number:
        start = self.pos
        token = self.take()
        if _is_number(token):
            return Fraction(token)
        if token in self.point:
            if self.peek() == "(":
                raise _Unsupported
            return self.point[token]
        if token == "\\pi":
            return math.pi
        if token == "\\frac":
            numerator = self.group()
            return numerator / self.group()
        if token == "\\sqrt":
            degree = 2.0
            if self.peek() == "[":
                self.take("[")
                degree = self.expression()
                self.take("]")
            radicand = self.group()
            if radicand < 0 or degree <= 0 or degree != int(degree) or self.has_variables(start):
                raise _Unsupported
            return _root(radicand, int(degree))
        if token in ("(", "{"):
            value = self.expression()
            self.take(")" if token == "(" else "}")
            return value
        raise _Unsupported


def _is_number(token: str) -> bool:
    return token[0].isdigit() or token[0] == "."


_MAX_EXACT_BITS = 100_000


def _root(radicand: Number, degree: int) -> Number:
    if isinstance(radicand, Fraction):
        numerator, denominator = round(radicand.numerator ** (1 / degree)), round(radicand.denominator ** (1 / degree))
        if numerator**degree == radicand.numerator and denominator**degree == radicand.denominator:
            return Fraction(numerator, denominator)  # a perfect power: stays exact
    return float(radicand) ** (1.0 / degree)


@dataclass(frozen=True)
class Evaluation:
    values: tuple[Number, ...]  # at one point without variables, at each of `_sample_points` with them
    variables: frozenset[str]
    decimal: bool  # some number was written with a decimal point


@lru_cache(maxsize=1 << 16)
def evaluate(key: str) -> Evaluation | None:
    """Values of an arithmetic expression (numbers, `\\pi`, roots, fractions, powers, single-letter variables),
    or None if it uses anything the evaluator does not model."""
    scalar = parse_scalar(key)
    if scalar is not None:
        return None if scalar.infinity else Evaluation((scalar.value,), frozenset(), scalar.inexact)
    tokens = _TOKEN.findall(key)
    if "".join(tokens) != key:
        return None  # commas, relations, subscripts, unknown symbols
    tokens = [token for token in tokens if token != " "]
    if not tokens or any(
        (token.startswith("\\") and token not in _COMMANDS) or (token.isalpha() and token not in _VARIABLES)
        for token in tokens
    ):
        return None
    if any(_is_number(b) and (_is_number(a) or a.isalpha()) for a, b in pairwise(tokens)):
        return None  # `2 3`, `x2`
    variables = frozenset(token for token in tokens if token in _VARIABLES)
    values = []
    for point in _sample_points(variables) if variables else [{}]:
        evaluator = _Evaluator(tokens, point)
        try:
            value = evaluator.expression()
        except (_Unsupported, ArithmeticError, ValueError):
            return None
        if evaluator.pos != len(tokens) or isinstance(value, complex):
            return None
        if isinstance(value, float) and not math.isfinite(value):
            return None
        values.append(value)
    return Evaluation(tuple(values), variables, any("." in token for token in tokens))
