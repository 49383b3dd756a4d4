"""A committee's expected sites and the participation view over them (issue 19): the API
schemas both the server and the client read.

An expected site is an account (a user) or an institution (the name an admin gives the
accounts of one hospital) that a benchmark's committee expects to take part. A dataset
association requested by an expected site is approved at once, and audited as such.

The participation view says, for each expected site (and each site that joined without
being expected), how far it got: joined, prepared, which models ran, which results were
sent, and since when something has been waiting on it. It holds names of sites,
datasets' registered names and ids, models, dates and counts: never any patient data.

Imports only pydantic and the core.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from medval.core.documents import MetricValue
from medval.core.schema_types import Id
from medval.core.schema_types import Schema as _Schema
from medval.core.states import ApprovalStatus, ExecutionStatus

# An institution's name as people write it ("St. Mary's Hospital"): one printable line,
# no blank at either end.
InstitutionName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f\s](.*[^\s])?$"),
]


class SiteKind(StrEnum):
    """What a committee expects: one account, or every account of an institution."""

    USER = "user"
    INSTITUTION = "institution"


class ExportTable(StrEnum):
    """The tables a committee exports as CSV (``medval benchmark export``)."""

    PARTICIPATION = "participation"
    RESULTS = "results"


class InstitutionChange(_Schema):
    """An admin puts an account in an institution (None: in none)."""

    institution: InstitutionName | None


class ExpectedSiteCreate(_Schema):
    kind: SiteKind
    # A username for a user, an institution's name for an institution.
    name: InstitutionName


class ExpectedSitePublic(_Schema):
    id: Id
    benchmark_id: Id
    kind: SiteKind
    name: str
    added_by: str
    created_at: datetime


class SiteDataset(_Schema):
    """A dataset of the site on the benchmark: its registered name and id, and how its
    association stands."""

    dataset_id: Id
    dataset: str
    owner: str
    status: ApprovalStatus
    requested_at: datetime


class SiteParticipation(_Schema):
    kind: SiteKind
    name: str
    # False: the site joined (a dataset association) without being expected.
    expected: bool
    expected_since: datetime | None
    # The site's accounts (for an institution: those in it now).
    accounts: list[str]
    # A dataset association of the site was requested (any status), first at joined_at.
    joined: bool
    joined_at: datetime | None
    # A dataset of the site is registered and its association approved.
    prepared: bool
    datasets: list[SiteDataset]
    # The models with a result (succeeded or failed) from the site's datasets.
    models_run: list[str]
    results_sent: int
    first_result_at: datetime | None
    last_result_at: datetime | None
    # The oldest thing pending on the site ("joining", "model NAME to run") and since when.
    waiting_for: str | None
    waiting_since: datetime | None


class BenchmarkParticipation(_Schema):
    benchmark_id: Id
    benchmark: str
    sites: list[SiteParticipation]


class ResultExportRow(_Schema):
    """One released result as the leaderboard shows it: no per-case data."""

    result_id: Id
    phase: str | None  # the benchmark's phase the result belongs to (core.phases)
    model_id: Id
    model: str
    model_owner: str
    dataset_id: Id
    dataset: str
    site: str  # the dataset's owner
    status: ExecutionStatus
    failure: str | None = None
    n_cases: int | None
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    executed_at: datetime | None
    created_at: datetime


class BenchmarkResultsExport(_Schema):
    benchmark_id: Id
    benchmark: str
    results: list[ResultExportRow]
