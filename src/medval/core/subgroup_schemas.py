"""A benchmark's results by subgroup in the HTTP API: each declared variable's levels
pooled across sites per model, and the gap between the levels. Computed by
:mod:`medval.stats.subgroups`, released by :mod:`medval.server.services.subgroups`.
Imports pydantic and core only.
"""

from __future__ import annotations

from medval.core.declarations import SubgroupDeclaration
from medval.core.result_schemas import PooledMetric
from medval.core.schema_types import Id
from medval.core.schema_types import Schema as _Schema
from medval.core.states import ReleasePolicy


class SubgroupLevelPublic(_Schema):
    """One level of a variable for one model, pooled across the sites that report it."""

    level: str
    n_sites: int  # the sites whose results report this level (not withheld there)
    n_cases: int | None  # summed over those sites; None while withheld
    pooled: dict[str, PooledMetric]  # by metric; empty while withheld
    withheld: str | None = None  # why no pooled figure is shown


class SubgroupGapPublic(_Schema):
    """For one metric: the largest pooled level minus the smallest (stats.subgroups)."""

    metric: str
    largest: str
    smallest: str
    difference: float
    lower: float | None  # the 95% interval; None: a level has no standard error
    upper: float | None


class SubgroupVariablePublic(_Schema):
    name: str
    label: str
    levels: list[SubgroupLevelPublic]
    gaps: list[SubgroupGapPublic]  # one per metric pooled in two levels or more


class SubgroupModelPublic(_Schema):
    model_id: Id
    model: str
    n_sites: int  # the sites with a succeeded result
    variables: list[SubgroupVariablePublic]  # empty while withheld
    withheld: str | None = None


class BenchmarkSubgroupsPublic(_Schema):
    benchmark_id: Id
    benchmark: str
    release_policy: ReleasePolicy
    min_cell_count: int
    min_sites: int
    metrics: list[str]  # in the order shown: the declared ones, else the evaluator's
    declared: list[SubgroupDeclaration]
    models: list[SubgroupModelPublic]
    # The phase whose results these are (core.phases); None: from before phases.
    phase: str | None = None
