"""Shift between sites: how each site's population differs from the other sites' pooled.

Pure functions over the preparation statistics of a benchmark's sites
(:class:`medval.core.documents.DatasetStatistics`). Each site is compared with the pooled
statistics of the OTHER sites (leave one out), variable by variable, read from the
statistics' shape and names:

- **categorical** (a mapping of category or bin -> count or frequency): the population
  stability index (PSI) and the Jensen-Shannon distance (base 2, from 0 to 1) between the
  site's shares and the others' pooled shares. The bins compared are those every site
  reporting the variable reports (a bin a site withheld, a small cell, is left out for
  all), the shares renormalised over them. The others are pooled by their counts (or, for
  frequencies, weighted by ``n_cases``). PSI takes the log of each bin's ratio: an empty
  bin's share is raised to :data:`PSI_FLOOR` first (in PSI only; not renormalised).
- **proportion** (a number between 0 and 1 at every site, not named ``mean_``/``sd_``;
  prevalence is one: the demo's ``event_rate``): the absolute difference ``p_site -
  p_others`` and Cohen's h, ``2 asin(sqrt p_site) - 2 asin(sqrt p_others)``; the others'
  proportion weighted by ``n_cases``.
- **mean** (``mean_X`` with ``sd_X``): the standardised mean difference ``(m_site -
  m_others) / sqrt((s_site^2 + s_others^2) / 2)``, the others' mean and SD those of the
  other sites' cases taken together (from each site's n, mean and SD).

Anything else (a mean without its SD, a number outside 0..1, a variable no other site
reports, a site without ``n_cases`` where weights are needed, a negative count, an SD of
0 everywhere) is not compared, and says why: every value reported is finite. A site is
flagged when any comparison reaches its measure's marked threshold (:data:`THRESHOLDS`,
each with its source). Imports numpy, scipy and core only.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.distance import jensenshannon

from medval.core.documents import DatasetStatistics, StatisticValue
from medval.core.proportions import is_count_like
from medval.core.shift_schemas import (
    ShiftBin,
    ShiftComparison,
    ShiftMeasure,
    ShiftThreshold,
    ShiftVariableKind,
)

K = TypeVar("K", bound=Hashable)

# An empty bin's share in PSI (whose log would be infinite), as is usual in credit-risk
# monitoring: a bin empty at one side and 30% at the other then adds about 2.4.
PSI_FLOOR = 1e-4

THRESHOLDS: dict[ShiftMeasure, ShiftThreshold] = {
    threshold.measure: threshold
    for threshold in (
        ShiftThreshold(
            measure=ShiftMeasure.PSI,
            marked=0.25,
            source="a major shift as commonly used in credit-risk model monitoring "
            "(< 0.1 none, 0.1-0.25 moderate, >= 0.25 major; Siddiqi, Credit Risk "
            "Scorecards, 2006)",
        ),
        ShiftThreshold(
            measure=ShiftMeasure.JENSEN_SHANNON,
            marked=None,
            source="reported beside PSI; it has no conventional threshold",
        ),
        ShiftThreshold(
            measure=ShiftMeasure.DIFFERENCE,
            marked=None,
            source="reported beside Cohen's h, which flags (a difference of 0.1 means more "
            "near 0 or 1 than near 0.5)",
        ),
        ShiftThreshold(
            measure=ShiftMeasure.COHENS_H,
            marked=0.5,
            source="a medium effect, |h| >= 0.5 (0.2 small, 0.8 large; Cohen, Statistical "
            "Power Analysis, 1988, ch. 6)",
        ),
        ShiftThreshold(
            measure=ShiftMeasure.SMD,
            marked=0.5,
            source="a medium effect, |d| >= 0.5 (0.2 small, 0.8 large; Cohen, Statistical "
            "Power Analysis, 1988, ch. 2)",
        ),
    )
}

_MEAN, _SD = "mean_", "sd_"


@dataclass(frozen=True)
class SiteShift(Generic[K]):
    """One site against the others pooled: what was compared and what was not (why)."""

    site: K
    n_reference_sites: int
    comparisons: list[ShiftComparison] = field(default_factory=list)
    not_compared: dict[str, str] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return any(c.flagged for c in self.comparisons)


# --- the measures -----------------------------------------------------------------------


def psi(site: ArrayLike, others: ArrayLike, floor: float = PSI_FLOOR) -> float:
    """Population stability index: sum over bins of (p - q) ln(p / q), shares floored."""
    p = np.maximum(np.asarray(site, dtype=float), floor)
    q = np.maximum(np.asarray(others, dtype=float), floor)
    return float(np.sum((p - q) * np.log(p / q)))


def jensen_shannon(site: ArrayLike, others: ArrayLike) -> float:
    """Jensen-Shannon distance, base 2 (0: the same distribution, 1: disjoint)."""
    return float(jensenshannon(np.asarray(site, float), np.asarray(others, float), base=2))


def cohens_h(p_site: float, p_others: float) -> float:
    return 2 * math.asin(math.sqrt(p_site)) - 2 * math.asin(math.sqrt(p_others))


def smd(mean_site: float, sd_site: float, mean_others: float, sd_others: float) -> float:
    """Standardised mean difference; 0 when both SDs are 0 and the means equal."""
    scale = math.sqrt((sd_site**2 + sd_others**2) / 2)
    difference = mean_site - mean_others
    if scale == 0:
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / scale


def pooled_mean_sd(groups: Sequence[tuple[int, float, float]]) -> tuple[float, float]:
    """Mean and SD (n - 1) of the groups' cases together, from each (n, mean, SD)."""
    total = sum(n for n, _, _ in groups)
    mean = sum(n * m for n, m, _ in groups) / total
    within = sum((n - 1) * s**2 for n, _, s in groups)
    between = sum(n * (m - mean) ** 2 for n, m, _ in groups)
    return mean, math.sqrt((within + between) / (total - 1)) if total > 1 else 0.0


def _comparison(
    variable: str, kind: ShiftVariableKind, measure: ShiftMeasure, value: float, **shown: object
) -> ShiftComparison:
    threshold = THRESHOLDS[measure].marked
    return ShiftComparison.model_validate(
        {
            "variable": variable,
            "kind": kind,
            "measure": measure,
            "value": value,
            "threshold": threshold,
            "flagged": threshold is not None and abs(value) >= threshold,
            **shown,
        }
    )


# --- the variables ----------------------------------------------------------------------


def _number(value: StatisticValue) -> float | None:
    return None if value is None or isinstance(value, dict) else float(value)


def _kinds(sites: Sequence[DatasetStatistics]) -> dict[str, ShiftVariableKind | str]:
    """Every variable any site reports: its kind, or why it cannot be compared."""
    kinds: dict[str, ShiftVariableKind | str] = {}
    names = dict.fromkeys(name for s in sites for name in s.values)
    for name in names:
        reported = [s.values[name] for s in sites if s.values.get(name) is not None]
        if name.startswith(_SD) and f"{_MEAN}{name.removeprefix(_SD)}" in names:
            continue  # read with its mean
        if all(isinstance(v, dict) for v in reported):
            kinds[name] = ShiftVariableKind.CATEGORICAL
        elif any(isinstance(v, dict) for v in reported):
            kinds[name] = "a mapping at some sites and a number at others"
        elif name.startswith(_MEAN):
            sd = f"{_SD}{name.removeprefix(_MEAN)}"
            kinds[name] = ShiftVariableKind.MEAN if sd in names else f"a mean without {sd}"
        elif name.startswith(_SD):
            kinds[name] = "a standard deviation without its mean"
        elif all(0 <= (_number(v) or 0) <= 1 for v in reported):
            kinds[name] = ShiftVariableKind.PROPORTION
        else:
            kinds[name] = "a number outside 0 to 1 that is not a mean with its SD"
    return kinds


def _bins(value: StatisticValue) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {k: float(v) for k, v in value.items() if v is not None}


def _categorical(
    name: str, site: DatasetStatistics, others: Sequence[DatasetStatistics], common: list[str]
) -> list[ShiftComparison] | str:
    def weighted(stats: DatasetStatistics) -> tuple[float, np.ndarray] | None:
        raw = stats.values[name]
        counts = _bins(raw)
        shares = np.array([counts[b] for b in common])
        total = float(shares.sum())
        if total <= 0:
            return None
        if isinstance(raw, dict) and all(is_count_like(v) for v in raw.values() if v is not None):
            return total, shares / total
        if stats.n_cases is None:
            return None
        return float(stats.n_cases), shares / total

    mine = weighted(site)
    if mine is None:
        return "the site's bins compared are all empty, or frequencies without n_cases"
    theirs = [w for s in others if (w := weighted(s)) is not None]
    if not theirs:
        return "no other site has counts (or frequencies with n_cases) in the bins compared"
    weight = sum(w for w, _ in theirs)
    pooled = sum((w * shares for w, shares in theirs), np.zeros(len(common))) / weight
    raw = site.values[name]
    counts = _bins(raw)
    count_like = isinstance(raw, dict) and all(is_count_like(raw[b] or 0) for b in common)
    bins = [
        ShiftBin(
            name=b,
            site_count=int(counts[b]) if count_like else None,
            site_share=float(mine[1][i]),
            others_share=float(pooled[i]),
        )
        for i, b in enumerate(common)
    ]
    kind = ShiftVariableKind.CATEGORICAL
    return [
        _comparison(name, kind, ShiftMeasure.PSI, psi(mine[1], pooled), bins=bins),
        _comparison(name, kind, ShiftMeasure.JENSEN_SHANNON, jensen_shannon(mine[1], pooled)),
    ]


def _proportion(
    name: str, site: DatasetStatistics, others: Sequence[DatasetStatistics]
) -> list[ShiftComparison] | str:
    p = _number(site.values[name])
    weighted = [(s.n_cases, _number(s.values[name])) for s in others if s.n_cases]
    weighted = [(n, q) for n, q in weighted if q is not None]
    if p is None or not weighted:
        return "no other site with n_cases reports it"
    q = sum(n * q for n, q in weighted if n is not None and q is not None) / sum(
        n for n, _ in weighted if n is not None
    )
    kind, shown = ShiftVariableKind.PROPORTION, {"site_value": p, "others_value": q}
    return [
        _comparison(name, kind, ShiftMeasure.DIFFERENCE, p - q, **shown),
        _comparison(name, kind, ShiftMeasure.COHENS_H, cohens_h(p, q), **shown),
    ]


def _mean(
    name: str, site: DatasetStatistics, others: Sequence[DatasetStatistics]
) -> list[ShiftComparison] | str:
    sd = f"{_SD}{name.removeprefix(_MEAN)}"

    def triple(stats: DatasetStatistics) -> tuple[int, float, float] | None:
        m, s = _number(stats.values.get(name)), _number(stats.values.get(sd))
        if m is None or s is None or s < 0 or not stats.n_cases:
            return None
        return stats.n_cases, m, s

    mine = triple(site)
    theirs = [t for s in others if (t := triple(s)) is not None]
    if mine is None:
        return f"the site reports no {sd} (at least 0) or no n_cases beside it"
    if not theirs:
        return f"no other site reports it with {sd} and n_cases"
    mean, deviation = pooled_mean_sd(theirs)
    value = smd(mine[1], mine[2], mean, deviation)
    if not math.isfinite(value):
        return "no spread to compare with: the SD is 0 at the site and at the others"
    shown = {"site_value": mine[1], "others_value": mean}
    return [_comparison(name, ShiftVariableKind.MEAN, ShiftMeasure.SMD, value, **shown)]


def _compare(
    name: str,
    kind: ShiftVariableKind,
    site: DatasetStatistics,
    reporting: Sequence[DatasetStatistics],
) -> list[ShiftComparison] | str:
    """The site's comparisons on one variable, or why there are none."""
    if not reporting:
        return "no other site reports it"
    if kind is ShiftVariableKind.PROPORTION:
        return _proportion(name, site, reporting)
    if kind is ShiftVariableKind.MEAN:
        return _mean(name, site, reporting)
    everyone = [_bins(s.values[name]) for s in (site, *reporting)]
    if any(v < 0 for bins in everyone for v in bins.values()):
        return "a negative count or frequency"
    common = [b for b in everyone[0] if all(b in bins for bins in everyone)]
    if len(common) < 2:
        return "fewer than two bins reported at every site"
    return _categorical(name, site, reporting, common)


def compare_sites(sites: Mapping[K, DatasetStatistics]) -> list[SiteShift[K]]:
    """Each site against the other sites pooled (see the module), in the mapping's order."""
    kinds = _kinds(list(sites.values()))
    found = []
    for key, site in sites.items():
        others = [s for k, s in sites.items() if k != key]
        shift = SiteShift(site=key, n_reference_sites=len(others))
        for name, kind in kinds.items():
            if site.values.get(name) is None:
                continue
            reporting = [s for s in others if s.values.get(name) is not None]
            compared = (
                _compare(name, kind, site, reporting)
                if isinstance(kind, ShiftVariableKind)
                else kind  # why it cannot be compared
            )
            if isinstance(compared, str):
                shift.not_compared[name] = compared
            else:
                shift.comparisons.extend(compared)
        found.append(shift)
    return found
