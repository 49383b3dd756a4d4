"""Cross-site pooling of a metric: the entry point the leaderboard calls.

Each site reports a point estimate with a 95% interval computed at the site, and its
document may carry the counts ``n_cases`` and ``n_positive``. A metric is pooled in one
of three ways (``PoolingModel``):

- **Counts** (binomial-normal, :mod:`medval.stats.proportions`): a proportion whose
  numerator and denominator follow from the counts, at every pooled site:
  sensitivity (of ``n_positive``), specificity (of ``n_cases - n_positive``) and accuracy
  (of ``n_cases``), ``COUNT_DENOMINATORS``. The number of events is the value times the
  denominator, and must be a whole number (within ``COUNT_TOLERANCE`` of the value): an
  evaluator that rounds its values falls back to effective counts. PPV and NPV need the
  number of positive predictions, which no document carries, and so always do.
- **Effective counts** (binomial-normal again, :mod:`medval.stats.effective_counts`): any
  other metric on the logit scale (AUROC, PPV, a sensitivity without its counts): each
  site's interval read as the trials whose Wilson interval is as wide (from a Wilson
  interval, the site's counts; otherwise the effective sample size). The default: pooling
  the intervals themselves covered the truth in as few as a third of simulated benchmarks
  near 0 and 1 (bench/pooling_coverage.py); ``effective=False`` or an ``interval``
  method asks for it.
- **Intervals** (inverse-variance random effects, :mod:`medval.stats.random_effects`):
  everything else, on a scale where the sampling distribution is closer to normal, then
  back-transformed: log for ratios (``LOG_METRICS``), identity for the rest (brier,
  calibration_slope, ...), logit where asked for. A site's SE is its transformed
  interval's width / (2 x 1.96). On the logit scale a site whose interval reaches 0 or 1
  (0 of 3: [0, 0.56]) is read as the counts its finite bound implies by Wilson's interval,
  half an event added to each cell (it weighs as little as three cases do). tau² by
  ``TauSquaredMethod`` (DerSimonian-Laird unless asked otherwise); the interval by
  ``IntervalMethod`` (Hartung-Knapp, modified, for 3 to 9 sites; Wald otherwise).

A benchmark that declares its metrics (:mod:`medval.core.declarations`) passes each
metric's declaration (``declared``): its scale (proportion: logit, ratio: log, linear:
identity) and the count a proportion is of (``of``) are then used instead of the name's.

Both report the prediction interval for a new site where there are three sites or more.

The rules for awkward sites, in this order:

0. A site whose value is missing (its evaluator reported NaN) is not pooled at all, and
   ``n_sites`` does not count it.
1. A logit metric's value or bound outside [0, 1] is read as the nearest edge. On the log
   scale, values at or below 0 are pooled as ``EPSILON``; on the pooling scale, values are
   bounded by +-``BOUND`` so that no arithmetic can overflow.
2. A site without an interval (``lower`` or ``upper`` missing), or whose transformed
   interval has (near) zero width or spans all of (0, 1), carries no usable weight: it is
   excluded from the weighted pooling, and ``n_sites`` counts only the sites pooled.
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

from medval.core.declarations import CountDenominator, MetricDeclaration, MetricScale
from medval.core.documents import MetricValue
from medval.core.pooling_methods import IntervalMethod, PoolingModel, TauSquaredMethod
from medval.core.result_schemas import PooledMetric
from medval.stats.effective_counts import effective_counts
from medval.stats.heterogeneity import generalised_q, i_squared
from medval.stats.proportions import pool_counts
from medval.stats.random_effects import Z_95, RandomEffects, random_effects

EPSILON = 1e-3  # on the log scale, ratios at or below 0 are pooled as this
MIN_STANDARD_ERROR = 1e-9  # below this, an interval counts as having zero width
BOUND = 1e100  # values on the pooling scale are clipped to +-BOUND
COUNT_TOLERANCE = 1e-6  # how far value x denominator may be from a whole number of events
_MAX_LOG = 700.0  # exp() of more overflows a float

LOGIT_METRICS = frozenset(
    {"auroc", "auprc", "c_index", "sensitivity", "specificity", "ppv", "npv", "accuracy"}
)
LOG_METRICS = frozenset({"oe_ratio", "odds_ratio", "risk_ratio", "hazard_ratio"})


@dataclass(frozen=True)
class SiteCounts:
    """The counts a site's result document carries (None: not reported)."""

    n_cases: int | None
    n_positive: int | None


def _all_cases(c: SiteCounts) -> int | None:
    return c.n_cases


def _positives(c: SiteCounts) -> int | None:
    return c.n_positive


def _negatives(c: SiteCounts) -> int | None:
    if c.n_cases is None or c.n_positive is None:
        return None
    return c.n_cases - c.n_positive


# The denominator of each proportion that the counts determine.
COUNT_DENOMINATORS: dict[str, Callable[[SiteCounts], int | None]] = {
    "sensitivity": _positives,
    "specificity": _negatives,
    "accuracy": _all_cases,
}


# The same, for a metric whose benchmark declares the count it is a proportion of.
DECLARED_COUNTS: dict[CountDenominator, Callable[[SiteCounts], int | None]] = {
    CountDenominator.POSITIVES: _positives,
    CountDenominator.NEGATIVES: _negatives,
    CountDenominator.CASES: _all_cases,
}


@dataclass(frozen=True)
class Scale:
    """A transform to the pooling scale and back."""

    name: str
    forward: Callable[[float], float]
    backward: Callable[[float], float]


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


def _logit(p: float) -> float:
    """The logit, +-inf at 0 and 1 (and beyond them)."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
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


DECLARED_SCALES = {
    MetricScale.PROPORTION: LOGIT,
    MetricScale.RATIO: LOG,
    MetricScale.LINEAR: IDENTITY,
}


def scale_for(metric: str, declared: MetricDeclaration | None = None) -> Scale:
    """The pooling scale of a metric: as its benchmark declares it, else by its name."""
    if declared is not None:
        return DECLARED_SCALES[declared.scale]
    if metric in LOGIT_METRICS:
        return LOGIT
    if metric in LOG_METRICS:
        return LOG
    return IDENTITY


def dersimonian_laird(
    estimates: Sequence[float], standard_errors: Sequence[float]
) -> RandomEffects:
    """DerSimonian-Laird random effects with the Wald interval (the original pooling)."""
    return random_effects(
        estimates, standard_errors, TauSquaredMethod.DERSIMONIAN_LAIRD, IntervalMethod.WALD
    )


@dataclass(frozen=True)
class _Site:
    """A site's value that is not missing, with its counts when known."""

    value: float
    lower: float | None
    upper: float | None
    counts: SiteCounts | None


def _on_scale(x: float, scale: Scale) -> float:
    return _clip(scale.forward(x), -BOUND, BOUND)


def _interval_estimate(site: _Site, scale: Scale) -> tuple[float, float] | None:
    """The site's estimate and standard error on the pooling scale, or None when it has
    no usable interval."""
    if site.lower is None or site.upper is None:
        return None
    if scale is LOGIT:
        return _logit_estimate(site.value, site.lower, site.upper)
    se = abs(_on_scale(site.upper, scale) - _on_scale(site.lower, scale)) / (2.0 * Z_95)
    return (_on_scale(site.value, scale), se) if se >= MIN_STANDARD_ERROR else None


def _logit_estimate(value: float, lower: float, upper: float) -> tuple[float, float] | None:
    p = _clip(value, 0.0, 1.0)
    low, high = sorted((_clip(lower, 0.0, 1.0), _clip(upper, 0.0, 1.0)))
    if low > 0.0 and high < 1.0:
        se = (_logit(high) - _logit(low)) / (2.0 * Z_95)
        if se < MIN_STANDARD_ERROR:
            return None
        centre = _logit(p) if 0.0 < p < 1.0 else (_logit(low) + _logit(high)) / 2.0
        return centre, se
    if low <= 0.0 and high >= 1.0:
        return None  # an interval over all of (0, 1) says nothing
    # One bound at the edge: the counts the other bound implies, were it Wilson's:
    # (p - bound)² = z² bound (1 - bound) / n.
    bound = high if low <= 0.0 else low
    if abs(p - bound) < MIN_STANDARD_ERROR:
        return None
    n = Z_95**2 * bound * (1.0 - bound) / (p - bound) ** 2
    events = p * n
    y = math.log((events + 0.5) / (n - events + 0.5))
    return y, math.sqrt(1.0 / (events + 0.5) + 1.0 / (n - events + 0.5))


def _counts(
    name: str, sites: Sequence[_Site], declared: MetricDeclaration | None = None
) -> tuple[list[int], list[int]] | None:
    """Events and trials at every site, or None when some site's cannot be had."""
    if declared is not None:
        denominator = DECLARED_COUNTS.get(declared.of) if declared.of is not None else None
    else:
        denominator = COUNT_DENOMINATORS.get(name)
    if denominator is None:
        return None
    events, trials = [], []
    for site in sites:
        n = denominator(site.counts) if site.counts is not None else None
        if n is None or n <= 0:
            return None
        e = round(site.value * n)
        if not 0 <= e <= n or abs(site.value - e / n) > COUNT_TOLERANCE:
            return None
        events.append(e)
        trials.append(n)
    return events, trials


def _effective(site: _Site) -> tuple[float, float] | None:
    """The (events, trials) a site's interval implies (None: it has no usable one)."""
    if site.lower is None or site.upper is None:
        return None
    return effective_counts(site.value, site.lower, site.upper)


def _pool_counts(
    events: Sequence[float], trials: Sequence[float], *, effective: bool
) -> PooledMetric:
    fitted = pool_counts(events, trials)
    low, high = _prediction(fitted.prediction, LOGIT)
    return PooledMetric(
        value=_expit(fitted.estimate),
        lower=_expit(fitted.lower),
        upper=_expit(fitted.upper),
        n_sites=len(events),
        i_squared=_counts_i_squared(events, trials),
        model=PoolingModel.BINOMIAL_NORMAL_EFFECTIVE if effective else PoolingModel.BINOMIAL_NORMAL,
        interval_method=fitted.interval,
        prediction_lower=low,
        prediction_upper=high,
    )


def _counts_i_squared(events: Sequence[float], trials: Sequence[float]) -> float:
    """I² of the sites' logits with half an event added to each cell: the binomial model
    has no I² of its own, and the tables show one beside every pooled metric."""
    y = [math.log((e + 0.5) / (n - e + 0.5)) for e, n in zip(events, trials, strict=True)]
    v = [1.0 / (e + 0.5) + 1.0 / (n - e + 0.5) for e, n in zip(events, trials, strict=True)]
    return i_squared(generalised_q(y, v, 0.0), len(y))


def _prediction(
    interval: tuple[float, float] | None, scale: Scale
) -> tuple[float | None, float | None]:
    if interval is None:
        return None, None
    return scale.backward(interval[0]), scale.backward(interval[1])


def pool_metric(
    name: str,
    sites: Sequence[MetricValue],
    counts: Sequence[SiteCounts | None] | None = None,
    tau_method: TauSquaredMethod = TauSquaredMethod.DERSIMONIAN_LAIRD,
    interval: IntervalMethod | None = None,
    *,
    declared: MetricDeclaration | None = None,
    effective: bool = True,
) -> PooledMetric:
    """Pool one metric across sites; see the module docstring for every rule.

    ``counts``: each site's counts, in the order of ``sites`` (None: none known).
    ``interval`` None: the default for the number of sites (Hartung-Knapp under ten).
    ``declared``: the metric as its benchmark declares it; its scale and count (``of``)
    then choose the pooling, not the metric's name.
    ``effective`` (the default): a logit metric without counts, and with no ``interval``
    asked for, is pooled as the counts its sites' intervals imply
    (:mod:`medval.stats.effective_counts`) with the binomial-normal model; False pools the
    intervals themselves (inverse-variance), which covers the truth far less often near 0
    and 1 (bench/pooling_coverage.py).
    """
    if counts is not None and len(counts) != len(sites):
        raise ValueError("need one SiteCounts (or None) per site")
    known = counts if counts is not None else [None] * len(sites)
    values = [
        _Site(v.value, v.lower, v.upper, c)
        for v, c in zip(sites, known, strict=True)
        if v.value is not None
    ]
    if not values:
        raise ValueError(f"no site values to pool for metric {name!r}")
    if len(values) == 1:
        site = values[0]
        return PooledMetric(
            value=site.value,
            lower=site.lower,
            upper=site.upper,
            n_sites=1,
            i_squared=None,
            model=PoolingModel.SINGLE_SITE,
        )
    scale = scale_for(name, declared)
    from_counts = _counts(name, values, declared)
    if from_counts is not None:
        return _pool_counts(*from_counts, effective=False)
    if scale is LOGIT and interval is None and effective:
        implied = [found for v in values if (found := _effective(v)) is not None]
        if len(implied) >= 2:
            return _pool_counts(*zip(*implied, strict=True), effective=True)
    usable = [found for v in values if (found := _interval_estimate(v, scale)) is not None]
    if not usable:
        mean = math.fsum(_on_scale(_mean_value(v.value, scale), scale) for v in values) / len(
            values
        )
        return PooledMetric(
            value=scale.backward(mean),
            lower=None,
            upper=None,
            n_sites=len(values),
            i_squared=None,
            model=PoolingModel.UNWEIGHTED_MEAN,
        )
    estimates, ses = zip(*usable, strict=True)
    re = random_effects(estimates, ses, tau_method, interval)
    if len(usable) == 1:
        # One usable site among several: its own figures, not a pooled one.
        only = next(v for v in values if _interval_estimate(v, scale) is not None)
        return PooledMetric(
            value=only.value,
            lower=only.lower,
            upper=only.upper,
            n_sites=1,
            i_squared=None,
            model=PoolingModel.SINGLE_SITE,
        )
    low, high = _prediction(re.prediction, scale)
    return PooledMetric(
        value=scale.backward(re.estimate),
        lower=scale.backward(re.lower),
        upper=scale.backward(re.upper),
        n_sites=len(usable),
        i_squared=re.i_squared,
        model=PoolingModel.INVERSE_VARIANCE,
        tau_squared_method=re.tau_method,
        interval_method=re.interval,
        prediction_lower=low,
        prediction_upper=high,
    )


def _mean_value(value: float, scale: Scale) -> float:
    """A value for the unweighted mean: with no interval, nothing to be overconfident
    about, so edges of the logit scale are moved EPSILON inside."""
    if scale is LOGIT:
        return _clip(value, EPSILON, 1.0 - EPSILON)
    return value
