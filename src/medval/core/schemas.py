"""The HTTP API contract, written once and used by both the server and the client.

One family of schemas per resource: ``XCreate`` (request body), ``XPublic`` (response).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from medval.core.documents import (
    DatasetStatistics,
    MetricValue,
    Provenance,
    ResultDocument,
    no_nul,
)
from medval.core.errors import InvalidInput

# The basic types live in schema_types; re-exported here, where the other modules read them.
from medval.core.schema_types import MAX_ID as MAX_ID
from medval.core.schema_types import NAME_PATTERN as NAME_PATTERN
from medval.core.schema_types import Id as Id
from medval.core.schema_types import Name as Name
from medval.core.schema_types import Schema as _Schema
from medval.core.schema_types import Sha256 as Sha256
from medval.core.schema_types import Text as Text
from medval.core.small_cells import DEFAULT_MIN_CELL_COUNT, LOWEST_MIN_CELL_COUNT
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    AutoApprovalMode,
    CubeKind,
    ExecutionStatus,
    ReleasePolicy,
    RunnerKind,
    Stage,
)

# A container image's ID: the sha256 of its configuration, as Docker and Podman print it.
ImageDigest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
# A password as typed at login (any), and a new one (at least 8 characters).
GivenPassword = Annotated[
    str, StringConstraints(min_length=1, max_length=1024), AfterValidator(no_nul)
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024), AfterValidator(no_nul)]
# Ed25519, base64 (RFC 4648, padded): a raw public key (32 bytes), a signature (64 bytes).
PublicKeyText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]
SignatureText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{86}==$")]
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


# --- accounts -------------------------------------------------------------------------


class Credentials(_Schema):
    username: Name
    password: GivenPassword


class TokenPublic(_Schema):
    token: str
    expires_at: datetime


class UserCreate(_Schema):
    username: Name
    password: Password
    # Strict: 0 or "yes" is not a way to say whether an account is an admin.
    is_admin: StrictBool = False


class UserPublic(_Schema):
    id: Id
    username: str
    is_admin: bool
    created_at: datetime
    disabled: bool = False


class PasswordChange(_Schema):
    """A new password: for one's own account with the old one; an admin sets another's."""

    new_password: Password
    old_password: GivenPassword | None = None


class AccountStatus(_Schema):
    """An admin disables an account (it cannot log in; its tokens stop working) or
    enables it again."""

    disabled: bool


class TokensRevoked(_Schema):
    revoked: int


# --- signing keys ---------------------------------------------------------------------


class SigningKeyCreate(_Schema):
    """A data owner's Ed25519 public key; its id is computed by the server
    (``medval.trust.keys.key_id``: the sha256 of the raw key)."""

    public_key: PublicKeyText


class SigningKeyPublic(_Schema):
    """A registered public key. One per account is current (``retired_at`` None); a
    retired key is kept for good, so that what it signed stays verifiable."""

    key_id: str
    public_key: str
    owner_id: int
    owner: str
    created_at: datetime
    retired_at: datetime | None = None


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
    id: Id
    name: str
    kind: CubeKind
    archive_hash: str
    owner_id: Id
    owner: str
    stage: Stage
    created_at: datetime
    image_digest: str | None = None
    image_archive_hash: str | None = None
    invalidated_at: datetime | None = None  # set once, for good (see states.Invalidatable)
    invalidated_by: str | None = None


class StageChange(_Schema):
    stage: Stage


# --- membership: the agreement, auto-approval and data policies (issue 10) -------------

# A membership agreement is a UTF-8 text document (Markdown or plain text).
AgreementText = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]


def agreement_sha256(text: str) -> str:
    """What pins an agreement: the sha256 of its text, encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MembershipAgreement(_Schema):
    """The document a benchmark asks each data owner to accept, once, before any of their
    datasets may join; pinned by ``sha256`` (of the text), checked against the text."""

    text: AgreementText
    sha256: Sha256

    @model_validator(mode="after")
    def _pinned(self) -> MembershipAgreement:
        if agreement_sha256(self.text) != self.sha256:
            raise ValueError("sha256 does not match the agreement's text")
        return self


class AutoApprovalRule(_Schema):
    """When a benchmark approves an association at request time, on its owner's behalf:
    ``never`` (the default), ``always``, or for the ``users`` on an allowlist."""

    mode: AutoApprovalMode = AutoApprovalMode.NEVER
    users: list[Name] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _users_for_allowlist_only(self) -> AutoApprovalRule:
        if self.mode is AutoApprovalMode.ALLOWLIST and not self.users:
            raise ValueError("users: an allowlist names at least one user")
        if self.mode is not AutoApprovalMode.ALLOWLIST and self.users:
            raise ValueError(f"users: only an allowlist names users, not {self.mode.value}")
        if len(set(self.users)) != len(self.users):
            raise ValueError("users: name each user once")
        return self


class AgreementAcceptanceCreate(_Schema):
    """A data owner accepts the agreement they were shown, named by its hash."""

    sha256: Sha256


class AgreementAcceptancePublic(_Schema):
    benchmark_id: int
    username: str
    sha256: str
    accepted_at: datetime


class DataPolicy(_Schema):
    """A data owner's terms on a dataset's association with a benchmark.

    ``model_owners``: the only model owners whose models may run on it (None: any model
    the benchmark's committee approves). ``max_runs``: how many times one model may be
    executed on it, counting every result uploaded for it, succeeded or failed (None:
    unlimited). ``expires_on``: from this day (UTC) on, nothing new runs on it and no new
    result is accepted (None: no expiry). Evaluated by ``medval.trust.data_policy``.
    """

    model_owners: list[Name] | None = Field(default=None, max_length=1000)
    max_runs: StrictInt | None = Field(default=None, ge=1, le=1_000_000)
    expires_on: date | None = None


class DatasetTermsPublic(_Schema):
    """A dataset's policy on a benchmark, as one party sees it: the data owner and the
    benchmark owner see it whole; a model owner sees the clauses that concern them (the
    allowlist shows them alone, or no one)."""

    association_id: int
    benchmark_id: int
    dataset_id: int
    dataset: str
    status: ApprovalStatus
    policy: DataPolicy


# --- benchmarks -----------------------------------------------------------------------

# Below this many sites, no pooled figure is released (services.release): with one, the
# pooled figure is that site's result; with two, each site can work out the other's from
# it and its own. 1 releases every result as soon as its data owner uploads it (for a
# benchmark run at a single site, whose data owner approves each upload).
DEFAULT_MIN_SITES = 3
LOWEST_MIN_SITES = 1
# The disclosure thresholds a benchmark declares, as one block of fields (Create and Public).
MinCellCount = Annotated[StrictInt, Field(ge=LOWEST_MIN_CELL_COUNT, le=1000)]
MinSites = Annotated[StrictInt, Field(ge=LOWEST_MIN_SITES, le=1000)]


class BenchmarkCreate(_Schema):
    name: Name
    description: Text = ""
    docs_url: Annotated[str, StringConstraints(max_length=500), AfterValidator(no_nul)] = ""
    data_preparator_id: Id
    reference_model_id: Id
    evaluator_id: Id
    demo_data_hash: Sha256
    release_policy: ReleasePolicy = ReleasePolicy.PARTICIPANTS
    stage: Stage = Stage.OPERATION
    # The sandboxes a data owner may run this benchmark's cubes in; all by default.
    runners: list[RunnerKind] = Field(default_factory=lambda: list(RunnerKind), min_length=1)
    # --- membership (issue 10, data policies): the agreement and auto-approval -------
    agreement: MembershipAgreement | None = None
    auto_approval: AutoApprovalRule = Field(default_factory=AutoApprovalRule)
    # --- end of membership ------------------------------------------------------------
    # Disclosure control: counts below min_cell_count never leave a site (core.small_cells);
    # fewer than min_sites sites release no pooled figure (services.release).
    min_cell_count: MinCellCount = DEFAULT_MIN_CELL_COUNT
    min_sites: MinSites = DEFAULT_MIN_SITES

    @model_validator(mode="after")
    def _runners_once_each(self) -> BenchmarkCreate:
        if len(set(self.runners)) != len(self.runners):
            raise ValueError("runners: name each runner kind once")
        return self


class BenchmarkPublic(_Schema):
    id: Id
    name: str
    description: str
    docs_url: str
    owner_id: Id
    owner: str
    data_preparator_id: Id
    reference_model_id: Id
    evaluator_id: Id
    demo_data_hash: str
    release_policy: ReleasePolicy
    approval: ApprovalStatus
    stage: Stage
    created_at: datetime
    runners: list[RunnerKind] = Field(default_factory=lambda: list(RunnerKind))
    invalidated_at: datetime | None = None
    invalidated_by: str | None = None
    # --- membership (issue 10, data policies): the agreement and auto-approval -------
    agreement: MembershipAgreement | None = None
    auto_approval: AutoApprovalRule = Field(default_factory=AutoApprovalRule)
    # --- end of membership ------------------------------------------------------------
    # Disclosure control (see BenchmarkCreate).
    min_cell_count: int = DEFAULT_MIN_CELL_COUNT
    min_sites: int = DEFAULT_MIN_SITES


class Decision(_Schema):
    """An approval or rejection, of a benchmark or an association."""

    status: ApprovalStatus


# --- datasets -------------------------------------------------------------------------


class DatasetCreate(_Schema):
    """Hashes and statistics only: never data, labels or file names."""

    name: Name
    description: Text = ""
    location: Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)] = ""
    data_preparator_id: Id
    data_hash: Sha256
    statistics: DatasetStatistics
    stage: Stage = Stage.OPERATION


class DatasetPublic(_Schema):
    id: Id
    name: str
    description: str
    location: str
    owner_id: Id
    owner: str
    data_preparator_id: Id
    data_hash: str
    statistics: DatasetStatistics
    stage: Stage
    created_at: datetime
    invalidated_at: datetime | None = None
    invalidated_by: str | None = None


# --- associations ---------------------------------------------------------------------


class AssociationCreate(_Schema):
    benchmark_id: Id
    kind: AssociationKind
    entity_id: Id  # dataset id or model cube id, by kind


class AssociationEventPublic(_Schema):
    """One move of an association: requested (``pending``), approved, rejected, revoked.

    ``automatic``: approved by the system at request time, on behalf of ``by`` (the
    benchmark's owner), by the benchmark's auto-approval rule."""

    status: ApprovalStatus
    by: str
    at: datetime
    automatic: bool = False


class AssociationPublic(_Schema):
    """The current state (``initiated_by``: the latest request; ``decided_*``: the decision
    on it, if any) and every move so far, oldest first, in ``history``."""

    id: Id
    benchmark_id: Id
    kind: AssociationKind
    entity_id: Id
    entity_name: str
    status: ApprovalStatus
    initiated_by: str
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None
    history: list[AssociationEventPublic] = Field(default_factory=list)
    # A dataset's association: its data owner's terms (a model's has the default policy).
    policy: DataPolicy = Field(default_factory=DataPolicy)


# --- executions and results -----------------------------------------------------------


class PendingExecution(_Schema):
    """An approved model on a benchmark, for a dataset of the caller's, with no result yet."""

    benchmark_id: Id
    benchmark: str
    dataset_id: Id
    dataset: str
    model_id: Id
    model: str
    model_owner: str
    model_hash: str
    # A failed execution is recorded on the server: it runs again only when asked to.
    failed: bool = False
    # The dataset's policy on this benchmark, and how many times this model has run on
    # it (results uploaded): the client refuses to run what the policy refuses.
    policy: DataPolicy = Field(default_factory=DataPolicy)
    runs: int = 0


class ResultContent(_Schema):
    """A model's execution on a dataset: succeeded with its metrics (``document``), or
    failed with a one-line ``failure`` (medval's own verdict) and no metrics. Either way
    ``provenance`` names every artifact that ran. This is what the data owner signs."""

    benchmark_id: Id
    dataset_id: Id
    model_id: Id
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED
    document: ResultDocument | None = None
    failure: FailureReason | None = None
    provenance: Provenance
    executed_at: datetime | None = None

    @model_validator(mode="after")
    def _metrics_or_a_reason(self) -> ResultContent:
        if self.status is ExecutionStatus.SUCCEEDED:
            if self.document is None or self.failure is not None:
                raise ValueError("a succeeded result has a document and no failure")
        elif self.document is not None or self.failure is None:
            raise ValueError("a failed result has a failure and no document")
        return self


class ResultCreate(ResultContent):
    """An upload: the content, the uploader's Ed25519 signature over its canonical form
    (``medval.trust.signed_result``) and the id of the key that made it."""

    key_id: Sha256
    signature: SignatureText


class ResultPublic(_Schema):
    id: Id
    benchmark_id: Id
    dataset_id: Id
    dataset: str
    model_id: Id
    model: str
    owner: str
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED
    document: ResultDocument | None
    failure: str | None = None
    provenance: Provenance
    executed_at: datetime | None = None
    created_at: datetime
    runs: int = 1  # how many times it was uploaded (a failed one may be run again)
    # None only for results uploaded before results were signed.
    key_id: str | None = None
    signature: str | None = None


class PooledMetric(_Schema):
    """A metric pooled across sites (random effects), with its interval and heterogeneity."""

    value: float
    lower: float | None
    upper: float | None
    n_sites: int
    i_squared: float | None


class LeaderboardSite(_Schema):
    dataset_id: Id
    dataset: str
    n_cases: int | None  # None: the evaluator did not report it
    metrics: dict[str, MetricValue]


class LeaderboardEntry(_Schema):
    model_id: Id
    model: str
    model_owner: str
    n_sites: int  # sites whose execution succeeded (pooled)
    n_cases: int | None  # None: some site's evaluator did not report it
    n_failed: int = 0  # sites where it failed: counted, never pooled
    # When the model was invalidated: its results stay on the board, marked so.
    model_invalidated_at: datetime | None = None
    pooled: dict[str, PooledMetric]
    sites: list[LeaderboardSite] = Field(default_factory=list)  # empty where not released
    # Why pooled figures (and others' sites) are not shown to this caller: fewer sites than
    # the benchmark's min_sites. None: released.
    withheld: str | None = None


class LeaderboardPublic(_Schema):
    benchmark_id: Id
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


# --- audit trail ----------------------------------------------------------------------


class AuditEntryPublic(_Schema):
    """One entry of a hash-chained audit log (the server's, or a data owner's own).

    Who (``actor``) did what (``action``, e.g. ``cube.stage``) to which entity, when, and
    the entity's content hash before and after (``None``: it did not exist before, or no
    longer exists). ``entry_hash`` commits to all of it and to ``prev_hash``, the hash of
    the entry before (see ``medval.trust.audit_chain``); ``seq`` is its place, from 1.
    """

    seq: int
    at: datetime
    actor: str
    action: str
    entity_kind: str
    entity_id: str
    before_hash: str | None
    after_hash: str | None
    prev_hash: str
    entry_hash: str
