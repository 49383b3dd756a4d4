"""Pooling a proportion from its counts: the binomial-normal random-effects model.

Site i reports ``events`` of ``trials`` (for sensitivity: true positives of the
positives). The model: events_i ~ Binomial(trials_i, expit(mu + u_i)), u_i ~ N(0, tau²).
It is fitted by maximum likelihood, the random intercept integrated out by adaptive
Gauss-Hermite quadrature (centred and scaled at each site's mode), tau at most
``TAU_BOUND``. The 95% interval of mu (``IntervalMethod``):

- profile likelihood: the mu whose profile log-likelihood (tau re-fitted at each mu) lies
  within chi²(1)/2 = 1.92 of the maximum; for 2 sites;
- for 3 sites or more, the same with each side's distance from the estimate scaled by
  Hartung and Knapp's factor (Hartung & Knapp 2001, Stat Med 20:3875),
  t(k - 1) / z x sqrt(q), with q Pearson's statistic of the fitted model over k - 1:
  q = sum (events_i - E_i)² / V_i / (k - 1), E_i and V_i the mean and variance of site
  i's events under the fitted (mu, tau), the random intercept integrated out (E_i =
  n_i E[p], V_i = n_i E[p (1 - p)] + n_i² Var[p], p = expit(mu + u), by Gauss-Hermite):
  the model-based dispersion of quasi-likelihood (McCullagh & Nelder 1989, sec. 4.5;
  Williams 1982 for the logit-normal binomial). An earlier q from the sites' empirical
  logits (half an event added to each cell) is inflated in sparse data (a site with 0
  events at p = 0.02 has a logit variance of 2 where the model's is 1.7, and the log of
  the half event is far from the truth), and covered 99-100% near 0 and 1. The profile
  interval alone treats tau as known: with high heterogeneity it covered the truth in
  85-91% of simulated benchmarks of 3 to 10 sites (bench/pooling_coverage.py).
  The factor is not floored (an earlier floor, never narrower than all the cases as
  one sample, as Knapp and Hartung's 2003 modification keeps their factor at least 1,
  covered 97-99% where sites agree, in place of 95-97%), except where q = 0: sites
  whose counts fit the model exactly (three hospitals with 5 of 20 each), where
  Hartung and Knapp's statistic is 0 / 0 and the interval is that of all the cases as
  one sample, not a point.
  Two sites are the exception: t with 1 df (12.7) would make every interval [0, 1].

With no events at all (or only events) the maximum is at the edge (mu = -inf, a
proportion of 0) and the interval is [0, upper] from the profile likelihood alone:
nothing is clipped, and a site with 0 of 3 weighs as little as 3 trials do (0 of 3 and 0
of 4 give [0, 0.40], where the sites' own Wilson intervals are [0, 0.56] and [0, 0.49]).
There the sites cannot disagree, there is no Q, and none is needed: such intervals
covered the truth in 99-100% of simulated benchmarks.

Why hand-written: statsmodels fits binomial mixed models only by variational Bayes
(BinomialBayesMixedGLM), with no likelihood or profile interval, and no other maintained
Python library fits this model by quadrature; it is about a hundred lines of numpy and
scipy, checked in the tests against a closed form at tau = 0 and an independent fit
(the integral taken on a fine grid).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import gammaln
from scipy.stats import chi2, t

from medval.core.pooling_methods import IntervalMethod
from medval.stats.random_effects import LEVEL, Z_95

QUADRATURE_NODES = 40  # adaptive; 20 are off by 1e-3 in the log-likelihood at tau = 4
MU_BOUND = 30.0  # |logit| beyond this is a proportion of 0 or 1 in double precision
# The largest between-site SD of the logit the model allows. Where the counts say nothing
# about heterogeneity (no events anywhere), a larger tau explains any mu, and the interval
# would reach 1 whatever the data: this bound is the model's assumption. A logit SD of 4
# already puts a third of sites outside 0.02-0.98 around a median of 0.5.
TAU_BOUND = 4.0
# Below this, Hartung and Knapp's factor is taken as 0: counts that fit exactly, up to the
# optimiser's last digits (q is a sum of squared residuals of about 1e-7 events each).
NO_DISPERSION = 1e-6
_NEWTON_STEPS = 30
_NODES, _WEIGHTS = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
_LOG_WEIGHTS = np.log(_WEIGHTS) + _NODES**2  # for exp(-x²) already in the integrand
# Nodes and weights for the expectation over u ~ N(0, tau²) as tau x N(0, 1).
_HERMITE_E_NODES, _raw_weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
_HERMITE_E_WEIGHTS = _raw_weights / _raw_weights.sum()


@dataclass(frozen=True)
class CountsPool:
    """The fitted binomial-normal model, on the logit scale (mu may be +-inf)."""

    estimate: float
    lower: float
    upper: float
    tau: float
    prediction: tuple[float, float] | None  # a new site's logit; None for k < 3
    k: int
    interval: IntervalMethod


class _Counts:
    """The data and its log-likelihood, vectorised over sites and quadrature nodes."""

    def __init__(self, events: Sequence[float], trials: Sequence[float]) -> None:
        self.y = np.asarray(events, dtype=float)
        self.n = np.asarray(trials, dtype=float)
        self.constant = float(
            np.sum(gammaln(self.n + 1) - gammaln(self.y + 1) - gammaln(self.n - self.y + 1))
        )
        # Each site's empirical logit and its variance, half an event added to each cell.
        self.logit = np.log((self.y + 0.5) / (self.n - self.y + 0.5))
        self.variance = 1.0 / (self.y + 0.5) + 1.0 / (self.n - self.y + 0.5)

    def _log_integrand(self, mu: float, tau: float, u: np.ndarray) -> np.ndarray:
        """log of binomial x normal density at each site's points u (sites x nodes)."""
        eta = mu + u
        log_binomial = self.y[:, None] * eta - self.n[:, None] * np.logaddexp(0.0, eta)
        log_normal = -u * u / (2.0 * tau * tau) - 0.5 * math.log(2.0 * math.pi * tau * tau)
        result: np.ndarray = log_binomial + log_normal
        return result

    def log_likelihood(self, mu: float, tau: float) -> float:
        """Adaptive Gauss-Hermite: each site's integrand over its random intercept u is
        centred at its mode and scaled by its curvature there (Newton's method)."""
        if tau < 1e-8:
            eta = mu + np.zeros_like(self.y)
            return self.constant + float(np.sum(self.y * eta - self.n * np.logaddexp(0.0, eta)))
        t2 = tau * tau
        u = (self.logit - mu) * t2 / (t2 + self.variance)  # the normal-normal mode
        for _ in range(_NEWTON_STEPS):
            p = _expit(mu + u)
            gradient = self.y - self.n * p - u / t2
            curvature = self.n * p * (1.0 - p) + 1.0 / t2
            step = np.clip(gradient / curvature, -2.0, 2.0)
            u = u + step
            if float(np.max(np.abs(step))) < 1e-10:
                break
        p = _expit(mu + u)
        sigma = 1.0 / np.sqrt(self.n * p * (1.0 - p) + 1.0 / t2)
        points = u[:, None] + math.sqrt(2.0) * sigma[:, None] * _NODES[None, :]
        per_node = self._log_integrand(mu, tau, points) + _LOG_WEIGHTS[None, :]
        # logsumexp by hand: scipy's checks cost more than the sum at this size.
        top = per_node.max(axis=1, keepdims=True)
        sums = np.log(np.exp(per_node - top).sum(axis=1)) + top[:, 0]
        return self.constant + float(np.sum(sums + np.log(math.sqrt(2.0) * sigma)))

    def profile(self, mu: float) -> float:
        """The log-likelihood at mu, maximised over tau."""
        found = minimize_scalar(
            lambda tau: -self.log_likelihood(mu, tau),
            bounds=(0.0, TAU_BOUND),
            method="bounded",
            options={"xatol": 1e-5},
        )
        # The bounded search never evaluates the ends themselves, where the maximum may be.
        return max(
            -float(found.fun), self.log_likelihood(mu, 0.0), self.log_likelihood(mu, TAU_BOUND)
        )

    def best_tau(self, mu: float) -> float:
        found = minimize_scalar(
            lambda tau: -self.log_likelihood(mu, tau),
            bounds=(0.0, TAU_BOUND),
            method="bounded",
            options={"xatol": 1e-6},
        )
        candidates = [(-float(found.fun), float(found.x))]
        candidates += [(self.log_likelihood(mu, end), end) for end in (0.0, TAU_BOUND)]
        return max(candidates)[1]


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def interval_method(k: int) -> IntervalMethod:
    """Profile likelihood, scaled by Hartung and Knapp's factor for 3 sites or more."""
    if k >= 3:
        return IntervalMethod.PROFILE_LIKELIHOOD_HK
    return IntervalMethod.PROFILE_LIKELIHOOD


# Fits kept by their counts: a fit is an iterative optimisation (75 ms at 100 sites, 0.8 s
# at 1,000), and a leaderboard asks for the same fits on every view until a result changes
# (bench/leaderboard_scale.py). The model is deterministic and CountsPool immutable, so a
# kept fit is the fit. Bounded: 1,024 fits, each a key of at most two floats per site.
FITS_KEPT = 1024


def pool_counts(events: Sequence[float], trials: Sequence[float]) -> CountsPool:
    """Fit the binomial-normal model to k >= 1 sites, each with 0 <= events <= trials > 0.

    The sites are taken in one order (sorted by their counts), whatever order they come
    in: the model does not depend on it, but an optimiser's last digits do, and the same
    sites should give the same figures to the last digit (and the same kept fit)."""
    if len(events) != len(trials):
        raise ValueError("need one count of trials per count of events, and at least one site")
    pairs = sorted(zip(map(float, events), map(float, trials), strict=True))
    return _pool_counts_kept(tuple(e for e, _ in pairs), tuple(n for _, n in pairs))


@functools.lru_cache(maxsize=FITS_KEPT)
def _pool_counts_kept(events: tuple[float, ...], trials: tuple[float, ...]) -> CountsPool:
    k = len(events)
    if k == 0 or k != len(trials):
        raise ValueError("need one count of trials per count of events, and at least one site")
    if any(n <= 0 or not 0 <= e <= n for e, n in zip(events, trials, strict=True)):
        raise ValueError("each site needs trials > 0 and 0 <= events <= trials")
    data = _Counts(events, trials)
    chi2_drop = float(chi2.ppf(LEVEL, 1)) / 2.0
    total_events, total_trials = sum(events), sum(trials)
    if total_events in (0, total_trials):
        # The likelihood is largest (1) at the edge, where mu is infinite.
        sign = -1.0 if total_events == 0 else 1.0
        bound = _crossing(data, data.constant - chi2_drop, sign * MU_BOUND, -sign * MU_BOUND)
        lower, upper = (-math.inf, bound) if sign < 0 else (bound, math.inf)
        return CountsPool(
            sign * math.inf, lower, upper, 0.0, None, k, IntervalMethod.PROFILE_LIKELIHOOD
        )
    method = interval_method(k)
    start = math.log((total_events + 0.5) / (total_trials - total_events + 0.5))
    fitted = minimize(
        lambda p: -data.log_likelihood(p[0], p[1]),
        x0=np.array([start, 0.5]),
        method="Powell",  # no BLAS: L-BFGS-B slows tenfold where BLAS threads contend
        bounds=[(-MU_BOUND, MU_BOUND), (0.0, TAU_BOUND)],
        options={"xtol": 1e-8, "ftol": 1e-13},
    )
    mu = float(fitted.x[0])
    target = data.profile(mu) - chi2_drop
    lower = _crossing(data, target, mu, -MU_BOUND)
    upper = _crossing(data, target, mu, MU_BOUND)
    tau = data.best_tau(mu)
    prediction = None
    if method is IntervalMethod.PROFILE_LIKELIHOOD_HK:
        scale = hartung_knapp_factor(data, mu, tau)
        lower, upper = mu - scale * (mu - lower), mu + scale * (upper - mu)
        if scale < NO_DISPERSION:
            # q = 0 (counts that fit the model exactly): no dispersion to scale by, and
            # the figure is no surer than all the cases taken as one sample (tau = 0).
            lower, upper = _as_one_sample(data, total_events, total_trials, chi2_drop)
        if math.isfinite(lower) and math.isfinite(upper):
            # Higgins et al. (2009) with the SE implied by the interval's width.
            se = (upper - lower) / (2.0 * _t_quantile(k - 1))
            half = _t_quantile(k - 2) * math.sqrt(tau * tau + se * se)
            prediction = (mu - half, mu + half)
    return CountsPool(mu, lower, upper, tau, prediction, k, method)


def _as_one_sample(data: _Counts, events: float, trials: float, drop: float) -> tuple[float, float]:
    """The profile-likelihood interval of mu at tau = 0: the sites' cases as one sample."""
    mu = math.log(events / (trials - events))
    target = data.log_likelihood(mu, 0.0) - drop

    def fall(m: float) -> float:
        return data.log_likelihood(m, 0.0) - target

    low = brentq(fall, -MU_BOUND, mu, xtol=1e-8) if fall(-MU_BOUND) < 0 else -math.inf
    high = brentq(fall, mu, MU_BOUND, xtol=1e-8) if fall(MU_BOUND) < 0 else math.inf
    return low, high


def hartung_knapp_factor(data: _Counts, mu: float, tau: float) -> float:
    """t(k - 1) / z x sqrt(q) (Hartung and Knapp 2001), q Pearson's statistic / (k - 1)
    with each site's events' marginal mean and variance under the fitted model."""
    k = len(data.y)
    p = _expit(mu + tau * _HERMITE_E_NODES)
    mean_p = float(np.dot(_HERMITE_E_WEIGHTS, p))
    mean_p2 = float(np.dot(_HERMITE_E_WEIGHTS, p * p))
    expected = data.n * mean_p
    # The law of total variance: binomial within the site, the spread of p between.
    variance = data.n * (mean_p - mean_p2) + data.n**2 * max(mean_p2 - mean_p**2, 0.0)
    q = float(np.sum((data.y - expected) ** 2 / variance)) / (k - 1)
    return _t_quantile(k - 1) / Z_95 * math.sqrt(q)


def _t_quantile(df: int) -> float:
    return float(t.ppf(0.5 + LEVEL / 2, df))


def _crossing(data: _Counts, target: float, inside: float, outside: float) -> float:
    """The mu between ``inside`` and ``outside`` where the profile falls to ``target``;
    +-inf when it stays above it all the way to the edge."""
    if data.profile(outside) >= target:
        return math.copysign(math.inf, outside)
    return float(brentq(lambda m: data.profile(m) - target, inside, outside, xtol=1e-6, rtol=1e-8))
