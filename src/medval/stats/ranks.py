"""Rank intervals and ties on the leaderboard.

Method (parametric resampling of the pooled estimates). Each model's pooled value of the
ranking metric is taken to the metric's pooling scale (:func:`medval.stats.pooling.scale_for`,
the declared scale where the benchmark declares the metric)
with a standard error read off its pooled 95% interval, ``(upper - lower) / (2 * 1.96)``.
That interval is the random-effects one (Hartung-Knapp under ten sites), so it already
carries the between-site heterogeneity; the sites' own estimates are not resampled again.
In each of ``REPLICATES`` replicates every model's value is drawn from N(estimate, se²),
independently across models (their sites are disjoint evaluations), and the models are
ranked (1 = best; ``higher_is_better`` says which way). A model's rank interval is the
2.5th and 97.5th percentiles of its ranks; ``p_first`` is the share of replicates in
which it ranked first. The generator is seeded (``SEED``), so a page is reproducible.

Tie rule. Models are taken in order of their point estimate (best first; equal estimates
by their position in the input). The first model opens tier 1. Each next model is
compared with the first model of the current tier: if that leader ranked above it in at
least ``DISTINCT`` (95%) of the replicates, it opens a new tier; otherwise it joins the
current tier. Every model in a tier shows the tier's rank, the position (1-based) of its
first model ("competition" ranking: 1=, 1=, 3), and ``tied`` is True in a tier of two or
more. The rule is deterministic (fixed seed, fixed order) and each tier is contiguous in
the estimate order.

A model without a pooled value, or with a value but no interval (e.g. one site with no usable
SE), is left out of the ranking: no rank, no interval (all None), and it does not count in
the others' ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medval.core.declarations import MetricDeclaration
from medval.core.result_schemas import rank_text
from medval.stats.pooling import scale_for

REPLICATES = 4000  # resamples per leaderboard; rank percentiles settle to about +-1 rank
SEED = 20241  # fixed, so the same results give the same page
DISTINCT = 0.95  # share of replicates a tier's leader must rank above a model to split
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """One model's pooled value and 95% interval (natural scale); None where absent."""

    value: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class RankInfo:
    rank: int | None  # displayed rank, shared within a tier
    rank_lower: int | None
    rank_upper: int | None
    tied: bool
    p_first: float | None


NO_RANK = RankInfo(None, None, None, False, None)


def _on_scale(
    metric: str, estimate: Estimate, declared: MetricDeclaration | None
) -> tuple[float, float] | None:
    if estimate.value is None or estimate.lower is None or estimate.upper is None:
        return None
    scale = scale_for(metric, declared)
    try:
        centre = scale.forward(estimate.value)
        low, high = scale.forward(estimate.lower), scale.forward(estimate.upper)
    except (ValueError, OverflowError):
        return None
    values = np.array([centre, low, high])
    if not np.all(np.isfinite(values)):
        return None
    return float(centre), max(float(high - low), 0.0) / (2.0 * Z_95)


def rank_models(
    metric: str,
    estimates: Sequence[Estimate],
    higher_is_better: bool,
    replicates: int = REPLICATES,
    seed: int = SEED,
    declared: MetricDeclaration | None = None,
) -> list[RankInfo]:
    """Rank intervals and tiers for ``estimates`` (one per model, in any order);
    ``declared``: the metric as the benchmark declares it (its scale)."""
    points = [_on_scale(metric, e, declared) for e in estimates]
    index = [i for i, p in enumerate(points) if p is not None]
    out = [NO_RANK] * len(estimates)
    if not index:
        return out
    centre = np.array([points[i][0] for i in index])  # type: ignore[index]
    se = np.array([points[i][1] for i in index])  # type: ignore[index]
    sign = -1.0 if higher_is_better else 1.0  # smaller key ranks better
    rng = np.random.default_rng(seed)
    draws = sign * (centre + se * rng.standard_normal((replicates, len(index))))
    # Rank 1 = best; ties within a replicate (se 0, equal estimates) share the lower rank.
    ranks = (draws[:, None, :] < draws[:, :, None]).sum(axis=2) + 1
    lower = np.percentile(ranks, 2.5, axis=0, method="lower")
    upper = np.percentile(ranks, 97.5, axis=0, method="higher")
    p_first = (ranks == 1).mean(axis=0)
    order = sorted(range(len(index)), key=lambda k: (sign * centre[k], k))
    tier_of: dict[int, int] = {}
    tier_size: dict[int, int] = {}
    leader = order[0]
    for position, k in enumerate(order, start=1):
        if k != leader and np.mean(draws[:, leader] < draws[:, k]) >= DISTINCT:
            leader = k
        if k == leader:
            tier_of[k] = position
        else:
            tier_of[k] = tier_of[leader]
        tier_size[tier_of[k]] = tier_size.get(tier_of[k], 0) + 1
    for k, i in enumerate(index):
        out[i] = RankInfo(
            rank=tier_of[k],
            rank_lower=int(lower[k]),
            rank_upper=int(upper[k]),
            tied=tier_size[tier_of[k]] > 1,
            p_first=float(p_first[k]),
        )
    return out


def rank_label(info: RankInfo) -> str:
    """``1=`` for a tied rank, ``3`` otherwise, with the interval: ``1= (1-3)``; empty
    where there is no rank."""
    return rank_text(info.rank, info.tied, info.rank_lower, info.rank_upper)
