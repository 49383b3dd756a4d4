"""The counts a site's interval implies (issue 13): checked against statsmodels' Wilson
interval, an independent computation of the interval being inverted."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from medval.core.documents import MetricValue
from medval.core.pooling_methods import PoolingModel
from medval.stats.effective_counts import effective_counts, effective_trials
from medval.stats.pooling import SiteCounts, pool_metric


@pytest.mark.parametrize(("events", "trials"), [(0, 30), (1, 30), (15, 30), (30, 30), (2, 7)])
def test_a_wilson_interval_gives_back_its_counts(events: int, trials: int) -> None:
    low, high = proportion_confint(events, trials, alpha=0.05, method="wilson")
    found = effective_counts(events / trials, low, high)
    assert found is not None
    assert found[0] == pytest.approx(events, abs=1e-6)
    assert found[1] == pytest.approx(trials, rel=1e-6)


def test_a_wider_clopper_pearson_interval_gives_fewer_trials() -> None:
    low, high = proportion_confint(1, 30, alpha=0.05, method="beta")
    n = effective_trials(1 / 30, low, high)
    assert n is not None and 20 < n < 30


@pytest.mark.parametrize(("low", "high"), [(0.3, 0.3), (0.0, 1.0)])
def test_an_interval_of_no_width_or_all_of_it_says_nothing(low: float, high: float) -> None:
    assert effective_counts(0.3, low, high) is None


def test_effective_pooling_of_wilson_intervals_is_the_pooling_of_their_counts() -> None:
    events = [0, 1, 2, 0, 1]
    sites = [
        MetricValue(value=e / 30, lower=lo, upper=hi)
        for e in events
        for lo, hi in [proportion_confint(e, 30, alpha=0.05, method="wilson")]
    ]
    implied = pool_metric("sensitivity", sites, effective=True)
    counted = pool_metric("sensitivity", sites, [SiteCounts(30, 30)] * len(sites))
    assert implied.model is PoolingModel.BINOMIAL_NORMAL_EFFECTIVE
    assert counted.model is PoolingModel.BINOMIAL_NORMAL
    for field in ("value", "lower", "upper"):
        assert getattr(implied, field) == pytest.approx(getattr(counted, field), abs=1e-4)
