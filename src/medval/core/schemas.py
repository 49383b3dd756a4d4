"""The HTTP API contract, written once and used by both the server and the client.

One family of schemas per resource: ``XCreate`` (request body), ``XPublic`` (response).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from medval.core.declarations import (
    DeclaredMetrics,
    DeclaredSubgroups,
    MetricDeclaration,
    SubgroupDeclaration,
)
from medval.core.documents import (
    DatasetStatistics,
    no_nul,
)
from medval.core.hub_pins import HubPin
from medval.core.membership_schemas import AutoApprovalRule, DataPolicy, MembershipAgreement

# The basic types live in schema_types; re-exported here, where the other modules read them.
from medval.core.schema_types import MAX_ID as MAX_ID
from medval.core.schema_types import NAME_PATTERN as NAME_PATTERN
from medval.core.schema_types import Id as Id
from medval.core.schema_types import Name as Name
from medval.core.schema_types import Schema as _Schema
from medval.core.schema_types import Sha256 as Sha256
from medval.core.schema_types import Text as Text
from medval.core.schema_types import check_name as check_name
from medval.core.sealed_models import SealedArchive
from medval.core.small_cells import DEFAULT_MIN_CELL_COUNT, LOWEST_MIN_CELL_COUNT
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
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
    institution: str | None = None  # set by an admin (core.participation_schemas)


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
    # A model registered from a hub repository: its repo, commit and every file's hash.
    hub: HubPin | None = None
    # A private model: only its sealed archive was uploaded (core.sealed_models).
    sealed: SealedArchive | None = None

    @model_validator(mode="after")
    def _image_pinned_whole(self) -> CubeCreate:
        if (self.image_digest is None) != (self.image_archive_hash is None):
            raise ValueError("image_digest and image_archive_hash: give both or neither")
        if self.sealed is not None and self.kind is not CubeKind.MODEL:
            raise ValueError("only a model cube can be private (sealed)")
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
    hub: HubPin | None = None  # a model registered from a hub repository (core.hub_pins)
    sealed: SealedArchive | None = None  # a private model (core.sealed_models)
    invalidated_at: datetime | None = None  # set once, for good (see states.Invalidatable)
    invalidated_by: str | None = None


class StageChange(_Schema):
    stage: Stage


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
    # The evidence it declares (core.declarations): its metrics (none: the evaluator's,
    # as inferred) and the subgroup variables its evaluator reports metrics for.
    metrics: DeclaredMetrics = Field(default_factory=list)
    subgroups: DeclaredSubgroups = Field(default_factory=list)

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
    # Declared evidence (see BenchmarkCreate); empty for benchmarks registered before it.
    metrics: list[MetricDeclaration] = Field(default_factory=list)
    subgroups: list[SubgroupDeclaration] = Field(default_factory=list)


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
