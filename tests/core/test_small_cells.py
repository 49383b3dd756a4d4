"""medval withholds small cells itself, whatever the cube computed (core.small_cells)."""

from __future__ import annotations

import pytest

from medval.core.documents import DatasetStatistics, MetricValue, ResultDocument
from medval.core.proportions import is_count_like, pinned_counts
from medval.core.small_cells import (
    effective_min_cell_count,
    small_cells_in_result,
    small_cells_in_statistics,
    suppress_result,
    suppress_statistics,
)

K = 10


def test_a_small_count_is_withheld_and_named_other_values_stay() -> None:
    statistics = DatasetStatistics(
        n_cases=120,
        values={"rare_events": 3, "no_events": 0, "mean_age": 61.5, "big": 117, "ratio": 0.4},
    )
    kept, withheld = suppress_statistics(statistics, K)
    assert kept.values == {"no_events": 0, "mean_age": 61.5, "big": 117, "ratio": 0.4}
    assert [(w.path, w.reason, w.small_cell) for w in withheld] == [
        ("rare_events", "a count of 3, below the minimum cell size 10", True)
    ]
    assert kept.n_cases == 120


def test_a_number_written_whole_is_a_count_one_with_a_decimal_point_a_measure() -> None:
    assert [is_count_like(v) for v in (3, 0, 3.0, 1.0, 0.5, True, -2)] == [
        True, True, False, False, False, False, False,
    ]  # fmt: skip


def test_one_small_count_in_a_group_takes_the_smallest_other_with_it() -> None:
    """Else the hidden one is the total minus the others."""
    statistics = DatasetStatistics(
        n_cases=100, values={"grade": {"grade_1": 2, "grade_2": 40, "grade_3": 58, "none": 0}}
    )
    kept, withheld = suppress_statistics(statistics, K)
    assert kept.values == {"grade": {"grade_3": 58, "none": 0}}
    assert [w.path for w in withheld] == ["grade.grade_1", "grade.grade_2"]


def test_two_small_counts_in_a_group_hide_each_other() -> None:
    statistics = DatasetStatistics(n_cases=50, values={"g": {"a": 1, "b": 2, "c": 47}})
    kept, withheld = suppress_statistics(statistics, K)
    assert kept.values == {"g": {"c": 47}}
    assert [w.path for w in withheld] == ["g.a", "g.b"]


def test_fewer_cases_than_k_sends_nothing() -> None:
    statistics = DatasetStatistics(n_cases=4, values={"mean_age": 50.0, "events": 2})
    kept, withheld = suppress_statistics(statistics, K)
    assert (kept.n_cases, kept.values) == (None, {})
    assert [w.path for w in withheld] == ["n_cases", "mean_age", "events"]
    assert "fewer than 10 cases" in withheld[1].reason


@pytest.mark.parametrize(
    ("value", "total", "pinned"),
    [
        (1 / 3, 3, {1}),  # exact
        (0.3333, 3, {1}),  # rounded to 4 decimals
        (0.33, 3, {1}),  # rounded to 2
        (0.1, 20, {2}),  # exactly 2/20, though written with one decimal
        (0.95, 1000, {950}),  # exactly 950/1000
        (0.951, 100, set()),  # no c/100 rounds to it
        (0.73, 1000, {730}),
        (1.5, 10, set()),  # not a proportion
    ],
)
def test_which_counts_a_proportion_pins(value: float, total: int, pinned: set[int]) -> None:
    assert pinned_counts(value, total) == pinned


def test_a_proportion_of_a_small_count_is_withheld_others_stay() -> None:
    """The proportions of a category of 3 among 120 (numerator), and of 117 (its
    complement is 3), pin a small count; 60 of 120 does not."""
    statistics = DatasetStatistics(
        n_cases=120,
        values={"rate_rare": round(3 / 120, 4), "rate_common": 0.975, "half": 0.5},
    )
    kept, withheld = suppress_statistics(statistics, K)
    assert kept.values == {"half": 0.5}
    assert [(w.path, w.reason) for w in withheld] == [
        ("rate_rare", "0.025 is 3 of 120, a proportion of a count below 10"),
        ("rate_common", "0.975 is 117 of 120, a proportion of a count below 10"),
    ]


def test_a_proportion_over_a_small_group_count_is_withheld() -> None:
    """2 of the 3 grade-1 cases: the denominator is a count in the document."""
    statistics = DatasetStatistics(
        n_cases=200, values={"grade_1": 3, "grade_1_er_positive": 0.6667, "mean_age": 0.6}
    )
    kept, _ = suppress_statistics(statistics, K)
    assert kept.values == {"mean_age": 0.6}


@pytest.mark.parametrize(
    ("n_cases", "n_positive", "withheld"),
    [(100, 3, True), (100, 97, True), (100, 0, False), (100, 50, False), (None, 2, True)],
)
def test_a_results_small_positive_count_is_withheld(
    n_cases: int | None, n_positive: int, withheld: bool
) -> None:
    result = ResultDocument(
        n_cases=n_cases, n_positive=n_positive, metrics={"slope": MetricValue(value=1.2)}
    )
    kept, named = suppress_result(result, K)
    assert kept.metrics == result.metrics and kept.n_cases == n_cases
    assert (kept.n_positive is None) == withheld
    assert [w.path for w in named] == (["n_positive"] if withheld else [])


def test_with_few_positives_every_value_between_0_and_1_goes() -> None:
    """medval cannot tell the sensitivity (a proportion of the 2) from the AUROC."""
    result = ResultDocument(
        n_cases=100,
        n_positive=2,
        metrics={
            "auroc": MetricValue(value=0.71, lower=0.55, upper=0.83),
            "oe_ratio": MetricValue(value=1.4, lower=0.3, upper=4.2),
            "calibration_slope": MetricValue(value=1.3, lower=1.1, upper=1.6),
        },
    )
    kept, named = suppress_result(result, K)
    assert list(kept.metrics) == ["calibration_slope"]
    assert [w.path for w in named] == ["n_positive", "auroc", "oe_ratio"]
    assert "fewer than 10 positive cases" in named[1].reason


def test_a_results_proportion_and_a_count_written_as_a_metric_are_withheld() -> None:
    result = ResultDocument(
        n_cases=200,
        n_positive=50,
        metrics={
            "sensitivity": MetricValue(value=48 / 50),  # 2 false negatives
            "specificity": MetricValue(value=0.8),  # 120 of 150
            "false_negatives": MetricValue(value=2),
            "auroc": MetricValue(value=0.8412),
        },
    )
    kept, named = suppress_result(result, K)
    assert list(kept.metrics) == ["specificity", "auroc"]
    assert [(w.path, w.reason) for w in named] == [
        ("false_negatives", "a count of 2, below the minimum cell size 10"),
        ("sensitivity", "0.96 is 48 of 50, a proportion of a count below 10"),
    ]


def test_a_result_with_fewer_cases_than_k_sends_nothing() -> None:
    result = ResultDocument(n_cases=6, n_positive=3, metrics={"auroc": MetricValue(value=0.7)})
    kept, named = suppress_result(result, K)
    assert kept == ResultDocument(metrics={})
    assert [w.path for w in named] == ["n_cases", "n_positive", "auroc"]


def test_what_is_sent_passes_the_servers_check() -> None:
    """Suppression runs until the same check (without a free-form file's groups) finds
    nothing: a group's total changes once counts are withheld."""
    statistics = DatasetStatistics(
        n_cases=500,
        values={"g": {"a": 4, "b": 30, "c": 36, "d": 430}, "b_share": 0.5, "x": 36 / 66},
    )
    kept, _ = suppress_statistics(statistics, K)
    assert small_cells_in_statistics(kept, K) == []
    result = ResultDocument(
        n_cases=60, n_positive=55, metrics={"sensitivity": MetricValue(value=0.9)}
    )
    sent, _ = suppress_result(result, K)
    assert small_cells_in_result(sent, K) == []


def test_the_local_setting_only_makes_k_stricter() -> None:
    assert effective_min_cell_count(10, None) == 10
    assert effective_min_cell_count(10, 5) == 10
    assert effective_min_cell_count(10, 20) == 20


def test_counts_flattened_out_of_one_mapping_are_one_group() -> None:
    """A free-form file's ``age_band: {...}`` arrives as three top-level statistics."""
    statistics = DatasetStatistics(
        n_cases=406,
        values={"age_band_under_40": 47, "age_band_40_to_74": 355, "age_band_75_and_over": 4},
    )
    groups = dict.fromkeys(statistics.values, "age_band")
    kept, withheld = suppress_statistics(statistics, K, groups)
    assert kept.values == {"age_band_40_to_74": 355}
    assert [w.path for w in withheld] == ["age_band_75_and_over", "age_band_under_40"]
    # Without the group, the small one alone would go, and be the total minus the others.
    alone, _ = suppress_statistics(statistics, K)
    assert list(alone.values) == ["age_band_under_40", "age_band_40_to_74"]


def test_an_exact_proportion_is_named_before_one_that_only_rounds_to_the_value() -> None:
    """0.05 is exactly 2 of 40, and 2 of 38 rounded to two decimals."""
    statistics = DatasetStatistics(n_cases=40, values={"other": 38, "share": 0.05})
    [cell] = small_cells_in_statistics(statistics, K)
    assert (cell.path, cell.reason) == (
        "share",
        "0.05 is 2 of 40, a proportion of a count below 10",
    )
