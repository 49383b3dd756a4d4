"""The shift between a benchmark's sites in the HTTP API: how each site's population (its
preparation statistics) differs from the other sites' pooled, by which measure, against
which stated threshold. Computed by :mod:`medval.stats.shift`, released by
:mod:`medval.server.services.shift`. Imports pydantic and core only.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from medval.core.schema_types import Id
from medval.core.schema_types import Schema as _Schema
from medval.core.states import ReleasePolicy


class ShiftMeasure(StrEnum):
    """How a site's variable is compared with the other sites' pooled."""

    PSI = "psi"  # population stability index over the variable's bins
    JENSEN_SHANNON = "jensen_shannon"  # Jensen-Shannon distance (base 2: 0 to 1)
    DIFFERENCE = "difference"  # a proportion's absolute (not relative) difference, site - others
    COHENS_H = "cohens_h"  # 2 asin(sqrt p_site) - 2 asin(sqrt p_others)
    SMD = "smd"  # standardised mean difference (pooled SD of the two)


class ShiftVariableKind(StrEnum):
    """What kind of statistic a variable is, read from its shape and name."""

    CATEGORICAL = "categorical"  # a mapping of category or bin -> count or frequency
    PROPORTION = "proportion"  # a number between 0 and 1 at every site
    MEAN = "mean"  # mean_X with its sd_X


class ShiftThreshold(_Schema):
    """A measure's threshold of a marked shift, and where it comes from."""

    measure: ShiftMeasure
    marked: float | None  # None: reported, never flags (no conventional threshold)
    source: str


class ShiftBin(_Schema):
    """One bin of a categorical variable: the site's count (None where it is a small cell)
    and share, the other sites' pooled share; shares over the bins compared."""

    name: str
    site_count: int | None
    site_share: float | None
    others_share: float


class ShiftComparison(_Schema):
    variable: str
    kind: ShiftVariableKind
    measure: ShiftMeasure
    value: float
    threshold: float | None  # the marked threshold; None: this measure never flags
    flagged: bool  # |value| >= threshold
    site_value: float | None = None  # a proportion or a mean, at the site
    others_value: float | None = None  # the same, the other sites pooled
    bins: list[ShiftBin] = Field(default_factory=list)  # categorical: the bins compared


class SiteShiftPublic(_Schema):
    dataset_id: Id
    dataset: str
    n_cases: int | None  # None: not reported, or a small cell
    n_reference_sites: int  # the other sites pooled into the reference
    flagged: bool  # any comparison crosses its marked threshold
    comparisons: list[ShiftComparison] = Field(default_factory=list)
    # Variables the site reports that were not compared, each with why.
    not_compared: dict[str, str] = Field(default_factory=dict)
    # Why no comparison is shown (None: shown).
    withheld: str | None = None


class BenchmarkShiftPublic(_Schema):
    benchmark_id: Id
    benchmark: str
    release_policy: ReleasePolicy
    min_cell_count: int
    n_sites: int  # the benchmark's approved datasets, all of them in every reference
    thresholds: list[ShiftThreshold]
    # The sites the caller may see (the others are left out, as on the leaderboard).
    sites: list[SiteShiftPublic]
