"""The binomial-normal model for proportions with counts, and the edge cases of issue 13:
no events at two small sites, and a sensitivity of 1.0 at two sites. Expectations come
from an independent computation (the marginal likelihood integrated on a fine grid, not
by Gauss-Hermite quadrature) or by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import expit, logit
from scipy.stats import binom, chi2, norm, t

from medval.core.documents import MetricValue
from medval.core.pooling_methods import IntervalMethod, PoolingModel
from medval.stats.pooling import SiteCounts, pool_metric
from medval.stats.proportions import TAU_BOUND, interval_method, pool_counts
from medval.stats.random_effects import Z_95

_Z = np.linspace(-10.0, 10.0, 40001)  # a fine grid for the random intercept (SD units)
_PHI = norm.pdf(_Z)


def _log_likelihood(mu: float, tau: float, events: list[int], trials: list[int]) -> float:
    """The marginal log-likelihood, integrated by the trapezoid rule on a fine grid."""
    total = 0.0
    for e, n in zip(events, trials, strict=True):
        values = binom.pmf(e, n, expit(mu + tau * _Z)) * _PHI
        total += math.log(float(np.trapezoid(values, _Z)))
    return total


def _profile(mu: float, events: list[int], trials: list[int]) -> float:
    found = minimize_scalar(
        lambda tau: -_log_likelihood(mu, tau, events, trials),
        bounds=(0.0, TAU_BOUND),
        method="bounded",
        options={"xatol": 1e-7},
    )
    ends = [_log_likelihood(mu, tau, events, trials) for tau in (0.0, TAU_BOUND)]
    return max(-float(found.fun), *ends)


def _wilson(e: int, n: int) -> MetricValue:
    p = e / n
    centre = (p + Z_95**2 / (2 * n)) / (1 + Z_95**2 / n)
    half = Z_95 / (1 + Z_95**2 / n) * math.sqrt(p * (1 - p) / n + Z_95**2 / (4 * n * n))
    return MetricValue(value=p, lower=max(0.0, centre - half), upper=min(1.0, centre + half))


# --- the edge cases of issue 13 -------------------------------------------------------


def test_no_events_at_two_small_sites_pool_to_an_interval_as_wide_as_theirs() -> None:
    # Accuracy 0 of 3 and 0 of 4: the likelihood is largest (1) at a proportion of 0, and
    # the upper bound is where twice its log falls by chi²(1) = 3.84 (two sites, module doc
    # of stats.proportions), tau profiled out (up to TAU_BOUND).
    events, trials = [0, 0], [3, 4]
    upper = brentq(lambda m: 2 * (0.0 - _profile(m, events, trials)) - chi2.ppf(0.95, 1), -5, 5)
    sites = [_wilson(0, 3), _wilson(0, 4)]
    assert sites[0].upper == pytest.approx(0.5615, abs=1e-4)  # the issue's [0, 0.56]
    assert sites[1].upper == pytest.approx(0.4899, abs=1e-4)  # and [0, 0.49]
    pooled = pool_metric("accuracy", sites, [SiteCounts(3, 1), SiteCounts(4, 2)])
    assert pooled.model is PoolingModel.BINOMIAL_NORMAL
    assert pooled.interval_method is IntervalMethod.PROFILE_LIKELIHOOD
    assert (pooled.value, pooled.lower) == (0.0, 0.0)
    assert pooled.upper == pytest.approx(float(expit(upper)), abs=5e-5)
    # Not 0.012 as before: about the sites' own (0.56, 0.49), wider than a common
    # proportion's 1 - exp(-3.84 / 14) = 0.24, as two sites that may differ must be.
    assert 0.35 < pooled.upper < 0.45
    assert pooled.prediction_lower is None and pooled.prediction_upper is None


def test_no_events_without_counts_pool_the_counts_their_intervals_imply() -> None:
    # Wilson's upper bound for 0 of n is z² / (n + z²): inverted, 0.5615 is 3 cases and
    # 0.4899 is 4, and the default pools those counts as counts: what 0 of 3 and 0 of 4
    # pool to with their counts known (the profile likelihood's 1.92 drop from 0).
    events, trials = [0, 0], [3, 4]
    upper = brentq(lambda m: 2 * (0.0 - _profile(m, events, trials)) - chi2.ppf(0.95, 1), -8, 5)
    implied = pool_metric("accuracy", [_wilson(0, 3), _wilson(0, 4)])
    assert implied.model is PoolingModel.BINOMIAL_NORMAL_EFFECTIVE
    assert implied.interval_method is IntervalMethod.PROFILE_LIKELIHOOD
    assert (implied.value, implied.lower) == (0.0, 0.0)
    assert implied.upper == pytest.approx(float(expit(upper)), abs=5e-5)
    assert 0.39 < implied.upper < 0.41
    # Asked to pool the intervals themselves: half an event is added to each cell, logit
    # 0.5 / 3.5 and 0.5 / 4.5, variances 1 / 0.5 + 1 / 3.5 and 1 / 0.5 + 1 / 4.5.
    # Q = (y1 - y2)² / (v1 + v2) < 1, so tau² = 0; two sites: Wald.
    y1, y2 = math.log(0.5 / 3.5), math.log(0.5 / 4.5)
    v1, v2 = 2 + 1 / 3.5, 2 + 1 / 4.5
    mu = (y1 / v1 + y2 / v2) / (1 / v1 + 1 / v2)
    se = (1 / v1 + 1 / v2) ** -0.5
    pooled = pool_metric("accuracy", [_wilson(0, 3), _wilson(0, 4)], effective=False)
    assert pooled.model is PoolingModel.INVERSE_VARIANCE
    assert pooled.interval_method is IntervalMethod.WALD
    assert pooled.value == pytest.approx(float(expit(mu)), abs=1e-9)
    assert pooled.lower == pytest.approx(float(expit(mu - Z_95 * se)), abs=1e-9)
    assert pooled.upper == pytest.approx(float(expit(mu + Z_95 * se)), abs=1e-9)
    assert 0.45 < pooled.upper < 0.55  # about 0.50


def test_sensitivity_of_one_at_two_sites_is_not_overconfident() -> None:
    # 20 of 20 and 15 of 15 positives found: the mirror image of no events.
    events, trials = [20, 15], [20, 15]
    lower = brentq(lambda m: 2 * (0.0 - _profile(m, events, trials)) - chi2.ppf(0.95, 1), -5, 8)
    sites = [_wilson(20, 20), _wilson(15, 15)]
    pooled = pool_metric("sensitivity", sites, [SiteCounts(50, 20), SiteCounts(40, 15)])
    assert pooled.model is PoolingModel.BINOMIAL_NORMAL
    assert (pooled.value, pooled.upper) == (1.0, 1.0)
    assert pooled.lower == pytest.approx(float(expit(lower)), abs=5e-5)
    # The old pooling said [0.988, 0.99992]; the sites' own lower bounds are 0.84 and 0.80,
    # a common proportion's (35 of 35) exp(-3.84 / 70) = 0.947.
    assert 0.88 < pooled.lower < 0.90


def test_sensitivity_of_one_without_counts_is_not_overconfident() -> None:
    # Wilson's lower bound for n of n is n / (n + z²): the default reads 20 and 15 cases
    # from the intervals and pools them as the counts would be (the test above).
    events, trials = [20, 15], [20, 15]
    lower = brentq(lambda m: 2 * (0.0 - _profile(m, events, trials)) - chi2.ppf(0.95, 1), -5, 8)
    implied = pool_metric("sensitivity", [_wilson(20, 20), _wilson(15, 15)])
    assert implied.model is PoolingModel.BINOMIAL_NORMAL_EFFECTIVE
    assert (implied.value, implied.upper) == (1.0, 1.0)
    assert implied.lower == pytest.approx(float(expit(lower)), abs=5e-5)
    # The intervals themselves, pooled as 20.5 / 0.5 and 15.5 / 0.5 on the logit scale
    # (half an event added to each cell).
    y1, y2 = math.log(20.5 / 0.5), math.log(15.5 / 0.5)
    v1, v2 = 1 / 20.5 + 2, 1 / 15.5 + 2
    mu = (y1 / v1 + y2 / v2) / (1 / v1 + 1 / v2)
    se = (1 / v1 + 1 / v2) ** -0.5
    pooled = pool_metric("sensitivity", [_wilson(20, 20), _wilson(15, 15)], effective=False)
    assert pooled.lower == pytest.approx(float(expit(mu - Z_95 * se)), abs=1e-9)
    assert pooled.upper == pytest.approx(float(expit(mu + Z_95 * se)), abs=1e-9)


# --- the model against an independent fit ---------------------------------------------


@pytest.mark.parametrize(
    ("events", "trials"),
    [([5, 9, 2], [30, 30, 30]), ([0, 1, 0, 3, 2], [30, 25, 40, 30, 30])],
)
def test_the_fit_matches_adaptive_quadrature(events: list[int], trials: list[int]) -> None:
    found = minimize(
        lambda p: -_log_likelihood(p[0], abs(p[1]), events, trials),
        x0=[float(logit(sum(events) / sum(trials))), 0.5],
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 4000},
    )
    mu_hat, tau_hat = float(found.x[0]), min(abs(float(found.x[1])), TAU_BOUND)
    best = -float(found.fun)

    def drop(m: float) -> float:
        return 2 * (best - _profile(m, events, trials)) - chi2.ppf(0.95, 1)

    lower, upper = brentq(drop, mu_hat - 15, mu_hat), brentq(drop, mu_hat, mu_hat + 15)
    # Three sites or more: each side scaled by Hartung and Knapp's factor, from Pearson's
    # statistic with each site's marginal mean and variance under the fit (the integral
    # over the random intercept taken on a fine grid, not by quadrature).
    e, n, k = np.array(events, float), np.array(trials, float), len(events)
    grid = np.linspace(-12, 12, 24001)
    density = norm.pdf(grid) / norm.pdf(grid).sum()
    p = expit(mu_hat + tau_hat * grid)
    mean_p, mean_p2 = float(density @ p), float(density @ (p * p))
    variance = n * (mean_p - mean_p2) + n**2 * (mean_p2 - mean_p**2)
    q = float(np.sum((e - n * mean_p) ** 2 / variance)) / (k - 1)
    widen = t.ppf(0.975, k - 1) / Z_95 * math.sqrt(q)
    lower, upper = mu_hat - widen * (mu_hat - lower), mu_hat + widen * (upper - mu_hat)
    fitted = pool_counts(events, trials)
    assert fitted.interval is IntervalMethod.PROFILE_LIKELIHOOD_HK
    assert fitted.estimate == pytest.approx(mu_hat, abs=1e-4)
    assert fitted.tau == pytest.approx(tau_hat, abs=1e-3)
    assert fitted.lower == pytest.approx(lower, abs=1e-3)
    assert fitted.upper == pytest.approx(upper, abs=1e-3)


def test_sites_that_agree_pool_to_the_common_proportion() -> None:
    # Equal proportions: tau = 0 and mu is the logit of the pooled proportion, 15 / 60.
    fitted = pool_counts([5, 5, 5], [20, 20, 20])
    assert fitted.tau == 0.0
    assert fitted.estimate == pytest.approx(math.log(15 / 45), abs=1e-6)


def test_sites_that_agree_exactly_are_no_surer_than_their_cases_as_one_sample() -> None:
    # Identical counts give Q = 0, and Hartung and Knapp's factor would make the interval a
    # point: it is the likelihood-ratio interval of 15 of 60 instead.
    fitted = pool_counts([5, 5, 5], [20, 20, 20])

    def drop(p: float) -> float:
        return 2 * (binom.logpmf(15, 60, 0.25) - binom.logpmf(15, 60, p)) - chi2.ppf(0.95, 1)

    low, high = brentq(drop, 0.01, 0.25), brentq(drop, 0.25, 0.99)
    assert fitted.interval is IntervalMethod.PROFILE_LIKELIHOOD_HK
    assert float(expit(fitted.lower)) == pytest.approx(low, abs=1e-6)
    assert float(expit(fitted.upper)) == pytest.approx(high, abs=1e-6)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (2, IntervalMethod.PROFILE_LIKELIHOOD),
        (3, IntervalMethod.PROFILE_LIKELIHOOD_HK),
        (9, IntervalMethod.PROFILE_LIKELIHOOD_HK),
        (10, IntervalMethod.PROFILE_LIKELIHOOD_HK),
        (1000, IntervalMethod.PROFILE_LIKELIHOOD_HK),
    ],
)
def test_the_hartung_knapp_scaling_is_for_three_sites_or_more(
    k: int, expected: IntervalMethod
) -> None:
    assert interval_method(k) is expected


def test_counts_that_do_not_match_the_value_fall_back_to_the_intervals() -> None:
    # 0.667 is not a whole number of 3 positives (an evaluator that rounds): the counts
    # the intervals imply.
    sites = [MetricValue(value=0.667, lower=0.21, upper=0.94), _wilson(3, 4)]
    pooled = pool_metric("sensitivity", sites, [SiteCounts(10, 3), SiteCounts(10, 4)])
    assert pooled.model is PoolingModel.BINOMIAL_NORMAL_EFFECTIVE
    # PPV needs the positive predictions, which no document carries.
    pooled = pool_metric("ppv", [_wilson(3, 4), _wilson(2, 4)], [SiteCounts(8, 4)] * 2)
    assert pooled.model is PoolingModel.BINOMIAL_NORMAL_EFFECTIVE


@pytest.mark.parametrize(
    ("events", "trials", "message"),
    [([1], [0], "trials > 0"), ([5], [4], "events <= trials"), ([], [], "at least one")],
)
def test_impossible_counts_are_refused(events: list[int], trials: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pool_counts(events, trials)
