"""Shift between sites: each measure against values worked out by hand (the arithmetic is
in the comments), then whole comparisons of small federations, leave-one-out."""

from __future__ import annotations

import math

import pytest

from medval.core.documents import DatasetStatistics, StatisticValue
from medval.core.shift_schemas import ShiftComparison, ShiftMeasure
from medval.stats.shift import (
    PSI_FLOOR,
    THRESHOLDS,
    SiteShift,
    cohens_h,
    compare_sites,
    jensen_shannon,
    pooled_mean_sd,
    psi,
    smd,
)


def stats(n: int | None, **values: StatisticValue) -> DatasetStatistics:
    return DatasetStatistics(n_cases=n, values=values)


def found(shift: SiteShift[str], variable: str, measure: ShiftMeasure) -> ShiftComparison:
    (comparison,) = [
        c for c in shift.comparisons if c.variable == variable and c.measure is measure
    ]
    return comparison


def test_psi_by_hand() -> None:
    # (0.5 - 0.25) ln(0.5 / 0.25) + (0.5 - 0.75) ln(0.5 / 0.75)
    # = 0.25 * 0.693147 + 0.25 * 0.405465 = 0.274653
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)
    assert psi([0.3, 0.7], [0.3, 0.7]) == 0.0


def test_psi_floors_an_empty_bin() -> None:
    # site [0, 1] -> [1e-4, 1]: (1e-4 - 0.5) ln(1e-4 / 0.5) + (1 - 0.5) ln(1 / 0.5)
    # = 0.4999 * 8.517193 + 0.5 * 0.693147 = 4.257745 + 0.346574 = 4.604318
    assert PSI_FLOOR == 1e-4
    assert psi([0.0, 1.0], [0.5, 0.5]) == pytest.approx(4.604318, abs=1e-6)


def test_jensen_shannon_distance_by_hand() -> None:
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert jensen_shannon([0.2, 0.8], [0.2, 0.8]) == pytest.approx(0.0)
    # M = [0.75, 0.25]; KL(P|M) = 0.5 log2(2/3) + 0.5 log2(2) = 0.207519;
    # KL(Q|M) = log2(4/3) = 0.415037; distance = sqrt((0.207519 + 0.415037) / 2) = 0.557923
    assert jensen_shannon([0.5, 0.5], [1, 0]) == pytest.approx(0.557923, abs=1e-6)


def test_cohens_h_by_hand() -> None:
    # 2 asin(1) - 2 asin(sqrt 0.5) = pi - pi / 2
    assert cohens_h(1.0, 0.5) == pytest.approx(math.pi / 2)
    # 2 asin(sqrt 0.2) - 2 asin(sqrt 0.5) = 0.927295 - 1.570796
    assert cohens_h(0.2, 0.5) == pytest.approx(-0.643501, abs=1e-6)
    assert cohens_h(0.4, 0.4) == 0.0


def test_pooled_mean_and_sd_are_those_of_the_cases_together() -> None:
    # cases 0, 0, 2, 2: mean 1, sample SD sqrt(4 / 3) = 1.154701
    mean, sd = pooled_mean_sd([(2, 0.0, 0.0), (2, 2.0, 0.0)])
    assert mean == 1.0
    assert sd == pytest.approx(1.154701, abs=1e-6)


def test_smd_by_hand() -> None:
    # others: two sites of 10, mean 50, SD 10 -> mean 50, SD sqrt(1800 / 19) = 9.733285;
    # (60 - 50) / sqrt((100 + 94.736842) / 2) = 10 / 9.867544 = 1.013424
    mean, sd = pooled_mean_sd([(10, 50.0, 10.0), (10, 50.0, 10.0)])
    assert smd(60.0, 10.0, mean, sd) == pytest.approx(1.013424, abs=1e-6)
    assert smd(5.0, 0.0, 5.0, 0.0) == 0.0


def test_thresholds_are_stated_with_a_source() -> None:
    assert THRESHOLDS[ShiftMeasure.PSI].marked == 0.25
    assert THRESHOLDS[ShiftMeasure.COHENS_H].marked == 0.5
    assert THRESHOLDS[ShiftMeasure.SMD].marked == 0.5
    assert THRESHOLDS[ShiftMeasure.JENSEN_SHANNON].marked is None
    assert THRESHOLDS[ShiftMeasure.DIFFERENCE].marked is None
    assert all(t.source for t in THRESHOLDS.values())


SITES = {
    "a": stats(100, event_rate=0.5, size={"small": 50, "large": 50}),
    "b": stats(100, event_rate=0.5, size={"small": 25, "large": 75}),
    "c": stats(200, event_rate=0.2, size={"small": 50, "large": 150}),
}


def test_a_site_against_the_others_pooled_by_their_counts() -> None:
    a, b, c = compare_sites(SITES)
    # a: others' size pooled 50/200, 150/200 -> psi([0.5, 0.5], [0.25, 0.75]) = 0.274653
    size = found(a, "size", ShiftMeasure.PSI)
    assert size.value == pytest.approx(0.274653, abs=1e-6)
    assert (size.threshold, size.flagged) == (0.25, True)
    assert [(x.name, x.site_count, x.site_share, x.others_share) for x in size.bins] == [
        ("small", 50, 0.5, 0.25),
        ("large", 50, 0.5, 0.75),
    ]
    # b: others a + c, small 100 of 300 -> psi([0.25, 0.75], [1/3, 2/3])
    # = -0.083333 ln(0.75) + 0.083333 ln(1.125) = 0.023974 + 0.009815 = 0.033789
    assert found(b, "size", ShiftMeasure.PSI).value == pytest.approx(0.033789, abs=1e-6)
    assert not found(b, "size", ShiftMeasure.PSI).flagged
    # c: others' event rate (100 * 0.5 + 100 * 0.5) / 200 = 0.5; h = -0.643501 (by hand above)
    h = found(c, "event_rate", ShiftMeasure.COHENS_H)
    assert (h.site_value, h.others_value) == (0.2, 0.5)
    assert h.value == pytest.approx(-0.643501, abs=1e-6)
    assert h.flagged and c.flagged
    assert found(c, "event_rate", ShiftMeasure.DIFFERENCE).value == pytest.approx(-0.3)
    # a: others' event rate (100 * 0.5 + 200 * 0.2) / 300 = 0.3;
    # h = 2 asin(sqrt 0.5) - 2 asin(sqrt 0.3) = 1.570796 - 1.159279 = 0.411517: not marked
    h = found(a, "event_rate", ShiftMeasure.COHENS_H)
    assert h.value == pytest.approx(0.411517, abs=1e-6)
    assert not h.flagged
    assert [s.n_reference_sites for s in (a, b, c)] == [2, 2, 2]


def test_a_bin_withheld_at_one_site_is_left_out_for_all() -> None:
    shifts = compare_sites(
        {
            "a": stats(100, grade={"g1": 0, "g2": 60, "g3": 40}),
            "b": stats(100, grade={"g2": 60, "g3": 40}),  # g1 withheld: a small cell
        }
    )
    for shift in shifts:
        comparison = found(shift, "grade", ShiftMeasure.PSI)
        assert [x.name for x in comparison.bins] == ["g2", "g3"]
        assert comparison.value == 0.0


def test_mean_with_sd_and_what_is_not_compared() -> None:
    a, _, c = compare_sites(
        {
            "a": stats(10, mean_age=60.0, sd_age=10.0, mean_nodes=3.0, median_size=22.0),
            "b": stats(10, mean_age=50.0, sd_age=10.0, mean_nodes=2.0, median_size=25.0),
            "c": stats(10, mean_age=50.0, sd_age=10.0),
        }
    )
    age = found(a, "mean_age", ShiftMeasure.SMD)
    assert age.value == pytest.approx(1.013424, abs=1e-6)
    assert (age.site_value, age.others_value, age.flagged) == (60.0, 50.0, True)
    assert a.not_compared == {
        "mean_nodes": "a mean without sd_nodes",
        "median_size": "a number outside 0 to 1 that is not a mean with its SD",
    }
    assert "sd_age" not in a.not_compared
    assert c.not_compared == {}


def test_a_single_site_has_nothing_to_compare_with() -> None:
    (only,) = compare_sites({"a": stats(100, event_rate=0.4)})
    assert only.comparisons == []
    assert only.not_compared == {"event_rate": "no other site reports it"}
    assert only.n_reference_sites == 0 and not only.flagged


def test_frequencies_are_weighted_by_n_cases() -> None:
    # b and c's shares weighted 100 : 300 -> small (0.5 * 100 + 0.1 * 300) / 400 = 0.2
    a, _, _ = compare_sites(
        {
            "a": stats(100, size={"small": 0.5, "large": 0.5}),
            "b": stats(100, size={"small": 0.5, "large": 0.5}),
            "c": stats(300, size={"small": 0.1, "large": 0.9}),
        }
    )
    comparison = found(a, "size", ShiftMeasure.PSI)
    assert [x.site_count for x in comparison.bins] == [None, None]
    assert [x.others_share for x in comparison.bins] == pytest.approx([0.2, 0.8])


def test_what_cannot_be_measured_is_not_compared_never_infinite() -> None:
    a, _ = compare_sites(
        {
            "a": stats(10, mean_dose=2.0, sd_dose=0.0, size={"s": -1, "l": 11}),
            "b": stats(10, mean_dose=3.0, sd_dose=0.0, size={"s": 5, "l": 5}),
        }
    )
    assert a.comparisons == []
    assert a.not_compared == {
        "mean_dose": "no spread to compare with: the SD is 0 at the site and at the others",
        "size": "a negative count or frequency",
    }
