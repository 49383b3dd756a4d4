"""The counts a site's interval implies, for a proportion whose document lacks them.

A site reports a proportion p in [0, 1] with a 95% interval, and not the number of cases
it is a proportion of. The *effective number of trials* n is the one at which the Wilson
score interval of p has the reported interval's width; the effective events are p x n.
Pooled with the binomial-normal model (:mod:`medval.stats.proportions`), these keep the
asymmetry of the site's interval near 0 and 1 (the binomial likelihood is skewed there),
where a symmetric standard error on the logit scale makes the pooled interval miss: small
sites near 0 give a logit whose variance grows as the estimate falls, so inverse-variance
weights favour the sites that happen to be high (bench/pooling_coverage.py).

What it recovers:

- a Wilson interval (the demo evaluator's, medval.demo.cubes.evaluator): the site's own
  number of trials, exactly (up to rounding of the reported bounds);
- another interval of a binomial proportion (Clopper-Pearson, Agresti-Coull, logit Wald):
  a number of trials near the true one (Clopper-Pearson is wider, so a few fewer);
- the interval of a metric that is not a binomial proportion (AUROC with DeLong's
  variance, a c-index): the number of trials a proportion would need to be as precise,
  the effective sample size (as Hanley and McNeil's equivalent counts do for the AUROC).

The width W of the Wilson interval of p at n trials, with a = p (1 - p) and s = z²:
W = 2 z sqrt(a n + s / 4) / (n + s), which decreases from 1 (at n = 0) to 0 as n grows
(its derivative has the sign of s (a / 2 - 1 / 4) - a n / 2 <= 0, as a <= 1/4). So each W
in (0, 1) has one n; squaring gives a quadratic in n whose positive root is
n = s ((2a - W²) + sqrt((W² - 2a)² + W² (1 - W²))) / W². At p = 0 it is s / W - s, the
n whose Wilson upper bound for 0 events is W.

Why hand-written: a closed form of four lines; no library inverts an interval.
"""

from __future__ import annotations

import math

from medval.stats.random_effects import Z_95

MIN_WIDTH = 1e-9  # an interval narrower than this carries no usable width


def wilson_width(p: float, n: float) -> float:
    """The width of the 95% Wilson score interval of a proportion p of n trials."""
    s = Z_95 * Z_95
    return 2.0 * Z_95 * math.sqrt(p * (1.0 - p) * n + s / 4.0) / (n + s)


def effective_trials(value: float, lower: float, upper: float) -> float | None:
    """The number of trials whose Wilson interval of ``value`` is as wide as [lower,
    upper] (each read within [0, 1]); None when the width says nothing (zero, or all of
    [0, 1])."""
    p = min(max(value, 0.0), 1.0)
    low, high = sorted((min(max(lower, 0.0), 1.0), min(max(upper, 0.0), 1.0)))
    width = high - low
    if width < MIN_WIDTH or width >= 1.0:
        return None
    s = Z_95 * Z_95
    a = p * (1.0 - p)
    w2 = width * width
    b, c = 2.0 * a - w2, w2 * (1.0 - w2)
    root = math.sqrt(b * b + c)
    # b + root, written without cancellation where b < 0 (p near 0 or 1).
    return s * (b + root if b >= 0.0 else c / (root - b)) / w2


def effective_counts(value: float, lower: float, upper: float) -> tuple[float, float] | None:
    """(events, trials) a site's interval implies, or None (see :func:`effective_trials`)."""
    n = effective_trials(value, lower, upper)
    if n is None or not math.isfinite(n) or n <= 0.0:
        return None
    return min(max(value, 0.0), 1.0) * n, n
