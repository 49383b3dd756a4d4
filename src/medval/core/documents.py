"""The only shapes of site data that may leave a hospital: statistics and results.

Both are strict (unknown fields refused, bounded sizes, finite numbers only) so that an
evaluator or preparation cube cannot smuggle per-case rows out inside a free-form blob.
The data owner still sees the exact payload and approves it before anything is sent.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
MAX_METRICS = 64
MAX_STATISTICS = 256


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class MetricValue(BaseModel):
    """A point estimate with its confidence interval computed at the site."""

    model_config = ConfigDict(extra="forbid")

    value: float
    lower: float | None = None
    upper: float | None = None

    _check = field_validator("value", "lower", "upper")(_finite)


class ResultDocument(BaseModel):
    """What an evaluator produces and a data owner may upload: aggregates only."""

    model_config = ConfigDict(extra="forbid")

    n_cases: int = Field(ge=0)
    n_positive: int = Field(ge=0)
    metrics: dict[MetricName, MetricValue] = Field(max_length=MAX_METRICS)


StatisticValue = float | int | dict[MetricName, float | int]


class DatasetStatistics(BaseModel):
    """Summary statistics of a prepared dataset: counts, means, category frequencies."""

    model_config = ConfigDict(extra="forbid")

    n_cases: int = Field(ge=0)
    values: dict[MetricName, StatisticValue] = Field(
        default_factory=dict, max_length=MAX_STATISTICS
    )


class Provenance(BaseModel):
    """Every hash that produced a result, re-checked by the server on upload."""

    model_config = ConfigDict(extra="forbid")

    dataset_hash: str
    data_preparator_hash: str
    model_hash: str
    evaluator_hash: str
