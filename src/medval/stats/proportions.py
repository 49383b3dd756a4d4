"""Pooling a proportion from its counts: the binomial-normal random-effects model.

Site i reports ``events`` of ``trials`` (for sensitivity: true positives of the
positives). The model: events_i ~ Binomial(trials_i, expit(mu + u_i)), u_i ~ N(0, tau²).
It is fitted by maximum likelihood, the random intercept integrated out by Gauss-Hermite
quadrature, and the 95% interval of mu is the profile likelihood interval: the mu whose
profile log-likelihood (tau re-fitted at each mu) lies within half the critical value of
the maximum. With no events at all (or only events) the maximum is at the edge (mu =
-inf, a proportion of 0) and the interval is [0, upper] with a finite upper bound; no value
is clipped, and a site with 0 of 3 weighs as little as 3 trials do.

The critical value is the square of the t quantile with k - 1 df (the F(1, k - 1)
quantile), the small-sample correction Hartung-Knapp makes for inverse-variance pooling:
with chi²(1) (3.84) the interval covered the truth in only 89-91% of simulated benchmarks
of 3 to 10 sites with high heterogeneity (bench/pooling_coverage.py). Two sites are the
exception: t with 1 df (12.7) makes every interval [0, 1], so they keep chi²(1); tau is
still profiled, so the interval is wider than a common-effect one (0 of 3 and 0 of 4 give
[0, 0.78], against the sites' own Wilson upper bounds of 0.56 and 0.49).

Why hand-written: statsmodels fits binomial mixed models only by variational Bayes
(BinomialBayesMixedGLM), with no likelihood or profile interval, and no other maintained
Python library fits this model by quadrature; it is about a hundred lines of numpy and
scipy, checked in the tests against closed forms at tau = 0 and against scipy's own
integration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import gammaln
from scipy.stats import chi2, f

from medval.stats.random_effects import LEVEL

QUADRATURE_NODES = 40
MU_BOUND = 30.0  # |logit| beyond this is a proportion of 0 or 1 in double precision
TAU_BOUND = 10.0  # a between-site SD of 10 on the logit scale is already everything
_NODES, _WEIGHTS = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
_LOG_WEIGHTS = np.log(_WEIGHTS / math.sqrt(math.pi))
_ROOT_TWO_NODES = math.sqrt(2.0) * _NODES


@dataclass(frozen=True)
class CountsPool:
    """The fitted binomial-normal model, on the logit scale (mu may be +-inf)."""

    estimate: float
    lower: float
    upper: float
    tau: float
    prediction: tuple[float, float] | None  # a new site's logit; None for k < 3
    k: int


class _Counts:
    """The data and its log-likelihood, vectorised over sites and quadrature nodes."""

    def __init__(self, events: Sequence[int], trials: Sequence[int]) -> None:
        self.y = np.asarray(events, dtype=float)[:, None]
        self.n = np.asarray(trials, dtype=float)[:, None]
        self.constant = float(
            np.sum(gammaln(self.n + 1) - gammaln(self.y + 1) - gammaln(self.n - self.y + 1))
        )

    def log_likelihood(self, mu: float, tau: float) -> float:
        eta = mu + tau * _ROOT_TWO_NODES[None, :]
        per_node = self.y * eta - self.n * np.logaddexp(0.0, eta) + _LOG_WEIGHTS[None, :]
        # logsumexp by hand: scipy's checks cost more than the sum at this size.
        top = per_node.max(axis=1, keepdims=True)
        sums = np.log(np.exp(per_node - top).sum(axis=1)) + top[:, 0]
        return self.constant + float(sums.sum())

    def profile(self, mu: float) -> float:
        """The log-likelihood at mu, maximised over tau."""
        found = minimize_scalar(
            lambda tau: -self.log_likelihood(mu, tau),
            bounds=(0.0, TAU_BOUND),
            method="bounded",
            options={"xatol": 1e-4},
        )
        # The bounded search never evaluates tau = 0 itself, the common maximum.
        return max(-float(found.fun), self.log_likelihood(mu, 0.0))

    def best_tau(self, mu: float) -> float:
        found = minimize_scalar(
            lambda tau: -self.log_likelihood(mu, tau),
            bounds=(0.0, TAU_BOUND),
            method="bounded",
            options={"xatol": 1e-4},
        )
        at_zero = self.log_likelihood(mu, 0.0)
        return 0.0 if at_zero >= -float(found.fun) else float(found.x)


def critical_value(k: int) -> float:
    """The drop in twice the log-likelihood that bounds the 95% interval (module doc)."""
    if k < 3:
        return float(chi2.ppf(LEVEL, 1))
    return float(f.ppf(LEVEL, 1, k - 1))


def pool_counts(events: Sequence[int], trials: Sequence[int]) -> CountsPool:
    """Fit the binomial-normal model to k >= 1 sites, each with 0 <= events <= trials > 0."""
    k = len(events)
    if k == 0 or k != len(trials):
        raise ValueError("need one count of trials per count of events, and at least one site")
    if any(n <= 0 or not 0 <= e <= n for e, n in zip(events, trials, strict=True)):
        raise ValueError("each site needs trials > 0 and 0 <= events <= trials")
    data = _Counts(events, trials)
    total_events, total_trials = sum(events), sum(trials)
    half_drop = critical_value(k) / 2.0
    if total_events in (0, total_trials):
        # The likelihood is largest (1) at the edge; the other bound is where it falls.
        sign = -1.0 if total_events == 0 else 1.0
        best = data.constant  # log-likelihood 0 apart from the binomial coefficients (0)
        bound = _crossing(data, best - half_drop, sign * MU_BOUND, -sign * MU_BOUND)
        lower, upper = (-math.inf, bound) if sign < 0 else (bound, math.inf)
        return CountsPool(sign * math.inf, lower, upper, 0.0, None, k)
    start = math.log((total_events + 0.5) / (total_trials - total_events + 0.5))
    fitted = minimize(
        lambda p: -data.log_likelihood(p[0], p[1]),
        x0=np.array([start, 0.5]),
        method="L-BFGS-B",
        bounds=[(-MU_BOUND, MU_BOUND), (0.0, TAU_BOUND)],
    )
    mu = float(fitted.x[0])
    # Polish mu on the profile: the joint search may stop a little short of the maximum.
    polished = minimize_scalar(lambda m: -data.profile(m), bracket=(mu - 0.1, mu + 0.1), tol=1e-10)
    if math.isfinite(polished.fun) and -polished.fun >= -fitted.fun:
        mu = float(polished.x)
    best = data.profile(mu)
    target = best - half_drop
    lower = _crossing(data, target, mu, -MU_BOUND)
    upper = _crossing(data, target, mu, MU_BOUND)
    tau = data.best_tau(mu)
    prediction = None
    if k >= 3 and math.isfinite(lower) and math.isfinite(upper):
        # Higgins et al. (2009) with the SE implied by the profile interval's width.
        se = (upper - lower) / (2.0 * math.sqrt(critical_value(k)))
        half = float(_t_quantile(k - 2)) * math.sqrt(tau * tau + se * se)
        prediction = (mu - half, mu + half)
    return CountsPool(mu, lower, upper, tau, prediction, k)


def _t_quantile(df: int) -> float:
    return float(math.sqrt(f.ppf(LEVEL, 1, df)))


def _crossing(data: _Counts, target: float, inside: float, outside: float) -> float:
    """The mu between ``inside`` and ``outside`` where the profile falls to ``target``;
    +-inf when it stays above it all the way to the edge."""
    if data.profile(outside) >= target:
        return math.copysign(math.inf, outside)
    return float(brentq(lambda m: data.profile(m) - target, inside, outside, xtol=1e-6, rtol=1e-8))
