"""What a benchmark declares about its evidence: its metrics and its subgroup variables.

A benchmark committee says which metrics count, what each is called on every face, which
way is better, on which scale it is pooled across sites, and which one ranks the
leaderboard. It may also name subgroup variables (age band, sex, tumour grade...) whose
levels the evaluator reports metrics for. The evaluator's documents are checked against
the declaration; the faces (CLI tables, JSON, reports, web pages) show exactly the
declared metrics, in the declared order.

A benchmark registered before declarations existed has none: its leaderboard falls back
to what the evaluator reports (:func:`inferred_metrics`), as it always did.

Plain pydantic, no framework: ``core`` imports nothing above it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from medval.core.documents import MetricName, no_nul
from medval.core.subgroup_names import (
    MAX_SUBGROUP_LEVELS,
    MAX_SUBGROUP_VARIABLES,
    LevelName,
    VariableName,
)

MAX_DECLARED_METRICS = 32

Label = Annotated[str, StringConstraints(min_length=1, max_length=80), AfterValidator(no_nul)]


class MetricDirection(StrEnum):
    """Which value of a metric is the better one."""

    HIGHER = "higher"
    LOWER = "lower"


class MetricScale(StrEnum):
    """The scale a metric is pooled on across sites (then back-transformed)."""

    # A proportion or probability in [0, 1] (AUROC, sensitivity, accuracy): logit.
    PROPORTION = "proportion"
    # A positive ratio (observed:expected, odds ratio, hazard ratio): log.
    RATIO = "ratio"
    # Anything else (Brier score, calibration slope, a mean difference): as it is.
    LINEAR = "linear"


class CountDenominator(StrEnum):
    """Which of a site's counts a proportion is a proportion of: where the document
    carries that count, the sites' counts are pooled (binomial-normal), not intervals."""

    CASES = "cases"  # accuracy: of all cases
    POSITIVES = "positives"  # sensitivity: of the positive cases
    NEGATIVES = "negatives"  # specificity: of the negative cases


class MetricDeclaration(BaseModel):
    """One metric as the benchmark declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: MetricName  # as the evaluator reports it
    label: Label  # as every face shows it
    direction: MetricDirection = MetricDirection.HIGHER
    scale: MetricScale = MetricScale.LINEAR
    # For a proportion: of which count (None: pooled from the sites' intervals).
    of: CountDenominator | None = None
    primary: bool = False  # ranks the leaderboard; exactly one declared metric is

    @model_validator(mode="after")
    def _count_only_for_proportions(self) -> MetricDeclaration:
        if self.of is not None and self.scale is not MetricScale.PROPORTION:
            raise ValueError(f"metric {self.name}: 'of' applies to a proportion only")
        return self

    @property
    def higher_is_better(self) -> bool:
        return self.direction is MetricDirection.HIGHER


class SubgroupDeclaration(BaseModel):
    """A variable the evaluator reports metrics for, level by level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: VariableName  # as the evaluator reports it
    label: Label
    # The levels expected, in the order shown (None: whatever the evaluator reports).
    levels: list[LevelName] | None = Field(default=None, max_length=MAX_SUBGROUP_LEVELS)


def check_metrics(metrics: Sequence[MetricDeclaration]) -> Sequence[MetricDeclaration]:
    """Each name once, and exactly one primary metric (none declared: fine)."""
    if not metrics:
        return metrics
    names = [m.name for m in metrics]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"metrics: declare each metric once ({', '.join(twice)} twice)")
    primary = [m.name for m in metrics if m.primary]
    if len(primary) != 1:
        raise ValueError(
            "metrics: mark exactly one metric primary (it ranks the leaderboard); "
            f"{len(primary)} are"
        )
    return metrics


def check_subgroups(subgroups: Sequence[SubgroupDeclaration]) -> Sequence[SubgroupDeclaration]:
    names = [s.name for s in subgroups]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"subgroups: declare each variable once ({', '.join(twice)} twice)")
    for subgroup in subgroups:
        levels = subgroup.levels or []
        if len(set(levels)) != len(levels):
            raise ValueError(f"subgroups: {subgroup.name} names a level twice")
    return subgroups


DeclaredMetrics = Annotated[
    list[MetricDeclaration],
    Field(max_length=MAX_DECLARED_METRICS),
    AfterValidator(check_metrics),
]
DeclaredSubgroups = Annotated[
    list[SubgroupDeclaration],
    Field(max_length=MAX_SUBGROUP_VARIABLES),
    AfterValidator(check_subgroups),
]


# --- what a benchmark without a declaration falls back to --------------------------------

# medval's clinical default for the primary metric, when the evaluator reports it.
DEFAULT_PRIMARY = "auroc"
# A word (split at ``_``, trailing digits ignored) that says a metric is an error or a
# distance, for which lower is better.
LOWER_IS_BETTER = frozenset(
    {"brier", "loss", "error", "distance", "hausdorff", "hd", "ece", "mae", "mse", "rmse", "nll"}
)
PROPORTION_METRICS = frozenset(
    {"auroc", "auprc", "c_index", "sensitivity", "specificity", "ppv", "npv", "accuracy"}
)
RATIO_METRICS = frozenset({"oe_ratio", "odds_ratio", "risk_ratio", "hazard_ratio"})
COUNTED_METRICS = {
    "sensitivity": CountDenominator.POSITIVES,
    "specificity": CountDenominator.NEGATIVES,
    "accuracy": CountDenominator.CASES,
}


def inferred_metric(name: str, primary: bool = False) -> MetricDeclaration:
    """The declaration medval assumes for a metric a benchmark did not declare: the
    direction from the name (errors and distances rank lowest first), the scale and the
    count from medval's known metrics, the name as its label."""
    lower = any(word.rstrip("0123456789") in LOWER_IS_BETTER for word in name.split("_"))
    if name in PROPORTION_METRICS:
        scale = MetricScale.PROPORTION
    elif name in RATIO_METRICS:
        scale = MetricScale.RATIO
    else:
        scale = MetricScale.LINEAR
    return MetricDeclaration(
        name=name,
        label=name,
        direction=MetricDirection.LOWER if lower else MetricDirection.HIGHER,
        scale=scale,
        of=COUNTED_METRICS.get(name),
        primary=primary,
    )


def inferred_metrics(reported: Sequence[str]) -> list[MetricDeclaration]:
    """Every metric an evaluator reports, in its order, declared by :func:`inferred_metric`;
    ``auroc`` is primary if reported, else the first."""
    order = list(dict.fromkeys(reported))
    primary = DEFAULT_PRIMARY if DEFAULT_PRIMARY in order else (order[0] if order else None)
    return [inferred_metric(name, name == primary) for name in order]


def primary_of(metrics: Sequence[MetricDeclaration]) -> MetricDeclaration | None:
    return next((m for m in metrics if m.primary), None)


def undeclared(metrics: Sequence[MetricDeclaration], reported: Sequence[str]) -> list[str]:
    """The reported metrics the declaration does not name, in the evaluator's order."""
    declared = {m.name for m in metrics}
    return [name for name in dict.fromkeys(reported) if name not in declared]


def missing(metrics: Sequence[MetricDeclaration], reported: Sequence[str]) -> list[str]:
    """The declared metrics the evaluator did not report, in the declared order."""
    present = set(reported)
    return [m.name for m in metrics if m.name not in present]


def out_of_scale(declaration: MetricDeclaration, value: float) -> bool:
    """Whether a reported value cannot be on the declared scale (a proportion outside
    [0, 1], a ratio at or below 0)."""
    if not math.isfinite(value):
        return True
    if declaration.scale is MetricScale.PROPORTION:
        return not 0.0 <= value <= 1.0
    if declaration.scale is MetricScale.RATIO:
        return value <= 0.0
    return False
