"""A forest plot's geometry: each model's pooled value and interval on one metric, laid out
on a shared axis. Pure (no drawing): the page's template draws it as SVG, escaped like
any other text.
"""

from __future__ import annotations

from dataclasses import dataclass

from medval.core.result_schemas import LeaderboardPublic

WIDTH = 640
ROW = 28
LEFT = 200  # room for the models' names
RIGHT = 24
TOP = 12
AXIS = 40  # room for the axis and its labels below the rows


@dataclass(frozen=True)
class ForestRow:
    model: str
    label: str  # the value and interval as text
    y: float
    x: float
    x_low: float | None
    x_high: float | None


@dataclass(frozen=True)
class ForestPlot:
    metric: str  # the primary metric's declared label
    rows: list[ForestRow]
    ticks: list[tuple[float, str]]  # x, label
    height: int
    width: int = WIDTH
    left: int = LEFT
    right: int = WIDTH - RIGHT


def forest_plot(board: LeaderboardPublic) -> ForestPlot | None:
    """The plot of the board's primary metric, or None when no model has a pooled value."""
    metric = board.primary_metric
    if metric is None:
        return None
    points = [
        (entry.model, entry.pooled[metric])
        for entry in board.entries
        if metric in entry.pooled and entry.withheld is None
    ]
    if not points:
        return None
    values = [p.value for _, p in points]
    values += [v for _, p in points for v in (p.lower, p.upper) if v is not None]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.05, high + 0.05
    margin = (high - low) * 0.05
    low, high = low - margin, high + margin

    def x_of(value: float) -> float:
        return LEFT + (value - low) / (high - low) * (WIDTH - RIGHT - LEFT)

    rows = []
    for index, (model, pooled) in enumerate(points):
        interval = (
            f" ({pooled.lower:.3f} to {pooled.upper:.3f})"
            if pooled.lower is not None and pooled.upper is not None
            else ""
        )
        rows.append(
            ForestRow(
                model=model,
                label=f"{pooled.value:.3f}{interval}",
                y=TOP + ROW * index + ROW / 2,
                x=x_of(pooled.value),
                x_low=None if pooled.lower is None else x_of(pooled.lower),
                x_high=None if pooled.upper is None else x_of(pooled.upper),
            )
        )
    marks = [low + (high - low) * k / 4 for k in range(5)]
    ticks = [(x_of(mark), f"{mark:.2f}") for mark in marks]
    return ForestPlot(board.label(metric), rows, ticks, height=TOP + ROW * len(rows) + AXIS)
