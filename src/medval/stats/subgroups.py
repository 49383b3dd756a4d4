"""The gap between a variable's subgroups: pure arithmetic on pooled estimates.

For one metric and one subgroup variable, each level's results have been pooled across
sites (:func:`medval.stats.pooling.pool_metric`). The **gap** is the largest pooled level
minus the smallest, in the metric's own units (an AUROC 0.08 lower in grade 3 than in
grade 1), with a 95% Wald interval::

    gap +- z * sqrt(se_largest² + se_smallest²)

Each level's standard error in the metric's units comes from its pooled 95% interval by
the delta method: the interval's width on the pooling scale (logit, log or none) over
2 x 1.96, times the slope of the back-transform at the estimate (``p(1 - p)`` on the
logit scale, ``r`` on the log scale, 1 otherwise). The levels hold different patients,
so the two estimates are treated as independent (they share sites, which this ignores).

The largest minus the smallest of several levels is biased away from zero (the extremes
are chosen after looking); the interval is for that pair as if chosen in advance. A level
without an interval (one site with none, or an unweighted mean) gives a gap without one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from medval.core.result_schemas import PooledMetric
from medval.stats.pooling import LOG, LOGIT, Scale
from medval.stats.random_effects import Z_95


@dataclass(frozen=True)
class SubgroupGap:
    """The largest pooled level minus the smallest, with its 95% interval (None: a level
    has no standard error)."""

    largest: str
    smallest: str
    difference: float
    lower: float | None
    upper: float | None


def _slope(value: float, scale: Scale) -> float:
    """d(back-transform)/dx at the estimate: how the pooling scale maps to the metric's."""
    if scale is LOGIT:
        return value * (1.0 - value)
    if scale is LOG:
        return value
    return 1.0


def standard_error(pooled: PooledMetric, scale: Scale) -> float | None:
    """The pooled estimate's standard error in the metric's units (the delta method), or
    None without a finite interval."""
    if pooled.lower is None or pooled.upper is None:
        return None
    low, high = scale.forward(pooled.lower), scale.forward(pooled.upper)
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return (high - low) / (2.0 * Z_95) * _slope(pooled.value, scale)


def subgroup_gap(levels: Mapping[str, PooledMetric], scale: Scale) -> SubgroupGap | None:
    """The gap between the levels' pooled values (see the module); None under two levels.
    Ties go to the level named first."""
    if len(levels) < 2:
        return None
    names = list(levels)
    largest = max(names, key=lambda name: levels[name].value)
    smallest = min(names, key=lambda name: levels[name].value)
    if largest == smallest:  # every level equal: the first and the last named
        largest, smallest = names[0], names[-1]
    difference = levels[largest].value - levels[smallest].value
    errors = [standard_error(levels[name], scale) for name in (largest, smallest)]
    if any(e is None for e in errors):
        return SubgroupGap(largest, smallest, difference, None, None)
    half = Z_95 * math.sqrt(math.fsum(e * e for e in errors if e is not None))
    return SubgroupGap(largest, smallest, difference, difference - half, difference + half)
