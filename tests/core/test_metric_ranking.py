"""The leaderboard's ranking metric and direction come from what the evaluator reports."""

from __future__ import annotations

import pytest

from medval.core.metric_ranking import higher_is_better, primary_metric


def test_auroc_ranks_when_the_evaluator_reports_it() -> None:
    assert primary_metric(["brier", "auroc", "sensitivity"]) == "auroc"


def test_otherwise_the_evaluators_first_metric_ranks() -> None:
    assert primary_metric(["dice_et", "dice_wt", "hausdorff95_et"]) == "dice_et"


def test_no_metric_no_ranking() -> None:
    assert primary_metric([]) is None


@pytest.mark.parametrize(
    ("name", "higher"),
    [
        ("auroc", True),
        ("dice_et", True),
        ("accuracy", True),
        ("brier", False),
        ("hd95", False),
        ("hausdorff95_et", False),
        ("log_loss", False),
        ("mean_absolute_error", False),
        ("surface_distance_mm", False),
        ("lossless_ratio", True),
        ("rmse", False),
    ],
)
def test_errors_and_distances_rank_lower_first(name: str, higher: bool) -> None:
    assert higher_is_better(name) is higher
