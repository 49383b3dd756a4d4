"""tau² estimators and the random-effects intervals, checked against statsmodels'
meta-analysis functions (DerSimonian-Laird, Paule-Mandel, Hartung-Knapp-Sidik-Jonkman) to
1e-6, REML against a direct maximisation of the restricted likelihood and metafor's
published REML fit of the BCG trials."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import t
from statsmodels.stats.meta_analysis import combine_effects

from medval.core.pooling_methods import IntervalMethod, TauSquaredMethod
from medval.stats.heterogeneity import tau_squared
from medval.stats.random_effects import default_interval, random_effects

from .test_pooling import _bcg_log_risk_ratios

STATSMODELS_NAME = {
    TauSquaredMethod.DERSIMONIAN_LAIRD: "chi2",
    TauSquaredMethod.PAULE_MANDEL: "iterated",
}


def _sites(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """3 to 12 sites, heterogeneous enough that tau² > 0 for most seeds."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 13))
    se = rng.uniform(0.1, 0.6, k)
    y = rng.normal(0.8, 0.5, k) + rng.normal(0, se)
    return y, se


@pytest.mark.parametrize("method", list(STATSMODELS_NAME))
@pytest.mark.parametrize("seed", range(12))
def test_matches_statsmodels(method: TauSquaredMethod, seed: int) -> None:
    y, se = _sites(seed)
    sm = combine_effects(y, se**2, method_re=STATSMODELS_NAME[method], use_t=True)
    wald = random_effects(y.tolist(), se.tolist(), method, IntervalMethod.WALD)
    if sm.tau2 < 0:
        # statsmodels leaves DerSimonian-Laird's tau² negative (and weights with it) where
        # Q < k - 1; the estimator is truncated at zero: the fixed-effect estimate.
        assert wald.tau_squared == 0.0
        assert wald.estimate == pytest.approx(sm.mean_effect_fe, abs=1e-6)
        assert wald.standard_error == pytest.approx(sm.sd_eff_w_fe, abs=1e-6)
        return
    assert wald.tau_squared == pytest.approx(sm.tau2, abs=1e-6)
    assert wald.estimate == pytest.approx(sm.mean_effect_re, abs=1e-6)
    assert wald.standard_error == pytest.approx(sm.sd_eff_w_re, abs=1e-6)
    assert wald.q == pytest.approx(sm.q, abs=1e-6)
    assert wald.i_squared == pytest.approx(max(0.0, sm.i2), abs=1e-6)
    _, re, _, re_wls = sm.conf_int(use_t=False)
    assert (wald.lower, wald.upper) == pytest.approx(tuple(re), abs=1e-6)
    hk = random_effects(y.tolist(), se.tolist(), method, IntervalMethod.HARTUNG_KNAPP)
    _, _, _, re_wls = sm.conf_int(use_t=True)  # "wls": Hartung-Knapp-Sidik-Jonkman, t(k-1)
    assert hk.standard_error == pytest.approx(sm.sd_eff_w_re_hksj, abs=1e-6)
    assert (hk.lower, hk.upper) == pytest.approx(tuple(re_wls), abs=1e-6)


def test_the_modified_hartung_knapp_never_scales_below_one() -> None:
    # Sites that agree more than chance allows: Q(tau² = 0) < k - 1, so the plain
    # Hartung-Knapp SE is smaller than the Wald SE and the modified one equals it.
    y, se = [0.10, 0.11, 0.09, 0.10], [0.2, 0.3, 0.25, 0.2]
    plain = random_effects(y, se, interval=IntervalMethod.HARTUNG_KNAPP)
    modified = random_effects(y, se, interval=IntervalMethod.HARTUNG_KNAPP_MODIFIED)
    wald = random_effects(y, se, interval=IntervalMethod.WALD)
    assert plain.standard_error < wald.standard_error
    assert modified.standard_error == pytest.approx(wald.standard_error, abs=1e-15)
    assert modified.upper - modified.estimate == pytest.approx(
        t.ppf(0.975, 3) * wald.standard_error, abs=1e-12
    )


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (2, IntervalMethod.WALD),
        (3, IntervalMethod.HARTUNG_KNAPP_MODIFIED),
        (9, IntervalMethod.HARTUNG_KNAPP_MODIFIED),
        (10, IntervalMethod.WALD),
    ],
)
def test_hartung_knapp_is_the_default_from_three_to_nine_sites(
    k: int, expected: IntervalMethod
) -> None:
    assert default_interval(k) is expected
    re = random_effects([0.1 * i for i in range(k)], [0.3] * k)
    assert re.interval is expected


def _restricted_log_likelihood(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    return -0.5 * float(
        np.sum(np.log(v + tau2)) + math.log(float(np.sum(w))) + np.sum(w * (y - mu) ** 2)
    )


@pytest.mark.parametrize("seed", range(12))
def test_reml_maximises_the_restricted_likelihood(seed: int) -> None:
    y, se = _sites(seed)
    v = se**2
    found = minimize_scalar(
        lambda tau2: -_restricted_log_likelihood(tau2, y, v),
        bounds=(0.0, 25.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    expected = float(found.x) if found.x > 1e-9 else 0.0
    assert tau_squared(y.tolist(), v.tolist(), TauSquaredMethod.REML) == pytest.approx(
        expected, abs=1e-6
    )


def test_reml_matches_metafor_on_the_bcg_trials() -> None:
    # metafor's rma(yi, vi, data = dat.bcg) (REML, its default; Viechtbauer 2010, J Stat
    # Softw 36(3)): estimate -0.7145 (SE 0.1798), 95% CI -1.0669 to -0.3622, tau² 0.3132.
    y, se = _bcg_log_risk_ratios()
    re = random_effects(y, se, TauSquaredMethod.REML, IntervalMethod.WALD)
    assert re.tau_squared == pytest.approx(0.3132, abs=5e-5)
    assert re.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert re.standard_error == pytest.approx(0.1798, abs=5e-5)
    assert (re.lower, re.upper) == pytest.approx((-1.0669, -0.3622), abs=5e-5)


def test_prediction_interval_follows_higgins_and_is_none_below_three_sites() -> None:
    y, se = _bcg_log_risk_ratios()
    re = random_effects(y, se, TauSquaredMethod.DERSIMONIAN_LAIRD, IntervalMethod.WALD)
    # Higgins, Thompson & Spiegelhalter (2009): mu +- t(k-2) sqrt(tau² + SE²), with the DL
    # figures published for these data (tau² 0.3088, SE 0.1787): -1.9942 to 0.5660.
    half = t.ppf(0.975, 11) * math.sqrt(0.3088 + 0.1787**2)
    assert re.prediction == pytest.approx((-0.7141 - half, -0.7141 + half), abs=5e-4)
    assert random_effects(y[:2], se[:2]).prediction is None
    assert random_effects(y[:3], se[:3]).prediction is not None
