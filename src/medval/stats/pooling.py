"""Cross-site pooling of a metric: DerSimonian-Laird random-effects meta-analysis.

Each site reports a point estimate with a 95% interval computed at the site. The metric is
pooled on a scale where its sampling distribution is closer to normal, and the result is
back-transformed:

- logit for metrics that live in (0, 1): ``LOGIT_METRICS``;
- log for ratios that live in (0, inf): ``LOG_METRICS``;
- identity for everything else (brier, calibration_slope, calibration_intercept, ...).

A site's standard error on the pooling scale is its transformed interval width divided by
2 x 1.96. The rules for awkward sites, applied in this order:

0. A site whose value is missing (its evaluator reported NaN) is not pooled at all, and
   ``n_sites`` does not count it.
1. Values at (or beyond) the edge of the transform's domain are clipped to ``EPSILON``
   inside it (a sensitivity of 1.0 is pooled as 1 - 1e-3), so every site has a finite
   transformed value. The clip only affects sites at the boundary. On the pooling scale,
   values are also bounded by +-``BOUND`` so that no arithmetic can overflow.
2. A site without an interval (``lower`` or ``upper`` missing), or whose transformed
   interval has (near) zero width, carries no usable weight: it is excluded from the
   weighted pooling, and ``n_sites`` counts only the sites that were pooled.
3. If no site has a usable interval, the pooled value is the unweighted mean on the
   pooling scale, with no interval and no I².
4. A single site is returned as it is (its own value and interval), with no I².

A sequence with no value to pool (empty, or every value missing) is a programming error
(the caller shows such a metric as missing) and raises ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from medval.core.documents import MetricValue
from medval.core.result_schemas import PooledMetric

Z_95 = 1.959963984540054  # standard normal quantile at 0.975
EPSILON = 1e-3  # distance from the edge of a transform's domain where values are clipped
MIN_STANDARD_ERROR = 1e-9  # below this, an interval counts as having zero width
BOUND = 1e100  # values on the pooling scale are clipped to +-BOUND
_MAX_LOG = 700.0  # exp() of more overflows a float

LOGIT_METRICS = frozenset(
    {"auroc", "auprc", "c_index", "sensitivity", "specificity", "ppv", "npv", "accuracy"}
)
LOG_METRICS = frozenset({"oe_ratio", "odds_ratio", "risk_ratio", "hazard_ratio"})


@dataclass(frozen=True)
class Scale:
    """A transform to the pooling scale and back."""

    name: str
    forward: Callable[[float], float]
    backward: Callable[[float], float]


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


def _logit(p: float) -> float:
    p = _clip(p, EPSILON, 1.0 - EPSILON)
    return math.log(p / (1.0 - p))


def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log(r: float) -> float:
    return math.log(max(r, EPSILON))


def _exp(x: float) -> float:
    return math.exp(_clip(x, -_MAX_LOG, _MAX_LOG))


def _identity(x: float) -> float:
    return x


LOGIT = Scale("logit", _logit, _expit)
LOG = Scale("log", _log, _exp)
IDENTITY = Scale("identity", _identity, _identity)


def scale_for(metric: str) -> Scale:
    """The pooling scale of a metric, by its name."""
    if metric in LOGIT_METRICS:
        return LOGIT
    if metric in LOG_METRICS:
        return LOG
    return IDENTITY


@dataclass(frozen=True)
class RandomEffects:
    """A DerSimonian-Laird estimate on the pooling scale."""

    estimate: float
    standard_error: float
    tau_squared: float
    q: float
    i_squared: float  # in [0, 1]

    @property
    def lower(self) -> float:
        return self.estimate - Z_95 * self.standard_error

    @property
    def upper(self) -> float:
        return self.estimate + Z_95 * self.standard_error


def dersimonian_laird(
    estimates: Sequence[float], standard_errors: Sequence[float]
) -> RandomEffects:
    """Random-effects pooling of k >= 1 estimates with positive standard errors."""
    if not estimates or len(estimates) != len(standard_errors):
        raise ValueError("need one standard error per estimate, and at least one estimate")
    if any(not (se > 0 and math.isfinite(se)) for se in standard_errors):
        raise ValueError("standard errors must be positive and finite")
    w = [1.0 / (se * se) for se in standard_errors]
    sum_w = math.fsum(w)
    fixed = math.fsum(wi * yi for wi, yi in zip(w, estimates, strict=True)) / sum_w
    q = math.fsum(wi * (yi - fixed) ** 2 for wi, yi in zip(w, estimates, strict=True))
    df = len(estimates) - 1
    c = sum_w - math.fsum(wi**2 for wi in w) / sum_w
    tau2 = max(0.0, (q - df) / c) if df > 0 and c > 0 else 0.0
    w_star = [1.0 / (se * se + tau2) for se in standard_errors]
    sum_w_star = math.fsum(w_star)
    pooled = math.fsum(wi * yi for wi, yi in zip(w_star, estimates, strict=True)) / sum_w_star
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return RandomEffects(pooled, math.sqrt(1.0 / sum_w_star), tau2, q, i2)


def _on_scale(x: float, scale: Scale) -> float:
    return _clip(scale.forward(x), -BOUND, BOUND)


@dataclass(frozen=True)
class _Site:
    """A site's value that is not missing."""

    value: float
    lower: float | None
    upper: float | None


def _standard_error(site: _Site, scale: Scale) -> float | None:
    """The site's standard error on the pooling scale, or None when it has no usable one."""
    if site.lower is None or site.upper is None:
        return None
    se = abs(_on_scale(site.upper, scale) - _on_scale(site.lower, scale)) / (2.0 * Z_95)
    return se if se >= MIN_STANDARD_ERROR else None


def pool_metric(name: str, sites: Sequence[MetricValue]) -> PooledMetric:
    """Pool one metric across sites; see the module docstring for every rule."""
    values = [_Site(v.value, v.lower, v.upper) for v in sites if v.value is not None]
    if not values:
        raise ValueError(f"no site values to pool for metric {name!r}")
    if len(values) == 1:
        site = values[0]
        return PooledMetric(
            value=site.value, lower=site.lower, upper=site.upper, n_sites=1, i_squared=None
        )
    scale = scale_for(name)
    usable = [(_on_scale(v.value, scale), se) for v in values if (se := _standard_error(v, scale))]
    if not usable:
        mean = math.fsum(_on_scale(v.value, scale) / len(values) for v in values)
        return PooledMetric(
            value=scale.backward(mean), lower=None, upper=None, n_sites=len(values), i_squared=None
        )
    estimates, ses = zip(*usable, strict=True)
    re = dersimonian_laird(estimates, ses)
    return PooledMetric(
        value=scale.backward(re.estimate),
        lower=scale.backward(re.lower),
        upper=scale.backward(re.upper),
        n_sites=len(usable),
        i_squared=re.i_squared if len(usable) > 1 else None,
    )
