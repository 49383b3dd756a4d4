"""Between-site heterogeneity: Cochran's Q, I² and the estimators of tau².

Pure functions of the sites' estimates ``y`` and their within-site variances ``v`` on the
pooling scale. Three estimators of tau² (``TauSquaredMethod``):

- DerSimonian-Laird: the method of moments on Q with fixed-effect weights;
- Paule-Mandel: the tau² at which the generalised Q with random-effects weights equals
  its expectation k - 1 (statsmodels calls it "iterated");
- REML: the restricted maximum likelihood of the normal-normal model, by Fisher scoring
  (the iteration metafor uses), truncated at zero.

Each returns 0 when the sites agree more than chance alone allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.optimize import brentq

from medval.core.pooling_methods import TauSquaredMethod

_TOLERANCE = 1e-12
_MAX_ITERATIONS = 1000


def weighted_mean(y: Sequence[float], v: Sequence[float], tau2: float) -> float:
    """The inverse-variance weighted mean with weights 1 / (v + tau²)."""
    w = [1.0 / (vi + tau2) for vi in v]
    return math.fsum(wi * yi for wi, yi in zip(w, y, strict=True)) / math.fsum(w)


def generalised_q(y: Sequence[float], v: Sequence[float], tau2: float) -> float:
    """Q with weights 1 / (v + tau²); Cochran's Q at tau² = 0."""
    mu = weighted_mean(y, v, tau2)
    return math.fsum((yi - mu) ** 2 / (vi + tau2) for yi, vi in zip(y, v, strict=True))


def i_squared(q: float, k: int) -> float:
    """Higgins and Thompson's I², in [0, 1]: the share of variation beyond chance."""
    return max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0


def dersimonian_laird_tau2(y: Sequence[float], v: Sequence[float]) -> float:
    k = len(y)
    if k < 2:
        return 0.0
    w = [1.0 / vi for vi in v]
    sum_w = math.fsum(w)
    c = sum_w - math.fsum(wi * wi for wi in w) / sum_w
    q = generalised_q(y, v, 0.0)
    return max(0.0, (q - (k - 1)) / c) if c > 0 else 0.0


def paule_mandel_tau2(y: Sequence[float], v: Sequence[float]) -> float:
    k = len(y)
    if k < 2 or generalised_q(y, v, 0.0) <= k - 1:
        return 0.0

    def excess(tau2: float) -> float:
        return generalised_q(y, v, tau2) - (k - 1)

    # Q(tau²) decreases in tau²; the spread of the estimates bounds the root from above.
    upper = max(1.0, max(y) - min(y)) ** 2
    while excess(upper) > 0:
        upper *= 4.0
    return float(brentq(excess, 0.0, upper, xtol=_TOLERANCE, rtol=1e-15))


def reml_tau2(y: Sequence[float], v: Sequence[float]) -> float:
    k = len(y)
    if k < 2:
        return 0.0
    tau2 = dersimonian_laird_tau2(y, v)
    for _ in range(_MAX_ITERATIONS):
        w = [1.0 / (vi + tau2) for vi in v]
        sum_w = math.fsum(w)
        mu = math.fsum(wi * yi for wi, yi in zip(w, y, strict=True)) / sum_w
        sum_w2 = math.fsum(wi * wi for wi in w)
        # Fisher scoring on the restricted likelihood (Viechtbauer 2005, eq. 12).
        score = math.fsum(
            wi * wi * ((yi - mu) ** 2 - vi) for wi, yi, vi in zip(w, y, v, strict=True)
        )
        new = max(0.0, score / sum_w2 + 1.0 / sum_w)
        if abs(new - tau2) <= _TOLERANCE * max(1.0, tau2):
            return new
        tau2 = new
    return tau2


def tau_squared(y: Sequence[float], v: Sequence[float], method: TauSquaredMethod) -> float:
    """tau² by the named estimator."""
    if method is TauSquaredMethod.DERSIMONIAN_LAIRD:
        return dersimonian_laird_tau2(y, v)
    if method is TauSquaredMethod.PAULE_MANDEL:
        return paule_mandel_tau2(y, v)
    return reml_tau2(y, v)
