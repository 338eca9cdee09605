"""pass@k: the probability that at least one of k samples drawn without replacement from n is correct.

Binary scores use the unbiased estimator of Chen et al. (2021), `1 - C(n-c, k) / C(n, k)`, where `c` of the `n`
samples are correct. It depends only on `c`, never on the order of the samples.

Partial-credit scores (any value in [0, 1]) use its natural generalisation: the expected best score of a k-subset
drawn uniformly at random from the n samples. With the scores sorted ascending, `s_(1) <= ... <= s_(n)`, the i-th
smallest score is the maximum of exactly `C(i-1, k-1)` of the `C(n, k)` subsets (the subsets made of it and k-1 of
the i-1 scores below it; ties are broken by position, which does not change the sum), so

    E[max of a random k-subset] = sum_{i=k..n} s_(i) * C(i-1, k-1) / C(n, k).

For binary scores this equals the unbiased estimator exactly. The reference implementation instead took the maximum
of the *first* k samples, which depends on the order of the output files; this estimate does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Up to this many samples the estimators use exact integer binomials (each result rounded once, to the nearest
# float); above it pass@k uses the numerically stable product form, whose relative error is a few ulps per factor.
EXACT_MAX_N = 4096


def _check_n_k(n: int, k: int) -> None:
    if n < 1:
        raise ValueError(f"pass@k needs at least one sample, got n={n}.")
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n, got k={k} with n={n}.")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for `c` correct samples out of `n`: `1 - C(n-c, k) / C(n, k)`, in [0, 1].

    When fewer than k samples are incorrect (`n - c < k`) every k-subset holds a correct one and the result is 1.0.
    """
    _check_n_k(n, k)
    if not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got c={c} with n={n}.")
    if n - c < k:
        return 1.0
    if c == 0:
        return 0.0
    if n <= EXACT_MAX_N:
        total = math.comb(n, k)
        # Python's int / int is correctly rounded, so this is the exact fraction rounded once.
        return (total - math.comb(n - c, k)) / total
    # C(n-c, k) / C(n, k) = prod_{i=n-c+1..n} (1 - k / i): every factor lies in (0, 1), nothing overflows.
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def _check_scores(scores: Sequence[float]) -> list[float]:
    values = [float(score) for score in scores]
    for index, value in enumerate(values):
        if not 0.0 <= value <= 1.0:  # also rejects NaN
            raise ValueError(f"Scores must lie in [0, 1]; sample {index} has score {scores[index]!r}.")
    return values


def expected_max_at_k(scores: Sequence[float], k: int) -> float:
    """Expected maximum score of a k-subset drawn uniformly without replacement from `scores` (each in [0, 1]).

    `sum_{i=k..n} s_(i) * C(i-1, k-1) / C(n, k)` over the scores sorted ascending; see the module docstring.
    """
    values = sorted(_check_scores(scores))
    n = len(values)
    _check_n_k(n, k)
    total = math.comb(n, k)
    # Each weight is an exact int / int, rounded once; fsum adds the terms without accumulating rounding errors.
    result = math.fsum(values[i - 1] * (math.comb(i - 1, k - 1) / total) for i in range(k, n + 1))
    return min(1.0, max(0.0, result))


def pass_at_k_from_scores(scores: Sequence[float], k: int) -> float:
    """pass@k of one problem's samples: the unbiased estimator when every score is 0 or 1, else the expected max."""
    values = _check_scores(scores)
    if all(value in (0.0, 1.0) for value in values):
        return pass_at_k(len(values), sum(1 for value in values if value == 1.0), k)
    return expected_max_at_k(values, k)
