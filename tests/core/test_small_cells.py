"""medval withholds small cells itself, whatever the cube computed (core.small_cells)."""

from __future__ import annotations

import pytest

from medval.core.documents import DatasetStatistics, MetricValue, ResultDocument
from medval.core.small_cells import suppress_result, suppress_statistics

K = 5


def test_a_small_count_is_withheld_and_named_other_values_stay() -> None:
    statistics = DatasetStatistics(
        n_cases=120,
        values={"rare_events": 3, "no_events": 0, "mean_age": 61.5, "big": 117, "ratio": 0.025},
    )
    kept, withheld = suppress_statistics(statistics, K)
    assert kept.values == {"no_events": 0, "mean_age": 61.5, "big": 117, "ratio": 0.025}
    assert [(w.path, w.reason) for w in withheld] == [
        ("rare_events", "a count below 5 (a small cell); medval withholds it")
    ]
    assert kept.n_cases == 120


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


def test_fewer_cases_than_k_sends_the_number_of_cases_only() -> None:
    statistics = DatasetStatistics(n_cases=4, values={"mean_age": 50.0, "events": 2})
    kept, withheld = suppress_statistics(statistics, K)
    assert (kept.n_cases, kept.values) == (4, {})
    assert [w.path for w in withheld] == ["mean_age", "events"]
    assert "fewer than 5 cases" in withheld[0].reason


@pytest.mark.parametrize(
    ("n_cases", "n_positive", "withheld"),
    [(100, 3, True), (100, 97, True), (100, 0, False), (100, 50, False), (None, 2, True)],
)
def test_a_results_small_positive_count_is_withheld_its_metrics_stay(
    n_cases: int | None, n_positive: int, withheld: bool
) -> None:
    result = ResultDocument(
        n_cases=n_cases, n_positive=n_positive, metrics={"auroc": MetricValue(value=0.7)}
    )
    kept, named = suppress_result(result, K)
    assert kept.metrics == result.metrics and kept.n_cases == n_cases
    assert (kept.n_positive is None) == withheld
    assert [w.path for w in named] == (["n_positive"] if withheld else [])


def test_k_of_one_withholds_nothing() -> None:
    statistics = DatasetStatistics(n_cases=3, values={"events": 1})
    assert suppress_statistics(statistics, 1) == (statistics, [])


def test_counts_flattened_out_of_one_mapping_are_one_group() -> None:
    """A free-form file's ``age_band: {...}`` arrives as three top-level statistics."""
    statistics = DatasetStatistics(
        n_cases=406,
        values={"age_band_under_40": 47, "age_band_40_to_74": 355, "age_band_75_and_over": 4},
    )
    groups = dict.fromkeys(statistics.values, "age_band")
    kept, withheld = suppress_statistics(statistics, K, groups)
    assert kept.values == {"age_band_40_to_74": 355}
    assert [w.path for w in withheld] == ["age_band_under_40", "age_band_75_and_over"]
    # Without the group, the small one alone would go, and be the total minus the others.
    alone, _ = suppress_statistics(statistics, K)
    assert list(alone.values) == ["age_band_under_40", "age_band_40_to_74"]
