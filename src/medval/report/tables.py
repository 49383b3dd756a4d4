"""The report's figures as flat tables, one row per number (the CSV files), each row
carrying what it is a figure of: the model, the site, the metric, how it was pooled."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from medval.core.result_schemas import PooledMetric
from medval.report.evidence import Evidence

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class Table:
    file_name: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


FILE_NAMES = ("leaderboard.csv", "sites.csv", "subgroups.csv", "subgroup_gaps.csv", "shift.csv")


def tables(evidence: Evidence) -> list[Table]:
    """Every table of the report, in the order the page shows them."""
    return [
        _leaderboard(evidence),
        _sites(evidence),
        _subgroups(evidence),
        _gaps(evidence),
        _shift(evidence),
    ]


POOLED = (
    "value", "lower", "upper", "i_squared", "pooling_model", "tau_squared_method",
    "interval_method", "prediction_lower", "prediction_upper",
)  # fmt: skip


def _pooled(p: PooledMetric | None) -> tuple[Cell, ...]:
    if p is None:
        return (None,) * len(POOLED)
    how = (_name(p.model), _name(p.tau_squared_method), _name(p.interval_method))
    return (p.value, p.lower, p.upper, p.i_squared, *how, p.prediction_lower, p.prediction_upper)


def _name(value: Enum | None) -> str | None:
    return None if value is None else str(value.value)


def _leaderboard(evidence: Evidence) -> Table:
    board = evidence.leaderboard
    rows: list[tuple[Cell, ...]] = []
    for entry in board.entries:
        ranked = (entry.rank, entry.rank_lower, entry.rank_upper, entry.tied, entry.p_first)
        counts = (entry.n_sites, entry.n_cases)
        model = (entry.model_id, entry.model, entry.model_owner, *ranked, *counts)
        shown = [name for name in board.metrics if name in entry.pooled]
        if entry.withheld is not None or not shown:
            rows.append((*model, None, None, *_pooled(None), entry.withheld))
        for name in shown if entry.withheld is None else []:
            rows.append((*model, name, board.label(name), *_pooled(entry.pooled[name]), None))
    columns = (
        "model_id", "model", "model_owner", "rank", "rank_lower", "rank_upper", "tied",
        "p_first", "n_sites", "n_cases", "metric", "label", *POOLED, "withheld",
    )  # fmt: skip
    return Table("leaderboard.csv", columns, rows)


def _sites(evidence: Evidence) -> Table:
    board = evidence.leaderboard
    rows: list[tuple[Cell, ...]] = []
    for entry in board.entries:
        for site in entry.sites:
            for name in board.metrics:
                found = site.metrics.get(name)
                if found is None:
                    continue
                place = (entry.model_id, entry.model, site.dataset_id, site.dataset, site.n_cases)
                rows.append((*place, name, found.value, found.lower, found.upper))
    columns = (
        "model_id", "model", "dataset_id", "site", "n_cases", "metric", "value", "lower", "upper",
    )  # fmt: skip
    return Table("sites.csv", columns, rows)


def _subgroups(evidence: Evidence) -> Table:
    found = evidence.subgroups
    rows: list[tuple[Cell, ...]] = []
    for model in found.models:
        if model.withheld is not None:
            whole = (model.model_id, model.model, None, None, model.n_sites)
            rows.append((*whole, None, None, *_pooled(None), model.withheld))
        for variable in model.variables:
            for level in variable.levels:
                where = (model.model_id, model.model, variable.name, level.level, level.n_sites)
                if level.withheld is not None or not level.pooled:
                    rows.append((*where, level.n_cases, None, *_pooled(None), level.withheld))
                for name in found.metrics:
                    if name in level.pooled and level.withheld is None:
                        pooled = _pooled(level.pooled[name])
                        rows.append((*where, level.n_cases, name, *pooled, None))
    columns = (
        "model_id", "model", "variable", "level", "n_sites", "n_cases", "metric", *POOLED,
        "withheld",
    )  # fmt: skip
    return Table("subgroups.csv", columns, rows)


def _gaps(evidence: Evidence) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for model in evidence.subgroups.models:
        for variable in model.variables:
            for gap in variable.gaps:
                where = (model.model_id, model.model, variable.name, gap.metric)
                rows.append(
                    (*where, gap.largest, gap.smallest, gap.difference, gap.lower, gap.upper)
                )
    columns = (
        "model_id", "model", "variable", "metric", "largest", "smallest", "difference", "lower",
        "upper",
    )  # fmt: skip
    return Table("subgroup_gaps.csv", columns, rows)


def _shift(evidence: Evidence) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for site in evidence.shift.sites:
        where = (site.dataset_id, site.dataset, site.n_cases, site.n_reference_sites)
        if site.withheld is not None or not site.comparisons:
            rows.append((*where, site.flagged, None, None, None, None, None, None, None, None,
                         site.withheld))  # fmt: skip
        for c in site.comparisons:
            measured = (c.variable, c.kind.value, c.measure.value, c.value, c.threshold)
            rows.append((*where, site.flagged, *measured, c.flagged, c.site_value,
                         c.others_value, None))  # fmt: skip
    columns = (
        "dataset_id", "site", "n_cases", "n_reference_sites", "site_flagged", "variable", "kind",
        "measure", "value", "threshold", "flagged", "site_value", "others_value", "withheld",
    )  # fmt: skip
    return Table("shift.csv", columns, rows)
