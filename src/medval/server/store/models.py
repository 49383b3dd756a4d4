"""The tables, as typed SQLAlchemy 2 ORM classes: the one persistent shape of each entity.

A column written here is stored (Alembic makes the schema from these classes, and a test
checks that the migrations produce exactly them) and, when the core's ``XPublic`` schema
has a field of the same name, shown by the API: records are validated from these rows
(``records``). Names the API shows that live in another table (``owner``, ``model``,
``entity_name``) are resolved here, as association proxies or properties, so that no
mapping code repeats the fields. The ORM stays inside the store: services get records.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from medval.core.declarations import MetricDeclaration, SubgroupDeclaration
from medval.core.documents import DatasetStatistics, Provenance, ResultDocument
from medval.core.hub_pins import HubPin
from medval.core.membership_schemas import AutoApprovalRule, DataPolicy, MembershipAgreement
from medval.core.phases import ResultPublication
from medval.core.sealed_models import SealedArchive
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    CubeKind,
    ExecutionStatus,
    ReleasePolicy,
    RunnerKind,
    Stage,
)

# Training's tables live beside these, on the same base: imported here so that whoever
# reads the schema from this module (Alembic, the migration tests) sees them all.
from medval.server.store import attestation_models as attestation_models
from medval.server.store import model_key_models as model_key_models
from medval.server.store import participation_models as participation_models
from medval.server.store import phase_models as phase_models
from medval.server.store import preparation_report_models as preparation_report_models
from medval.server.store import training_models as training_models
from medval.server.store.column_types import JsonDocument
from medval.server.store.model_base import Base as Base
from medval.server.store.model_base import Invalidatable, Owned


def every_runner_kind() -> list[RunnerKind]:
    return list(RunnerKind)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # Never in a record: only the login service reads it, through the store's own method.
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # A disabled account cannot log in, and its tokens are refused.
    disabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The institution an admin put the account in (a committee may expect all of its
    # accounts, ``participation_models``); NULL: none.
    institution: Mapped[str | None] = mapped_column(String(120), default=None, index=True)


class ApiToken(Base):
    """A login token; only its sha256 is kept, so a database leak leaks no tokens."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class BlobOwner(Base):
    """An account that uploaded a blob whole (so holds its content): it may read the blob
    and register entities with it. Content-addressed, so one blob may have several."""

    __tablename__ = "blob_owners"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    uploaded_at: Mapped[datetime]


class BlobUpload(Base):
    """Who started the upload the server holds a part of: only they may continue it."""

    __tablename__ = "blob_uploads"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]


class SigningKey(Owned, Base):
    """A data owner's Ed25519 public key. Never deleted: a retired key (``retired_at``
    set) still verifies what it signed. One per owner is current (``retired_at`` NULL)."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(String(44))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class Cube(Owned, Invalidatable, Base):
    __tablename__ = "cubes"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[CubeKind]
    archive_hash: Mapped[str] = mapped_column(String(64))
    stage: Mapped[Stage]
    created_at: Mapped[datetime]
    # A cube with a container image: its ID ("sha256:" + 64 hex) and its archive's blob.
    image_digest: Mapped[str | None] = mapped_column(String(71))
    image_archive_hash: Mapped[str | None] = mapped_column(String(64))
    # A model registered from a hub repository: the repo, the commit, every file's hash.
    hub: Mapped[HubPin | None] = mapped_column(JsonDocument(HubPin), nullable=True)
    # A private model: the sealed archive's hash and how its key is released.
    sealed: Mapped[SealedArchive | None] = mapped_column(JsonDocument(SealedArchive), nullable=True)


class Benchmark(Owned, Invalidatable, Base):
    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text)
    docs_url: Mapped[str] = mapped_column(String(500))
    data_preparator_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    reference_model_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    demo_data_hash: Mapped[str] = mapped_column(String(64))
    release_policy: Mapped[ReleasePolicy]
    approval: Mapped[ApprovalStatus]
    stage: Mapped[Stage]
    created_at: Mapped[datetime]
    # The runner kinds the benchmark supports. NULL (benchmarks registered before
    # revision 0002) means every kind, so the column stays nullable.
    runners: Mapped[list[RunnerKind]] = mapped_column(
        JsonDocument(list[RunnerKind], when_null=every_runner_kind), nullable=True
    )
    # --- membership (issue 10, data policies): the agreement and auto-approval -------
    # NULL: no agreement required; NULL auto-approval (rows before 0005): never.
    agreement: Mapped[MembershipAgreement | None] = mapped_column(
        JsonDocument(MembershipAgreement), nullable=True
    )
    auto_approval: Mapped[AutoApprovalRule] = mapped_column(
        JsonDocument(AutoApprovalRule, when_null=AutoApprovalRule), nullable=True
    )
    # --- end of membership ------------------------------------------------------------
    # Disclosure control: the minimum cell size and the minimum number of sites.
    min_cell_count: Mapped[int] = mapped_column(Integer, server_default="10")
    min_sites: Mapped[int] = mapped_column(Integer, server_default="3")
    # Declared evidence (core.declarations). NULL (rows before 0012): none declared.
    metrics: Mapped[list[MetricDeclaration]] = mapped_column(
        JsonDocument(list[MetricDeclaration], when_null=list), nullable=True
    )
    subgroups: Mapped[list[SubgroupDeclaration]] = mapped_column(
        JsonDocument(list[SubgroupDeclaration], when_null=list), nullable=True
    )
    # Moves on (in the same transaction) with every change of what the leaderboard shows
    # of the benchmark's results: a result added or replaced, a model of them invalidated
    # (``sql_results``). Not an entity's field (no schema shows it, the audit log does not
    # hash it): each server process keeps the pooled board until it moves (services.kept_boards).
    results_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AgreementAcceptance(Base):
    """A data owner accepted a benchmark's membership agreement, pinned by its hash.

    Rows are only ever added; a new agreement (another hash) must be accepted anew."""

    __tablename__ = "agreement_acceptances"
    __table_args__ = (UniqueConstraint("benchmark_id", "user_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(
        ForeignKey("benchmarks.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime]

    account: Mapped[User] = relationship(lazy="joined")
    username: AssociationProxy[str] = association_proxy("account", "username")


class Dataset(Owned, Invalidatable, Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(200))
    data_preparator_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"))
    data_hash: Mapped[str] = mapped_column(String(64))
    statistics: Mapped[DatasetStatistics]
    stage: Mapped[Stage]
    created_at: Mapped[datetime]


class AssociationEvent(Base):
    """One move of an association (requested, approved, rejected, revoked): its history.

    Rows are only ever added (by the store, with each change of the association)."""

    __tablename__ = "association_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ApprovalStatus]
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    # Approved by the system at request time on the actor's (the benchmark owner's)
    # behalf, by the benchmark's auto-approval rule.
    automatic: Mapped[bool] = mapped_column(default=False, server_default=false())

    actor: Mapped[User] = relationship(lazy="joined")
    by: AssociationProxy[str] = association_proxy("actor", "username")


class Association(Base):
    """A dataset or a model cube joining a benchmark; ``entity_id`` is read by ``kind``."""

    __tablename__ = "associations"
    __table_args__ = (
        UniqueConstraint("benchmark_id", "kind", "entity_id"),
        Index("ix_associations_kind_entity", "kind", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id", ondelete="CASCADE"))
    kind: Mapped[AssociationKind]
    entity_id: Mapped[int]
    status: Mapped[ApprovalStatus]
    initiated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # A dataset's association: its owner's terms. NULL (rows before 0005): the default.
    policy: Mapped[DataPolicy] = mapped_column(
        JsonDocument(DataPolicy, when_null=DataPolicy), nullable=True
    )

    initiator: Mapped[User] = relationship(foreign_keys=[initiated_by_id], lazy="joined")
    decider: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")
    initiated_by: AssociationProxy[str] = association_proxy("initiator", "username")
    decided_by: AssociationProxy[str | None] = association_proxy("decider", "username")
    history: Mapped[list[AssociationEvent]] = relationship(
        order_by=AssociationEvent.id, lazy="selectin", viewonly=True
    )

    # ``entity_id`` has no foreign key (it points into one of two tables), so each side is
    # a read-only relationship joined on the kind.
    dataset_entity: Mapped[Dataset | None] = relationship(
        primaryjoin=lambda: and_(
            Association.kind == AssociationKind.DATASET,
            foreign(Association.entity_id) == Dataset.id,
        ),
        viewonly=True,
        lazy="joined",
    )
    model_entity: Mapped[Cube | None] = relationship(
        primaryjoin=lambda: and_(
            Association.kind == AssociationKind.MODEL,
            foreign(Association.entity_id) == Cube.id,
        ),
        viewonly=True,
        lazy="joined",
    )

    @property
    def entity(self) -> Dataset | Cube:
        entity = self.dataset_entity if self.kind is AssociationKind.DATASET else self.model_entity
        if entity is None:  # the store refuses dangling ids when it adds an association
            raise LookupError(f"association {self.id}: {self.kind.value} {self.entity_id} is gone")
        return entity

    @property
    def entity_name(self) -> str:
        return self.entity.name

    @property
    def entity_owner_id(self) -> int:
        return self.entity.owner_id


class Result(Base):
    """A model's execution on a dataset, as its data owner uploaded it: succeeded, with
    metrics (``document``), or failed, with a one-line ``failure`` and no metrics."""

    __tablename__ = "results"
    # One per phase: a model runs again on a dataset in each phase of the benchmark.
    __table_args__ = (UniqueConstraint("benchmark_id", "phase_id", "dataset_id", "model_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id", ondelete="CASCADE"))
    # The phase open when it was uploaded (core.phases); results before 0017: the
    # benchmark's first phase.
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("cubes.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ExecutionStatus] = mapped_column(server_default=ExecutionStatus.SUCCEEDED.value)
    document: Mapped[ResultDocument | None]
    failure: Mapped[str | None] = mapped_column(String(500))
    provenance: Mapped[Provenance]
    executed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # How many times it was uploaded: a data policy may limit a model's runs on a dataset.
    runs: Mapped[int] = mapped_column(default=1, server_default="1")
    # The uploader's signature over the result (NULL only for results uploaded before
    # revision 0009, when results were not signed yet).
    key_id: Mapped[str | None] = mapped_column(String(64), default=None)
    signature: Mapped[str | None] = mapped_column(String(88), default=None)
    # Its phase's publication (core.phases): released by the release policy (automatic,
    # published), or held for the committee, or withheld by it with a reason.
    publication: Mapped[ResultPublication] = mapped_column(
        server_default=ResultPublication.AUTOMATIC.value
    )
    publication_reason: Mapped[str | None] = mapped_column(String(500), default=None)

    phase_entity: Mapped[phase_models.Phase] = relationship(lazy="joined")
    dataset_entity: Mapped[Dataset] = relationship(lazy="joined")
    model_entity: Mapped[Cube] = relationship(lazy="joined")
    owner_account: Mapped[User] = relationship(lazy="joined")
    dataset: AssociationProxy[str] = association_proxy("dataset_entity", "name")
    dataset_owner_id: AssociationProxy[int] = association_proxy("dataset_entity", "owner_id")
    model: AssociationProxy[str] = association_proxy("model_entity", "name")
    model_owner_id: AssociationProxy[int] = association_proxy("model_entity", "owner_id")
    owner: AssociationProxy[str] = association_proxy("owner_account", "username")
    phase: AssociationProxy[str] = association_proxy("phase_entity", "name")


class AuditEntry(Base):
    """One entry of the server's audit log (``medval.trust.audit_chain``): who did what to
    which entity, when, its content hash before and after, chained to the entry before.

    Rows are only ever added, by the store as each transaction commits (``sql``)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity_kind", "entity_id"),)

    # Assigned by the store from the head (1, 2, ...), never by the database: a unique
    # number, so that two appends can never both take the same place in the chain.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(80))
    entity_kind: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    before_hash: Mapped[str | None] = mapped_column(String(64))
    after_hash: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The audit log's head, one row (id 1): how many entries, and the last one's hash.

    Every append locks and moves it (so appends queue up here, one at a time), and
    ``medval server audit verify`` checks the entries against it, which is how entries
    deleted at the end of the log show."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
