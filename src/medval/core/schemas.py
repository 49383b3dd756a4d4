"""The HTTP API contract, written once and used by both the server and the client.

One family of schemas per resource: ``XCreate`` (request body), ``XPublic`` (response).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from medval.core.documents import DatasetStatistics, MetricValue, Provenance, ResultDocument
from medval.core.errors import InvalidInput
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
    ExecutionStatus,
    ReleasePolicy,
    RunnerKind,
    Stage,
)

# One safe path component too (no "/", never "." or ".."): the client names folders by it.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# A container image's ID: the sha256 of its configuration, as Docker and Podman print it.
ImageDigest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
Text = Annotated[str, StringConstraints(max_length=4000)]
# A failed execution's reason: one printable line, in medval's own words.
FailureReason = Annotated[
    str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")
]


def check_name(value: str, what: str) -> str:
    """``value`` when it is a valid ``Name``, else one line saying what a name may hold."""
    if re.fullmatch(NAME_PATTERN, value) is None:
        raise InvalidInput(
            f"{what} {value[:100]!r} is not allowed: use 1 to 80 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return value


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


# --- accounts -------------------------------------------------------------------------


class Credentials(_Schema):
    username: Name
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenPublic(_Schema):
    token: str
    expires_at: datetime


class UserCreate(_Schema):
    username: Name
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    is_admin: bool = False


class UserPublic(_Schema):
    id: int
    username: str
    is_admin: bool
    created_at: datetime


# --- blobs ----------------------------------------------------------------------------


class BlobUploadState(_Schema):
    """How much of a blob the server holds: all of it (``complete``), or the ``size``
    bytes of an upload cut short, to continue from there."""

    sha256: str
    size: int
    complete: bool


# --- cubes ----------------------------------------------------------------------------


class CubeCreate(_Schema):
    """A cube is registered by the hash of its archive, uploaded first as a blob.

    A cube with a container image also pins the image: its ID (``image_digest``) and
    the hash of an image archive (``docker save`` / ``podman save``, uploaded as a blob)
    that holds exactly that image. Both or neither.
    """

    name: Name
    kind: CubeKind
    archive_hash: Sha256
    stage: Stage = Stage.OPERATION
    image_digest: ImageDigest | None = None
    image_archive_hash: Sha256 | None = None

    @model_validator(mode="after")
    def _image_pinned_whole(self) -> CubeCreate:
        if (self.image_digest is None) != (self.image_archive_hash is None):
            raise ValueError("image_digest and image_archive_hash: give both or neither")
        return self


class CubePublic(_Schema):
    id: int
    name: str
    kind: CubeKind
    archive_hash: str
    owner_id: int
    owner: str
    stage: Stage
    created_at: datetime
    image_digest: str | None = None
    image_archive_hash: str | None = None
    invalidated_at: datetime | None = None  # set once, for good (see states.Invalidatable)
    invalidated_by: str | None = None


class StageChange(_Schema):
    stage: Stage


# --- benchmarks -----------------------------------------------------------------------


class BenchmarkCreate(_Schema):
    name: Name
    description: Text = ""
    docs_url: Annotated[str, StringConstraints(max_length=500)] = ""
    data_preparator_id: int
    reference_model_id: int
    evaluator_id: int
    demo_data_hash: Sha256
    release_policy: ReleasePolicy = ReleasePolicy.PARTICIPANTS
    stage: Stage = Stage.OPERATION
    # The sandboxes a data owner may run this benchmark's cubes in; all by default.
    runners: list[RunnerKind] = Field(default_factory=lambda: list(RunnerKind), min_length=1)

    @model_validator(mode="after")
    def _runners_once_each(self) -> BenchmarkCreate:
        if len(set(self.runners)) != len(self.runners):
            raise ValueError("runners: name each runner kind once")
        return self


class BenchmarkPublic(_Schema):
    id: int
    name: str
    description: str
    docs_url: str
    owner_id: int
    owner: str
    data_preparator_id: int
    reference_model_id: int
    evaluator_id: int
    demo_data_hash: str
    release_policy: ReleasePolicy
    approval: ApprovalStatus
    stage: Stage
    created_at: datetime
    runners: list[RunnerKind] = Field(default_factory=lambda: list(RunnerKind))
    invalidated_at: datetime | None = None
    invalidated_by: str | None = None


class Decision(_Schema):
    """An approval or rejection, of a benchmark or an association."""

    status: ApprovalStatus


# --- datasets -------------------------------------------------------------------------


class DatasetCreate(_Schema):
    """Hashes and statistics only: never data, labels or file names."""

    name: Name
    description: Text = ""
    location: Annotated[str, StringConstraints(max_length=200)] = ""
    data_preparator_id: int
    data_hash: Sha256
    statistics: DatasetStatistics
    stage: Stage = Stage.OPERATION


class DatasetPublic(_Schema):
    id: int
    name: str
    description: str
    location: str
    owner_id: int
    owner: str
    data_preparator_id: int
    data_hash: str
    statistics: DatasetStatistics
    stage: Stage
    created_at: datetime
    invalidated_at: datetime | None = None
    invalidated_by: str | None = None


# --- associations ---------------------------------------------------------------------


class AssociationCreate(_Schema):
    benchmark_id: int
    kind: AssociationKind
    entity_id: int  # dataset id or model cube id, by kind


class AssociationEventPublic(_Schema):
    """One move of an association: requested (``pending``), approved, rejected, revoked."""

    status: ApprovalStatus
    by: str
    at: datetime


class AssociationPublic(_Schema):
    """The current state (``initiated_by``: the latest request; ``decided_*``: the decision
    on it, if any) and every move so far, oldest first, in ``history``."""

    id: int
    benchmark_id: int
    kind: AssociationKind
    entity_id: int
    entity_name: str
    status: ApprovalStatus
    initiated_by: str
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    history: list[AssociationEventPublic] = Field(default_factory=list)


# --- executions and results -----------------------------------------------------------


class PendingExecution(_Schema):
    """An approved model on a benchmark, for a dataset of the caller's, with no result yet."""

    benchmark_id: int
    benchmark: str
    dataset_id: int
    dataset: str
    model_id: int
    model: str
    model_owner: str
    model_hash: str
    # A failed execution is recorded on the server: it runs again only when asked to.
    failed: bool = False


class ResultCreate(_Schema):
    """A model's execution on a dataset: succeeded with its metrics (``document``), or
    failed with a one-line ``failure`` (medval's own verdict) and no metrics. Either way
    ``provenance`` names every artifact that ran."""

    benchmark_id: int
    dataset_id: int
    model_id: int
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED
    document: ResultDocument | None = None
    failure: FailureReason | None = None
    provenance: Provenance
    executed_at: datetime | None = None

    @model_validator(mode="after")
    def _metrics_or_a_reason(self) -> ResultCreate:
        if self.status is ExecutionStatus.SUCCEEDED:
            if self.document is None or self.failure is not None:
                raise ValueError("a succeeded result has a document and no failure")
        elif self.document is not None or self.failure is None:
            raise ValueError("a failed result has a failure and no document")
        return self


class ResultPublic(_Schema):
    id: int
    benchmark_id: int
    dataset_id: int
    dataset: str
    model_id: int
    model: str
    owner: str
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED
    document: ResultDocument | None
    failure: str | None = None
    provenance: Provenance
    executed_at: datetime | None = None
    created_at: datetime


class PooledMetric(_Schema):
    """A metric pooled across sites (random effects), with its interval and heterogeneity."""

    value: float
    lower: float | None
    upper: float | None
    n_sites: int
    i_squared: float | None


class LeaderboardSite(_Schema):
    dataset_id: int
    dataset: str
    n_cases: int | None  # None: the evaluator did not report it
    metrics: dict[str, MetricValue]


class LeaderboardEntry(_Schema):
    model_id: int
    model: str
    model_owner: str
    n_sites: int  # sites whose execution succeeded (pooled)
    n_cases: int | None  # None: some site's evaluator did not report it
    n_failed: int = 0  # sites where it failed: counted, never pooled
    # When the model was invalidated: its results stay on the board, marked so.
    model_invalidated_at: datetime | None = None
    pooled: dict[str, PooledMetric]
    sites: list[LeaderboardSite] = Field(default_factory=list)  # empty where not released


class LeaderboardPublic(_Schema):
    benchmark_id: int
    benchmark: str
    release_policy: ReleasePolicy
    # The evaluator's metrics in its own order; the first ranks unless auroc is among them
    # (see core.metric_ranking). None: no result yet.
    metrics: list[str]
    primary_metric: str | None
    higher_is_better: bool
    entries: list[LeaderboardEntry]


class ErrorBody(_Schema):
    code: str
    message: str


class ErrorResponse(_Schema):
    error: ErrorBody
