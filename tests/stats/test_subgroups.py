"""The gap between subgroups against a hand computation (the delta method written out)."""

from __future__ import annotations

import math

import pytest

from medval.core.result_schemas import PooledMetric
from medval.stats.pooling import IDENTITY, LOGIT
from medval.stats.subgroups import standard_error, subgroup_gap


def _pooled(value: float, lower: float | None, upper: float | None) -> PooledMetric:
    return PooledMetric(value=value, lower=lower, upper=upper, n_sites=3, i_squared=None)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_the_gap_of_two_proportions_by_hand() -> None:
    # grade_1 0.8 [0.7, 0.875]: logit width 1.945910 - 0.847298 = 1.098612, over 3.919928
    # is 0.280264; times 0.8 x 0.2 = 0.044842. grade_3 0.6 [0.5, 0.7]: 0.847298 / 3.919928
    # = 0.216152; times 0.6 x 0.4 = 0.051876. Gap 0.2 +- 1.959964 x sqrt(0.044842² +
    # 0.051876²) = 0.2 +- 1.959964 x 0.068571 = [0.065603, 0.334397].
    levels = {
        "grade_1": _pooled(0.8, 0.7, 0.875),
        "grade_2": _pooled(0.7, 0.6, 0.8),
        "grade_3": _pooled(0.6, 0.5, 0.7),
    }
    gap = subgroup_gap(levels, LOGIT)
    assert gap is not None
    assert (gap.largest, gap.smallest) == ("grade_1", "grade_3")
    assert gap.difference == pytest.approx(0.2, abs=1e-12)
    assert gap.lower == pytest.approx(0.065603, abs=1e-6)
    assert gap.upper == pytest.approx(0.334397, abs=1e-6)
    se = (_logit(0.875) - _logit(0.7)) / (2 * 1.959964) * 0.16
    assert standard_error(levels["grade_1"], LOGIT) == pytest.approx(se, rel=1e-6)


def test_a_linear_metric_uses_the_interval_as_it_is() -> None:
    # brier 0.20 [0.18, 0.22] and 0.15 [0.14, 0.16]: se 0.02/1.96 and 0.01/1.96;
    # gap 0.05 +- sqrt(0.02² + 0.01²) = 0.05 +- 0.022361
    gap = subgroup_gap({"a": _pooled(0.15, 0.14, 0.16), "b": _pooled(0.2, 0.18, 0.22)}, IDENTITY)
    assert gap is not None
    assert (gap.largest, gap.smallest) == ("b", "a")
    assert gap.lower == pytest.approx(0.05 - math.sqrt(0.0005), abs=1e-6)
    assert gap.upper == pytest.approx(0.05 + math.sqrt(0.0005), abs=1e-6)


def test_a_level_without_an_interval_gives_a_gap_without_one() -> None:
    gap = subgroup_gap({"a": _pooled(0.7, None, None), "b": _pooled(0.6, 0.5, 0.7)}, LOGIT)
    assert gap is not None
    assert (gap.difference, gap.lower, gap.upper) == (pytest.approx(0.1), None, None)


def test_one_level_has_no_gap() -> None:
    assert subgroup_gap({"a": _pooled(0.7, 0.6, 0.8)}, LOGIT) is None
