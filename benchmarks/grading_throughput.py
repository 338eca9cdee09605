"""Math grading throughput: our grader against a bare math-verify loop like the reference's, on synthetic rows.

    python benchmarks/grading_throughput.py [--rows 20000] [--workers 1 2] [--show 3]

Rows are (expected answer, predicted answer) pairs generated deterministically here: 2,500 problems with 8 samples
each for 20,000 rows (one sample per problem per seed file, files one after another); answers are a mix of integers,
fractions, decimals, LaTeX expressions, intervals and sets, written the ways models write them, and about 60% are
correct by construction. Each configuration runs in a fresh Python process, so no cache is shared between them:

* baseline: one process; for each row `math_verify.parse` both sides (wrapped in `$...$`) and `math_verify.verify`,
  with no fast paths (as the reference implementation does after its own small checks);
* ours, 1 process: `math_equal` on each row;
* ours, pool N: `grade_in_processes(math_equal_pair, rows, num_workers=N)`, worker start-up included.

Prints rows/s and the ratio to the baseline, then compares verdicts with the baseline's and with the label each row was
built with, grouping the rows where ours and the baseline's differ (with examples).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

PROBLEMS = 2500
CORRECT_SHARE = 0.6


@dataclass(frozen=True)
class Row:
    kind: str
    expected: str
    predicted: str
    correct: bool  # by construction


def _frac(value: Fraction) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _terminating_decimal(value: Fraction) -> str | None:
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return None if denominator != 1 else format(float(value), "g")


def _integer(rng: random.Random) -> tuple[str, list[str], list[str]]:
    value = rng.choice([rng.randint(0, 99), rng.randint(100, 999), rng.randint(1000, 99999), -rng.randint(1, 50)])
    spellings = [str(value), str(value), str(value), f"{value}.", f" {value} ", f"{value}.0", f"\\${value}"]
    if abs(value) >= 1000:
        spellings += [f"{value:,}", f"{value:,}".replace(",", "{,}"), f"{value:,}".replace(",", "\\,")]
    wrong = [str(value + rng.choice([-10, -2, -1, 1, 2, 7, 100])), str(-value if value else 1), str(value * 2 + 1)]
    wrong = [answer for answer in wrong if answer != str(value)]  # 2 * -1 + 1 == -1
    return str(value), spellings, wrong


def _fraction(rng: random.Random) -> tuple[str, list[str], list[str]]:
    while True:
        value = Fraction(rng.randint(1, 40), rng.randint(2, 24)) * rng.choice([1, 1, 1, -1])
        if value.denominator != 1:
            break
    gold = _frac(value)
    spellings = [gold, gold, gold.replace("\\frac", "\\dfrac"), f"{value.numerator}/{value.denominator}"]
    if decimal := _terminating_decimal(value):
        spellings.append(decimal)
    else:
        spellings.append(f"{float(value):.6f}")
    wrong = [_frac(value + Fraction(1, value.denominator)), _frac(1 / value), str(round(value))]
    if Fraction(rounded := f"{float(value):.2f}") != value:  # a too-short decimal, unless it is exact
        wrong.append(rounded)
    return gold, spellings, wrong


def _decimal(rng: random.Random) -> tuple[str, list[str], list[str]]:
    value = Fraction(rng.randint(1, 99999), rng.choice([10, 100, 1000]))
    gold = format(float(value), "g") if value.denominator != 1 else f"{value}.5"
    value = Fraction(gold)
    spellings = [gold, gold, gold + "0", _frac(value), f"{gold}\\%" if rng.random() < 0.2 else gold]
    wrong = [format(float(value) + rng.choice([0.1, 0.01, 1.0]), "g"), format(float(value) * 10, "g")]
    return gold, spellings, wrong


def _expression(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """Closed forms and expressions in x, with random coefficients so that problems rarely share an answer."""
    a, b = rng.randint(2, 9), rng.choice([3, 5, 6, 7, 10, 11, 13])
    while b == a:  # a == b would make some of the wrong answers below right
        b = rng.choice([3, 5, 6, 7, 10, 11, 13])
    shape = rng.randint(0, 10)
    if shape == 8:  # the shapes below are not arithmetic: only sympy can settle them
        return (f"{a}+{b}i", [f"{a}+{b}i", f"{b}i+{a}", f"{a} + {b}i"], [f"{a}-{b}i", f"{b}+{a}i"])
    if shape == 9:
        return (
            f"\\begin{{pmatrix}} {a} \\\\ {b} \\end{{pmatrix}}",
            [f"\\begin{{pmatrix}} {a} \\\\ {b} \\end{{pmatrix}}", f"\\begin{{pmatrix}}{a}\\\\{b}\\end{{pmatrix}}"],
            [
                f"\\begin{{pmatrix}} {b} \\\\ {a} \\end{{pmatrix}}",
                f"\\begin{{pmatrix}} {a} \\\\ {b + 1} \\end{{pmatrix}}",
            ],
        )
    if shape == 10:
        return (
            f"\\log_{{2}} {b}",
            [f"\\log_{{2}} {b}", f"\\log_2 {b}", f"\\frac{{\\ln {b}}}{{\\ln 2}}"],
            [f"\\log_{{2}} {b + 1}", f"\\log_{{{b}}} 2"],
        )
    if shape == 0:
        return (
            f"{a}\\sqrt{{{b}}}",
            [f"{a}\\sqrt{{{b}}}", f"{a} \\sqrt{{{b}}}", f"\\sqrt{{{a * a * b}}}", f"\\sqrt{{{b}}} \\cdot {a}"],
            [f"{a + 1}\\sqrt{{{b}}}", f"\\sqrt{{{a * b}}}", f"{a}\\sqrt{{{b + 1}}}"],
        )
    if shape == 1:
        d = rng.choice([2, 3, 4, 5, 6, 7, 8, 12])
        n = rng.choice([k for k in range(1, 12) if math.gcd(k, d) == 1])
        pi = "\\pi" if n == 1 else f"{n}\\pi"
        return (
            f"\\frac{{{pi}}}{{{d}}}",
            [
                f"\\frac{{{pi}}}{{{d}}}",
                f"\\dfrac{{{pi}}}{{{d}}}",
                f"\\frac{{{n}}}{{{d}}}\\pi",
                f"{n * math.pi / d:.6f}",
            ],
            [f"\\frac{{{pi}}}{{{d + 1}}}", f"{n * math.pi / d:.2f}"],
        )
    if shape == 2:
        c = rng.randint(2, 7)
        return (
            f"\\frac{{{a}+\\sqrt{{{b}}}}}{{{c}}}",
            [f"\\frac{{{a}+\\sqrt{{{b}}}}}{{{c}}}", f"\\frac{{\\sqrt{{{b}}}+{a}}}{{{c}}}"],
            [f"\\frac{{{a}-\\sqrt{{{b}}}}}{{{c}}}", f"{a}+\\sqrt{{{b}}}"],
        )
    if shape == 3:
        return (
            f"x^2+{2 * a}x+{a * a}",
            [f"x^2+{2 * a}x+{a * a}", f"(x+{a})^2", f"x^{{2}} + {2 * a}x + {a * a}"],
            [f"(x-{a})^2", f"x^2+{a * a}"],
        )
    if shape == 4:
        return (f"{a}x-{b}", [f"{a}x-{b}", f"-{b}+{a}x", f"{a} x - {b}"], [f"{a}x+{b}", f"{b}-{a}x"])
    if shape == 5:
        return (
            f"\\frac{{x+{a}}}{{x-{b}}}",
            [f"\\frac{{x+{a}}}{{x-{b}}}", f"\\dfrac{{x+{a}}}{{x-{b}}}"],
            [f"\\frac{{x-{b}}}{{x+{a}}}"],
        )
    if shape == 6:
        return (f"y={a}x+{b}", [f"y={a}x+{b}", f"y = {a}x + {b}"], [f"y={b}x+{a}", f"y={a}x-{b}"])
    k = rng.randint(5, 12)
    return (f"{a}^{{{k}}}", [f"{a}^{{{k}}}", str(a**k), f"{a**k:,}"], [f"{a}^{{{k - 1}}}", str(a**k + 1)])


def _interval(rng: random.Random) -> tuple[str, list[str], list[str]]:
    low, high = sorted(rng.sample(range(-20, 21), 2))
    shape = rng.randint(0, 3)
    if shape == 0:
        left, right = "(-\\infty", f"{high})"
    elif shape == 1:
        left, right = f"[{low}", "\\infty)"
    else:
        left, right = rng.choice("(["), rng.choice(")]")
        left, right = f"{left}{low}", f"{high}{right}"
    gold = f"{left}, {right}"
    if shape == 3:  # a union
        gold = f"(-\\infty, {low}) \\cup ({high}, \\infty)"
        spellings = [gold, gold.replace(" ", ""), f"({high}, \\infty) \\cup (-\\infty, {low})"]
        wrong = [f"(-\\infty, {low}] \\cup [{high}, \\infty)", f"({low}, {high})"]
        return gold, spellings, wrong
    sized = f"\\left{left[0]}{left[1:]}, {right[:-1]}\\right{right[-1]}"
    spellings = [gold, gold.replace(" ", ""), sized]
    if shape == 0:  # (-oo, high): a wrong bracket or a wrong endpoint
        wrong = [f"(-\\infty, {high}]", f"(-\\infty, {high + 1})"]
    elif shape == 1:
        wrong = [f"({low}, \\infty)", f"[{low - 1}, \\infty)"]
    else:
        flipped = {"(": "[", "[": "(", ")": "]", "]": ")"}
        wrong = [f"{flipped[left[0]]}{left[1:]}, {right}", f"{left}, {high + 2}{right[-1]}"]
    return gold, spellings, wrong


def _set(rng: random.Random) -> tuple[str, list[str], list[str]]:
    members = sorted(rng.sample(range(-10, 30), rng.randint(2, 4)))
    text = ", ".join(map(str, members))
    shuffled = members[:]
    rng.shuffle(shuffled)
    gold = f"\\{{{text}\\}}" if rng.random() < 0.6 else text
    spellings = [gold, f"\\{{{', '.join(map(str, shuffled))}\\}}", ",".join(map(str, shuffled)), text]
    wrong = [", ".join(map(str, members[:-1])), f"\\{{{', '.join(map(str, members[:-1] + [members[-1] + 1]))}\\}}"]
    return gold, spellings, wrong


_KINDS = [("integer", _integer, 45), ("fraction", _fraction, 15), ("decimal", _decimal, 10),
          ("expression", _expression, 12), ("interval", _interval, 9), ("set", _set, 9)]  # fmt: skip


def build_rows(rows: int, seed: int = 0) -> list[Row]:
    rng = random.Random(seed)
    problems = []
    for _ in range(PROBLEMS):
        kind, make, _weight = rng.choices(_KINDS, weights=[weight for *_, weight in _KINDS])[0]
        problems.append((kind, *make(rng)))
    built: list[Row] = []
    for _seed_file in range(math.ceil(rows / PROBLEMS)):
        for kind, gold, spellings, wrong in problems:
            correct = rng.random() < CORRECT_SHARE
            built.append(Row(kind, gold, rng.choice(spellings if correct else wrong), correct))
    return built[:rows]


# --- the measured configurations (each in its own process) ---------------------------------------------------------


def run_baseline(pairs: list[tuple[str, str]]) -> list[bool]:
    import math_verify

    verdicts = []
    for gold, pred in pairs:
        parsed_gold, parsed_pred = math_verify.parse(f"${gold}$"), math_verify.parse(f"${pred}$")
        verdicts.append(math_verify.verify(parsed_gold, parsed_pred, numeric_precision=15, timeout_seconds=10))
    return verdicts


def run_ours(pairs: list[tuple[str, str]]) -> list[bool]:
    from nemo_skills.evaluation.math_grader import math_equal

    return [math_equal(gold, pred) for gold, pred in pairs]


def run_pool(pairs: list[tuple[str, str]], workers: int) -> list[bool]:
    from nemo_skills.evaluation.grading_pool import grade_in_processes
    from nemo_skills.evaluation.math_grader import math_equal_pair

    outcomes = grade_in_processes(math_equal_pair, pairs, num_workers=workers, item_timeout_s=10)
    return [bool(outcome.value) if outcome.ok else False for outcome in outcomes]


def measure(mode: str, rows: int) -> None:
    """Child process: grade and print {"seconds", "verdicts"} as JSON."""
    pairs = [(row.expected, row.predicted) for row in build_rows(rows)]
    if mode == "baseline":
        import math_verify  # noqa: F401 - import time is not grading time
    else:
        import nemo_skills.evaluation.grading_pool  # noqa: F401
        import nemo_skills.evaluation.math_grader  # noqa: F401
    started = time.perf_counter()
    if mode == "baseline":
        verdicts = run_baseline(pairs)
    elif mode == "ours":
        verdicts = run_ours(pairs)
    else:
        verdicts = run_pool(pairs, int(mode.removeprefix("pool")))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "verdicts": verdicts}))


def _run_child(mode: str, rows: int) -> tuple[float, list[bool]]:
    command = [sys.executable, str(Path(__file__).resolve()), "--mode", mode, "--rows", str(rows)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["seconds"], report["verdicts"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--show", type=int, default=3, help="examples to print per kind of disagreement")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        measure(args.mode, args.rows)
        return

    rows = build_rows(args.rows)
    kinds = {kind: sum(row.kind == kind for row in rows) for kind, *_ in _KINDS}
    print(f"{len(rows)} rows, {sum(row.correct for row in rows) / len(rows):.0%} correct by construction: {kinds}")
    results: dict[str, list[bool]] = {}
    modes = [("baseline", "baseline (math-verify per row)"), ("ours", "ours, math_equal, 1 process")]
    modes += [(f"pool{n}", f"ours, pool of {n} worker{'s' * (n > 1)}") for n in args.workers]
    baseline_rate = None
    for mode, label in modes:
        seconds, results[mode] = _run_child(mode, args.rows)
        rate = len(rows) / seconds
        baseline_rate = baseline_rate or rate  # the baseline runs first
        print(f"{label:36s} {seconds:8.2f} s {rate:10.0f} rows/s   x{rate / baseline_rate:.1f} vs baseline")

    baseline, ours = results["baseline"], results["ours"]
    for mode in results:
        if mode.startswith("pool") and results[mode] != ours:
            print(f"!! {mode} verdicts differ from the in-process ones")
    differing = [i for i in range(len(rows)) if baseline[i] != ours[i]]
    baseline_right = [i for i in range(len(rows)) if baseline[i] == rows[i].correct]
    we_break = [i for i in baseline_right if ours[i] != baseline[i]]
    ours_right = sum(ours[i] == rows[i].correct for i in range(len(rows)))
    print(f"agreement with the labels: baseline {len(baseline_right)}/{len(rows)}, ours {ours_right}/{len(rows)}")
    print(f"verdicts differing from the baseline: {len(differing)}; where the baseline is right: {len(we_break)}")
    _print_disagreements(rows, baseline, ours, differing, args.show)


def _print_disagreements(
    rows: list[Row], baseline: list[bool], ours: list[bool], differing: list[int], show: int
) -> None:
    """Disagreements grouped by kind and verdicts, with a few distinct examples of each."""
    groups: dict[tuple, list[int]] = {}
    for i in differing:
        groups.setdefault((rows[i].kind, rows[i].correct, baseline[i], ours[i]), []).append(i)
    for (kind, label, base, our), members in sorted(groups.items(), key=lambda group: -len(group[1])):
        who = "ours" if our == label else "baseline"
        print(f"  {len(members):5d} x [{kind}] label={label} baseline={base} ours={our}: {who} matches the label")
        examples = dict.fromkeys((rows[i].expected, rows[i].predicted) for i in members)
        for expected, predicted in list(examples)[:show]:
            print(f"          expected={expected!r} predicted={predicted!r}")


if __name__ == "__main__":
    main()
