"""The rows ``--format csv`` gives for documents that are not a list of records.

- a leaderboard: one row per model; each pooled metric as ``NAME``, ``NAME lower``,
  ``NAME upper`` (and ``NAME details``: heterogeneity, pooling); its sites as JSON;
- a shift report: one row per site and compared variable (a site with none: one row);
- subgroups: one row per model, variable and level, each metric as for the leaderboard
  (the gaps between levels: ``--format json``);
- results (released, or computed here): one row per result, its document's counts and
  each metric as for the leaderboard, its subgroups as JSON;
- a training experiment's rounds: one row per round, aggregated (no dataset) and then
  per site.

Every other command's CSV is its records, every field (:mod:`medval.cli.csv_output`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from medval.cli.csv_output import metric_cells

if TYPE_CHECKING:
    from pydantic import BaseModel

    from medval.core.result_schemas import LeaderboardPublic
    from medval.core.shift_schemas import BenchmarkShiftPublic
    from medval.core.subgroup_schemas import BenchmarkSubgroupsPublic
    from medval.core.training_schemas import RoundMetricsPublic, SiteRoundMetricsPublic

Rows = list[dict[str, Any]]


def leaderboard_rows(board: LeaderboardPublic) -> Rows:
    rows = []
    for entry in board.entries:
        row = entry.model_dump(mode="json", exclude={"pooled", "sites"})
        pooled = entry.model_dump(mode="json")["pooled"]
        for name in board.metrics:
            row |= metric_cells(name, pooled.get(name))
        row["sites"] = [site.model_dump(mode="json") for site in entry.sites]
        rows.append(row)
    return rows


def result_rows(results: Sequence[BaseModel]) -> Rows:
    """Released results (``ResultPublic``) or local ones (``LocalResult``): their fields,
    the document's ``n_cases`` and ``n_positive``, then every metric any of them reports."""
    dumped = [result.model_dump(mode="json") for result in results]
    documents = [row.pop("document", None) or {} for row in dumped]
    names = list(dict.fromkeys(name for d in documents for name in d.get("metrics", {})))
    rows = []
    for row, document in zip(dumped, documents, strict=True):
        row |= {"n_cases": document.get("n_cases"), "n_positive": document.get("n_positive")}
        for name in names:
            row |= metric_cells(name, document.get("metrics", {}).get(name))
        row["subgroups"] = document.get("subgroups")
        rows.append(row)
    return rows


def shift_rows(shift: BenchmarkShiftPublic) -> Rows:
    rows = []
    for site in shift.sites:
        about = site.model_dump(mode="json", exclude={"comparisons", "flagged"})
        about["site flagged"] = site.flagged
        comparisons = [c.model_dump(mode="json") for c in site.comparisons] or [{}]
        rows += [{**about, **comparison} for comparison in comparisons]
    return rows


def subgroup_rows(found: BenchmarkSubgroupsPublic) -> Rows:
    rows: Rows = []
    for model in found.models:
        who = {"model_id": model.model_id, "model": model.model}
        if model.withheld:
            rows.append({**who, "n_sites": model.n_sites, "withheld": model.withheld})
        for variable in model.variables:
            for level in variable.levels:
                row: dict[str, Any] = {
                    **who,
                    "variable": variable.name,
                    "label": variable.label,
                    "level": level.level,
                    "n_sites": level.n_sites,
                    "n_cases": level.n_cases,
                    "withheld": level.withheld,
                }
                pooled = level.model_dump(mode="json")["pooled"]
                for name in found.metrics:
                    row |= metric_cells(name, pooled.get(name))
                rows.append(row)
    return rows


def round_rows(
    aggregated: Sequence[RoundMetricsPublic], per_site: Sequence[SiteRoundMetricsPublic]
) -> Rows:
    rows: Rows = []
    for found in [*aggregated, *per_site]:
        row = found.model_dump(mode="json", exclude={"metrics"})
        row.setdefault("dataset_id", None)
        row.setdefault("dataset", None)
        rows.append(row | found.model_dump(mode="json")["metrics"])
    return rows
