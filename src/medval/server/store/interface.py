"""The store interface: every read and write the services need, independent of the backend.

It speaks in the core's schemas: ``XCreate`` in, records (``records``: the ``XPublic``
schemas, frozen) out, so the interface does not change when an entity gains a field.

A service opens one ``StoreTransaction`` per use case (``with store.transaction() as tx``);
everything inside commits together or not at all. Methods that add a row raise
``Conflict`` when a uniqueness rule is broken; getters return ``None`` for unknown ids.

Every ``list_*`` method (and ``agreement_acceptances``) returns its rows in the order of
the list's sort key, which is unique: the row's id unless the method says otherwise. It
pages by that key (``core.paging``): ``after`` a key, only the rows after it; ``limit``,
at most that many rows; both None (the default), every row. A cursor with another
number of parts than the key's is ``InvalidInput``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from medval.core.membership_schemas import AutoApprovalRule, DataPolicy, MembershipAgreement
from medval.core.paging import Cursor
from medval.core.phases import ResultPublication
from medval.core.result_schemas import ResultCreate
from medval.core.schemas import AuditEntryPublic, BenchmarkCreate, CubeCreate, DatasetCreate
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind, Stage
from medval.server.store.attestation_interface import AttestationTransaction
from medval.server.store.model_keys_interface import ModelKeyTransaction
from medval.server.store.participation_interface import ParticipationTransaction
from medval.server.store.pending_work import PendingWork
from medval.server.store.phases_interface import PhaseTransaction
from medval.server.store.preparation_reports_interface import PreparationReportTransaction
from medval.server.store.quotas_interface import QuotaTransaction
from medval.server.store.records import (
    AgreementAcceptanceRecord,
    AssociationRecord,
    AssociationStanding,
    BenchmarkRecord,
    CubeRecord,
    DatasetRecord,
    LeaderboardRow,
    ResultRecord,
    SigningKeyRecord,
    TokenRecord,
    UserRecord,
)
from medval.server.store.training_interface import TrainingTransaction
from medval.trust.audit_chain import ChainHead

# Who the server's operator is in the audit log (``medval server create-admin``); a
# username cannot start with "(" so it cannot be taken by an account.
SERVER_OPERATOR = "(server operator)"


@dataclass(frozen=True)
class Actor:
    """Who a transaction's changes are recorded as done by in the audit log, and when."""

    name: str
    at: datetime


def unattributed() -> Actor:
    """For a transaction opened without an actor: its changes are logged, as nobody's.
    Every use case names its caller (``ServiceContext.transaction``); a test of every
    route checks that none is logged this way."""
    return Actor("(unattributed)", datetime.now(UTC))


class StoreTransaction(
    TrainingTransaction,
    ModelKeyTransaction,
    AttestationTransaction,
    PhaseTransaction,
    QuotaTransaction,
    ParticipationTransaction,
    PreparationReportTransaction,
    Protocol,
):
    """One unit of work against the store (federated training's part: ``TrainingTransaction``;
    private models' keys: ``ModelKeyTransaction``, and their ``attested`` release:
    ``AttestationTransaction``; benchmarks' phases: ``PhaseTransaction``;
    expected sites and institutions: ``ParticipationTransaction``; preparation reports:
    ``PreparationReportTransaction``)."""

    # --- accounts ---------------------------------------------------------------------
    def add_user(
        self, username: str, password_hash: str, is_admin: bool, now: datetime
    ) -> UserRecord: ...
    def user(self, user_id: int) -> UserRecord | None: ...
    def user_by_name(self, username: str) -> UserRecord | None: ...
    def password_hash(self, user_id: int) -> str | None:
        """Only for checking a password at login: records never carry it."""
        ...

    def list_users(
        self, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[UserRecord]: ...
    def add_token(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None: ...
    def token(self, token_hash: str) -> TokenRecord | None: ...
    def delete_token(self, token_hash: str) -> None: ...
    def set_password_hash(self, user_id: int, password_hash: str) -> None: ...
    def set_user_disabled(self, user_id: int, disabled: bool) -> UserRecord: ...
    def delete_tokens(self, user_id: int, keep_hash: str | None = None) -> int:
        """Revoke every token of the account but ``keep_hash``; how many were revoked."""
        ...

    # --- signing keys -----------------------------------------------------------------
    def add_signing_key(
        self, owner_id: int, key_id: str, public_key: str, now: datetime
    ) -> SigningKeyRecord:
        """A new current key of ``owner_id``; the owner's keys that were current are
        retired at ``now`` (keys are never deleted)."""
        ...

    def signing_key(self, key_id: str) -> SigningKeyRecord | None: ...
    def list_signing_keys(
        self,
        owner_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[SigningKeyRecord]: ...

    # --- blobs (the bytes live in ``BlobStore``; here, who holds them) --------------------
    def add_blob_owner(self, sha256: str, user_id: int, now: datetime) -> None:
        """``user_id`` uploaded the whole blob (again: nothing changes)."""
        ...

    def blob_owner_ids(self, sha256: str) -> list[int]: ...
    def start_blob_upload(self, sha256: str, user_id: int, now: datetime) -> None:
        """``user_id`` starts the blob's upload afresh: the part held is theirs now."""
        ...

    def blob_uploader_id(self, sha256: str) -> int | None: ...
    def cubes_with_blob(self, sha256: str) -> list[CubeRecord]:
        """Cubes whose archive or image archive is this blob."""
        ...

    def benchmarks_with_demo_data(self, sha256: str) -> list[BenchmarkRecord]: ...

    # --- cubes ------------------------------------------------------------------------
    def add_cube(self, owner_id: int, cube: CubeCreate, now: datetime) -> CubeRecord: ...
    def cube(self, cube_id: int) -> CubeRecord | None: ...
    def list_cubes(
        self,
        kind: CubeKind | None = None,
        owner_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[CubeRecord]: ...
    def set_cube_stage(self, cube_id: int, stage: Stage) -> CubeRecord: ...
    def invalidate_cube(self, cube_id: int, by_id: int, now: datetime) -> CubeRecord: ...

    # --- benchmarks -------------------------------------------------------------------
    def add_benchmark(
        self, owner_id: int, benchmark: BenchmarkCreate, now: datetime
    ) -> BenchmarkRecord: ...
    def benchmark(self, benchmark_id: int) -> BenchmarkRecord | None: ...
    def list_benchmarks(
        self, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[BenchmarkRecord]: ...
    def set_benchmark_stage(self, benchmark_id: int, stage: Stage) -> BenchmarkRecord: ...
    def set_benchmark_approval(
        self, benchmark_id: int, approval: ApprovalStatus
    ) -> BenchmarkRecord: ...
    def invalidate_benchmark(
        self, benchmark_id: int, by_id: int, now: datetime
    ) -> BenchmarkRecord: ...

    # --- membership: the agreement, its acceptances, auto-approval ---------------------
    def set_benchmark_agreement(
        self, benchmark_id: int, agreement: MembershipAgreement | None
    ) -> BenchmarkRecord: ...
    def set_benchmark_auto_approval(
        self, benchmark_id: int, rule: AutoApprovalRule
    ) -> BenchmarkRecord: ...
    def add_agreement_acceptance(
        self, benchmark_id: int, user_id: int, sha256: str, now: datetime
    ) -> AgreementAcceptanceRecord:
        """Conflict when this user already accepted this agreement (this hash)."""
        ...

    def agreement_acceptances(
        self,
        benchmark_id: int,
        user_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[AgreementAcceptanceRecord]: ...

    # --- datasets ---------------------------------------------------------------------
    def add_dataset(
        self, owner_id: int, dataset: DatasetCreate, now: datetime
    ) -> DatasetRecord: ...
    def dataset(self, dataset_id: int) -> DatasetRecord | None: ...
    def list_datasets(
        self,
        owner_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[DatasetRecord]: ...
    def set_dataset_stage(self, dataset_id: int, stage: Stage) -> DatasetRecord: ...
    def invalidate_dataset(self, dataset_id: int, by_id: int, now: datetime) -> DatasetRecord: ...

    # --- associations -----------------------------------------------------------------
    def add_association(
        self,
        benchmark_id: int,
        kind: AssociationKind,
        entity_id: int,
        initiated_by_id: int,
        now: datetime,
    ) -> AssociationRecord:
        """A new association, pending. Every change of an association (this one, a
        decision, a reopening) adds a move to its ``history``."""
        ...

    def association(self, association_id: int) -> AssociationRecord | None: ...
    def list_associations(
        self,
        benchmark_id: int | None = None,
        kind: AssociationKind | None = None,
        status: ApprovalStatus | None = None,
        entity_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[AssociationRecord]: ...
    def association_standing(
        self, benchmark_id: int, kind: AssociationKind, entity_id: int
    ) -> AssociationStanding | None:
        """The status and policy of the entity's association with the benchmark (None:
        not associated): what ``list_associations`` says of it, in two columns."""
        ...

    def decide_association(
        self,
        association_id: int,
        status: ApprovalStatus,
        decided_by_id: int,
        now: datetime,
        automatic: bool = False,
        because: str | None = None,
    ) -> AssociationRecord:
        """Approved, rejected or revoked, by whom and when; ``automatic``: approved by the
        system on ``decided_by_id``'s behalf (the benchmark's auto-approval rule, or the
        site is expected); ``because``: why, in the audit entry's action."""
        ...

    def set_association_policy(
        self, association_id: int, policy: DataPolicy
    ) -> AssociationRecord: ...

    def participates(self, benchmark_id: int, user_id: int) -> bool:
        """Whether the user owns a dataset or a model with an approved association on the
        benchmark: what ``list_associations`` would say, in one query, not a record of each
        of a thousand sites."""
        ...

    def reopen_association(
        self, association_id: int, initiated_by_id: int, now: datetime
    ) -> AssociationRecord:
        """Requested again (after a rejection or a revocation): pending, undecided."""
        ...

    # --- results ----------------------------------------------------------------------
    def add_result(
        self,
        owner_id: int,
        result: ResultCreate,
        now: datetime,
        phase_id: int | None = None,
        publication: ResultPublication = ResultPublication.AUTOMATIC,
    ) -> ResultRecord:
        """A result of phase ``phase_id`` (None: the benchmark's phase open at ``now``,
        ``core.phases.phase_open_at``; InvalidTransition when none is), with its
        ``publication`` as uploaded."""
        ...

    def replace_result(
        self,
        result_id: int,
        owner_id: int,
        result: ResultCreate,
        now: datetime,
        publication: ResultPublication = ResultPublication.AUTOMATIC,
    ) -> ResultRecord:
        """Everything of result ``result_id`` from ``result`` (of the same benchmark,
        dataset and model, else Conflict), as uploaded at ``now``; one more ``runs``;
        in the same phase, its publication ``publication`` again."""
        ...

    def result(self, result_id: int) -> ResultRecord | None: ...
    def list_results(
        self,
        benchmark_id: int | None = None,
        dataset_id: int | None = None,
        model_id: int | None = None,
        *,
        phase_id: int | None = None,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[ResultRecord]: ...

    # --- pending work -----------------------------------------------------------------
    def pending_work(self, owner_id: int) -> PendingWork:
        """What the pending work of ``owner_id``'s datasets is made of, in a fixed number
        of queries however many rows: the owner's approved dataset associations on approved
        benchmarks in operation, those benchmarks with their preparation and evaluator
        cubes, the benchmarks' approved models, and the results of the owner's datasets
        there. What is invalidated is still in it: judging that is the services'."""
        ...

    # --- what a leaderboard reads -------------------------------------------------------
    def leaderboard_rows(
        self, benchmark_id: int, phase_id: int | None = None
    ) -> list[LeaderboardRow]:
        """The benchmark's results as the leaderboard reads them (of phase ``phase_id``;
        None: of every phase), in the order they were first uploaded: only those released
        by the release policy (``ResultPublication.shown``), never a held or withheld one."""
        ...

    def results_revision(self, benchmark_id: int) -> int:
        """A number that moves on, in the same transaction, with every change of what the
        benchmark's leaderboard shows of its results: a result added or replaced, a model
        they are of invalidated. Read it before the results it stands for: what is read
        after is then at least that new. 0 for an unknown benchmark."""
        ...

    # --- audit trail ------------------------------------------------------------------
    # Every row added or changed above is logged by the store itself; only a change that
    # is not a row (a blob's upload) is recorded here, by its service.
    def record_change(
        self,
        entity_kind: str,
        entity_id: str,
        action: str,
        before_hash: str | None,
        after_hash: str | None,
    ) -> None: ...
    def list_audit_entries(
        self,
        entity_kind: str | None = None,
        entity_ids: list[str] | None = None,
        actor: str | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[AuditEntryPublic]:
        """In the log's order: the sort key is ``(seq,)``."""
        ...

    def audit_head(self) -> ChainHead: ...


class Store(Protocol):
    """A database the server keeps its state in, chosen by URL."""

    def transaction(self, actor: Actor | None = None) -> AbstractContextManager[StoreTransaction]:
        """Every change made in it is appended to the audit log as done by ``actor``,
        in the same transaction."""
        ...

    def close(self) -> None: ...
