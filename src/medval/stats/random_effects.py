"""Normal-normal random-effects pooling of site estimates with their standard errors.

The pooled estimate is the inverse-variance weighted mean with weights 1 / (se² + tau²),
tau² from :mod:`medval.stats.heterogeneity`. Its 95% confidence interval
(``IntervalMethod``):

- Wald: estimate +- z * SE;
- Hartung-Knapp(-Sidik-Jonkman): t with k - 1 df and the SE scaled by the weighted
  residual variance, what statsmodels' ``combine_effects`` calls "wls";
- Hartung-Knapp modified: the same with the scale kept at least 1 (Röver et al. 2015);
  :func:`default_interval` picks it for 3 to ``FEW_SITES`` - 1 sites, Wald otherwise.
  Two sites keep Wald: t with 1 df (12.7) would make every interval span the whole scale,
  which says nothing a reader can use (as with counts, :mod:`medval.stats.proportions`).

The prediction interval for a new site (Higgins, Thompson & Spiegelhalter 2009):
estimate +- t(k - 2) * sqrt(tau² + SE²), with the SE the confidence interval used; it is
not defined for fewer than three sites (None).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import norm, t

from medval.core.pooling_methods import IntervalMethod, TauSquaredMethod
from medval.stats.heterogeneity import generalised_q, i_squared, tau_squared, weighted_mean

LEVEL = 0.95
Z_95 = float(norm.ppf(0.5 + LEVEL / 2))
FEW_SITES = 10  # below this many sites, the Hartung-Knapp interval is the default


def default_interval(k: int) -> IntervalMethod:
    """Hartung-Knapp (modified) for 3 to ``FEW_SITES`` - 1 sites, Wald otherwise."""
    if 3 <= k < FEW_SITES:
        return IntervalMethod.HARTUNG_KNAPP_MODIFIED
    return IntervalMethod.WALD


@dataclass(frozen=True)
class RandomEffects:
    """A random-effects estimate on the pooling scale, with its intervals."""

    estimate: float
    standard_error: float  # the one the confidence interval uses
    tau_squared: float
    q: float  # Cochran's Q (fixed-effect weights)
    i_squared: float  # in [0, 1]
    lower: float
    upper: float
    # For a new site; None for fewer than three sites.
    prediction: tuple[float, float] | None
    tau_method: TauSquaredMethod
    interval: IntervalMethod


def random_effects(
    estimates: Sequence[float],
    standard_errors: Sequence[float],
    tau_method: TauSquaredMethod = TauSquaredMethod.DERSIMONIAN_LAIRD,
    interval: IntervalMethod | None = None,
) -> RandomEffects:
    """Random-effects pooling of k >= 1 estimates with positive, finite standard errors;
    ``interval`` None: :func:`default_interval`."""
    k = len(estimates)
    if k == 0 or k != len(standard_errors):
        raise ValueError("need one standard error per estimate, and at least one estimate")
    if any(not (se > 0 and math.isfinite(se)) for se in standard_errors):
        raise ValueError("standard errors must be positive and finite")
    if interval is IntervalMethod.PROFILE_LIKELIHOOD:
        raise ValueError("the profile likelihood interval is for counts (stats.proportions)")
    method = interval if interval is not None else default_interval(k)
    if k == 1:
        method = IntervalMethod.WALD  # no residual variance to scale by, no df for t
    y = list(estimates)
    v = [se * se for se in standard_errors]
    tau2 = tau_squared(y, v, tau_method)
    mu = weighted_mean(y, v, tau2)
    sum_w = math.fsum(1.0 / (vi + tau2) for vi in v)
    se = math.sqrt(1.0 / sum_w)
    quantile = Z_95
    if method is not IntervalMethod.WALD:
        scale = generalised_q(y, v, tau2) / (k - 1)  # the weighted residual variance
        if method is IntervalMethod.HARTUNG_KNAPP_MODIFIED:
            scale = max(1.0, scale)
        se *= math.sqrt(scale)
        quantile = float(t.ppf(0.5 + LEVEL / 2, k - 1))
    q = generalised_q(y, v, 0.0)
    prediction = None
    if k >= 3:
        half = float(t.ppf(0.5 + LEVEL / 2, k - 2)) * math.sqrt(tau2 + se * se)
        prediction = (mu - half, mu + half)
    return RandomEffects(
        estimate=mu,
        standard_error=se,
        tau_squared=tau2,
        q=q,
        i_squared=i_squared(q, k),
        lower=mu - quantile * se,
        upper=mu + quantile * se,
        prediction=prediction,
        tau_method=tau_method,
        interval=method,
    )
