"""The forest plot's geometry: each released model on one axis, ordered as ranked."""

from __future__ import annotations

from medval.core.result_schemas import LeaderboardEntry, LeaderboardPublic, PooledMetric
from medval.core.states import ReleasePolicy
from medval.report.forest_plot import LEFT, WIDTH, forest_plot


def _entry(model: str, value: float, lower: float | None, upper: float | None) -> LeaderboardEntry:
    pooled = PooledMetric(value=value, lower=lower, upper=upper, n_sites=2, i_squared=0.1)
    return LeaderboardEntry(
        model_id=1, model=model, model_owner="v", n_sites=2, n_cases=100, pooled={"auroc": pooled}
    )


def _board(*entries: LeaderboardEntry, primary: str | None = "auroc") -> LeaderboardPublic:
    return LeaderboardPublic(
        benchmark_id=1,
        benchmark="b",
        release_policy=ReleasePolicy.PUBLIC,
        metrics=["auroc"] if primary else [],
        primary_metric=primary,
        higher_is_better=True,
        entries=list(entries),
    )


def test_each_model_sits_on_one_axis_with_its_interval() -> None:
    plot = forest_plot(_board(_entry("a", 0.86, 0.80, 0.90), _entry("b", 0.72, 0.65, None)))
    assert plot is not None and plot.metric == "auroc"
    first, second = plot.rows
    assert (first.model, first.label) == ("a", "0.860 (0.800 to 0.900)")
    assert (second.label, second.x_high) == ("0.720", None)
    assert first.y < second.y  # in the board's order
    assert LEFT <= second.x_low < second.x < first.x_low < first.x < first.x_high <= WIDTH
    xs = [x for x, _ in plot.ticks]
    assert xs == sorted(xs) and (xs[0], xs[-1]) == (LEFT, plot.right)
    assert float(plot.ticks[0][1]) < 0.65 and float(plot.ticks[-1][1]) > 0.90  # all in view


def test_nothing_to_plot_is_no_plot() -> None:
    assert forest_plot(_board(primary=None)) is None
    withheld = _entry("a", 0.8, 0.7, 0.9).model_copy(update={"withheld": "fewer than 3 sites"})
    assert forest_plot(_board(withheld)) is None
    one = forest_plot(_board(_entry("a", 0.8, None, None)))
    assert one is not None and one.rows[0].x_low is None


def test_a_models_sites_sit_above_its_pooled_diamond() -> None:
    from medval.core.documents import MetricValue
    from medval.core.result_schemas import LeaderboardSite
    from medval.report.forest_plot import sites_plot

    entry = _entry("a", 0.80, 0.70, 0.88)
    entry.sites = [
        LeaderboardSite(
            dataset_id=i,
            dataset=name,
            n_cases=50,
            metrics={"auroc": MetricValue(value=value, lower=value - 0.1, upper=value + 0.05)},
        )
        for i, (name, value) in enumerate((("x", 0.75), ("y", None), ("z", 0.85)), start=1)
        if value is not None
    ] + [LeaderboardSite(dataset_id=9, dataset="w", n_cases=5, metrics={})]
    plot = sites_plot(_board(entry), entry, "auroc")
    assert plot is not None
    assert [(r.model, r.pooled) for r in plot.rows] == [
        ("x", False),
        ("z", False),
        ("pooled", True),
    ]
    assert plot.rows[2].label == "0.800 (0.700 to 0.880)"
    assert sites_plot(_board(entry), entry, "brier") is None  # no site reports it
