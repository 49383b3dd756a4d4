"""A forest plot's geometry: estimates with their 95% intervals laid out on a shared axis.
Two plots are drawn from it: each model's pooled value on one metric (the leaderboard's),
and one model's sites on one metric with the pooled value below them (the report's).
Pure (no drawing): a template draws it as SVG, escaped like any other text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medval.core.result_schemas import LeaderboardEntry, LeaderboardPublic

WIDTH = 640
ROW = 28
LEFT = 200  # room for the rows' names
RIGHT = 24
TOP = 12
AXIS = 40  # room for the axis and its labels below the rows


@dataclass(frozen=True)
class ForestRow:
    model: str  # the row's name: a model, a site, or "pooled"
    label: str  # the value and interval as text
    y: float
    x: float
    x_low: float | None
    x_high: float | None
    pooled: bool = False  # drawn as a diamond: the pooled estimate under its sites


@dataclass(frozen=True)
class ForestPlot:
    metric: str  # the metric's declared label
    rows: list[ForestRow]
    ticks: list[tuple[float, str]]  # x, label
    height: int
    width: int = WIDTH
    left: int = LEFT
    right: int = WIDTH - RIGHT


@dataclass(frozen=True)
class Point:
    """One row before layout: an estimate and its interval (None where absent)."""

    name: str
    value: float
    lower: float | None
    upper: float | None
    pooled: bool = False


def forest_plot(board: LeaderboardPublic, metric: str | None = None) -> ForestPlot | None:
    """Each released model's pooled ``metric`` (the board's primary by default), in the
    board's order; None when no model has a pooled value."""
    metric = metric or board.primary_metric
    if metric is None:
        return None
    points = [
        Point(entry.model, p.value, p.lower, p.upper)
        for entry in board.entries
        if entry.withheld is None and (p := entry.pooled.get(metric)) is not None
    ]
    return layout(board.label(metric), points)


def sites_plot(board: LeaderboardPublic, entry: LeaderboardEntry, metric: str) -> ForestPlot | None:
    """One model's sites on ``metric`` (those with a value), then its pooled value; None
    when no site of it is released with a value."""
    points = []
    for site in entry.sites:
        found = site.metrics.get(metric)
        if found is not None and found.value is not None:
            points.append(Point(site.dataset, found.value, found.lower, found.upper))
    pooled = entry.pooled.get(metric)
    if not points:
        return None
    if pooled is not None:
        points.append(Point("pooled", pooled.value, pooled.lower, pooled.upper, pooled=True))
    return layout(board.label(metric), points)


def layout(title: str, points: Sequence[Point]) -> ForestPlot | None:
    """The rows on one axis that holds every value and interval, with five ticks."""
    if not points:
        return None
    values = [p.value for p in points]
    values += [v for p in points for v in (p.lower, p.upper) if v is not None]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.05, high + 0.05
    margin = (high - low) * 0.05
    low, high = low - margin, high + margin

    def x_of(value: float) -> float:
        return LEFT + (value - low) / (high - low) * (WIDTH - RIGHT - LEFT)

    rows = []
    for index, point in enumerate(points):
        interval = (
            f" ({point.lower:.3f} to {point.upper:.3f})"
            if point.lower is not None and point.upper is not None
            else ""
        )
        rows.append(
            ForestRow(
                model=point.name,
                label=f"{point.value:.3f}{interval}",
                y=TOP + ROW * index + ROW / 2,
                x=x_of(point.value),
                x_low=None if point.lower is None else x_of(point.lower),
                x_high=None if point.upper is None else x_of(point.upper),
                pooled=point.pooled,
            )
        )
    marks = [low + (high - low) * k / 4 for k in range(5)]
    ticks = [(x_of(mark), f"{mark:.2f}") for mark in marks]
    return ForestPlot(title, rows, ticks, height=TOP + ROW * len(rows) + AXIS)
