"""The one store implementation: SQLAlchemy, on SQLite or PostgreSQL.

No field is listed here. A row is made from a ``XCreate`` schema by name
(``Model(**dict(body), **what_the_server_sets)``: each field goes to the column of the
same name) and read back as a record validated from the row (``records``). The methods
only say which rows: filters, order, uniqueness and the errors a caller can cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import sessionmaker

from medval.core.membership_schemas import DataPolicy
from medval.core.paging import Cursor
from medval.core.schemas import BenchmarkCreate, CubeCreate, DatasetCreate
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind, Stage
from medval.server.store import models as m
from medval.server.store.database import create_database_engine
from medval.server.store.interface import Actor, unattributed
from medval.server.store.records import (
    AssociationRecord,
    AssociationStanding,
    BenchmarkRecord,
    CubeRecord,
    DatasetRecord,
)
from medval.server.store.sql_accounts import SqlAccountRows
from medval.server.store.sql_attestation import SqlAttestationRows
from medval.server.store.sql_audit import SqlAuditRows
from medval.server.store.sql_membership import SqlMembershipRows
from medval.server.store.sql_model_keys import SqlModelKeyRows
from medval.server.store.sql_participation import SqlParticipationRows
from medval.server.store.sql_pending import SqlPendingRows
from medval.server.store.sql_phases import SqlPhaseRows
from medval.server.store.sql_preparation_reports import SqlPreparationReportRows
from medval.server.store.sql_quotas import SqlQuotaRows
from medval.server.store.sql_rows import matching, paged
from medval.server.store.sql_training import SqlTrainingRows


class SqlStore:
    """A ``Store`` on a SQLAlchemy engine. The schema must already be migrated."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        return cls(create_database_engine(url))

    @contextmanager
    def transaction(self, actor: Actor | None = None) -> Iterator[SqlTransaction]:
        with self._sessions.begin() as session:
            tx = SqlTransaction(session, actor or unattributed())
            yield tx
            # Only when the use case succeeded: its changes, the results revisions they
            # move on (``sql_results``) and their audit entries commit together, in that
            # order of locks.
            tx.move_results_revisions()
            tx.audit.append_entries()

    def close(self) -> None:
        self.engine.dispose()


class SqlTransaction(
    SqlAccountRows,
    SqlPendingRows,
    SqlPhaseRows,
    SqlQuotaRows,
    SqlTrainingRows,
    SqlModelKeyRows,
    SqlAttestationRows,
    SqlMembershipRows,
    SqlPreparationReportRows,
    SqlParticipationRows,
    SqlAuditRows,
):
    """One unit of work: the generic part is ``sql_rows``; accounts, signing keys and
    blobs, ``sql_accounts``; pending work, ``sql_pending``; results and what a leaderboard
    reads, ``sql_results``; a benchmark's membership agreement and auto-approval,
    ``sql_membership``; phases and publication, ``sql_phases``; quotas, counting
    entries and priorities, ``sql_quotas``; training, ``sql_training``; private models'
    keys, ``sql_model_keys``, their attested release, ``sql_attestation``; expected sites
    and institutions, ``sql_participation``; preparation reports,
    ``sql_preparation_reports``; the audit log, ``sql_audit``."""

    # --- cubes ------------------------------------------------------------------------

    def add_cube(self, owner_id: int, cube: CubeCreate, now: datetime) -> CubeRecord:
        row = m.Cube(**dict(cube), owner_id=owner_id, created_at=now)
        what = f"a cube named {cube.name!r} of this owner"
        return CubeRecord.model_validate(self._insert(row, what))

    def cube(self, cube_id: int) -> CubeRecord | None:
        return self._find(CubeRecord, m.Cube, cube_id)

    def list_cubes(
        self,
        kind: CubeKind | None = None,
        owner_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[CubeRecord]:
        query = matching(select(m.Cube), (m.Cube.kind, kind), (m.Cube.owner_id, owner_id))
        return self._list(CubeRecord, paged(query, [m.Cube.id], after, limit))

    def set_cube_stage(self, cube_id: int, stage: Stage) -> CubeRecord:
        return self._change(CubeRecord, m.Cube, cube_id, "cube", "stage", stage=stage)

    def invalidate_cube(self, cube_id: int, by_id: int, now: datetime) -> CubeRecord:
        self._model_changed(cube_id)  # a board marks an invalidated model
        return self._change(
            CubeRecord,
            m.Cube,
            cube_id,
            "cube",
            "invalidate",
            invalidated_at=now,
            invalidated_by_id=by_id,
        )

    # --- benchmarks -------------------------------------------------------------------

    def add_benchmark(
        self, owner_id: int, benchmark: BenchmarkCreate, now: datetime
    ) -> BenchmarkRecord:
        row = m.Benchmark(
            **dict(benchmark), owner_id=owner_id, approval=ApprovalStatus.PENDING, created_at=now
        )
        what = f"a benchmark named {benchmark.name!r}"
        added = BenchmarkRecord.model_validate(self._insert(row, what))
        # A benchmark is a benchmark with phases: registered with its first one.
        self.add_default_phase(added.id, now)
        return added

    def benchmark(self, benchmark_id: int) -> BenchmarkRecord | None:
        return self._find(BenchmarkRecord, m.Benchmark, benchmark_id)

    def list_benchmarks(
        self, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[BenchmarkRecord]:
        query = paged(select(m.Benchmark), [m.Benchmark.id], after, limit)
        return self._list(BenchmarkRecord, query)

    def set_benchmark_stage(self, benchmark_id: int, stage: Stage) -> BenchmarkRecord:
        return self._change(
            BenchmarkRecord, m.Benchmark, benchmark_id, "benchmark", "stage", stage=stage
        )

    def set_benchmark_approval(
        self, benchmark_id: int, approval: ApprovalStatus
    ) -> BenchmarkRecord:
        return self._change(
            BenchmarkRecord,
            m.Benchmark,
            benchmark_id,
            "benchmark",
            approval.value,
            approval=approval,
        )

    def invalidate_benchmark(self, benchmark_id: int, by_id: int, now: datetime) -> BenchmarkRecord:
        return self._change(
            BenchmarkRecord,
            m.Benchmark,
            benchmark_id,
            "benchmark",
            "invalidate",
            invalidated_at=now,
            invalidated_by_id=by_id,
        )

    # --- datasets ---------------------------------------------------------------------

    def add_dataset(self, owner_id: int, dataset: DatasetCreate, now: datetime) -> DatasetRecord:
        row = m.Dataset(**dict(dataset), owner_id=owner_id, created_at=now)
        what = f"a dataset named {dataset.name!r} of this owner"
        return DatasetRecord.model_validate(self._insert(row, what))

    def dataset(self, dataset_id: int) -> DatasetRecord | None:
        return self._find(DatasetRecord, m.Dataset, dataset_id)

    def list_datasets(
        self,
        owner_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[DatasetRecord]:
        query = matching(select(m.Dataset), (m.Dataset.owner_id, owner_id))
        return self._list(DatasetRecord, paged(query, [m.Dataset.id], after, limit))

    def set_dataset_stage(self, dataset_id: int, stage: Stage) -> DatasetRecord:
        return self._change(DatasetRecord, m.Dataset, dataset_id, "dataset", "stage", stage=stage)

    def invalidate_dataset(self, dataset_id: int, by_id: int, now: datetime) -> DatasetRecord:
        return self._change(
            DatasetRecord,
            m.Dataset,
            dataset_id,
            "dataset",
            "invalidate",
            invalidated_at=now,
            invalidated_by_id=by_id,
        )

    # --- associations -----------------------------------------------------------------

    def add_association(
        self,
        benchmark_id: int,
        kind: AssociationKind,
        entity_id: int,
        initiated_by_id: int,
        now: datetime,
    ) -> AssociationRecord:
        # Refuse dangling ids: ``entity_id`` has no foreign key to do it.
        if kind is AssociationKind.DATASET:
            self._get(m.Dataset, entity_id, "dataset")
        else:
            self._get(m.Cube, entity_id, "cube")
        row = m.Association(
            benchmark_id=benchmark_id,
            kind=kind,
            entity_id=entity_id,
            status=ApprovalStatus.PENDING,
            initiated_by_id=initiated_by_id,
            created_at=now,
        )
        what = f"an association of {kind.value} {entity_id} with this benchmark"
        added = self._insert(row, what)
        return self._record_move(added.id, ApprovalStatus.PENDING, initiated_by_id, now)

    def association(self, association_id: int) -> AssociationRecord | None:
        return self._find(AssociationRecord, m.Association, association_id)

    def list_associations(
        self,
        benchmark_id: int | None = None,
        kind: AssociationKind | None = None,
        status: ApprovalStatus | None = None,
        entity_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[AssociationRecord]:
        query = matching(
            select(m.Association),
            (m.Association.benchmark_id, benchmark_id),
            (m.Association.kind, kind),
            (m.Association.status, status),
            (m.Association.entity_id, entity_id),
        )
        return self._list(AssociationRecord, paged(query, [m.Association.id], after, limit))

    def association_standing(
        self, benchmark_id: int, kind: AssociationKind, entity_id: int
    ) -> AssociationStanding | None:
        found = self.session.execute(
            select(m.Association.status, m.Association.policy).where(
                m.Association.benchmark_id == benchmark_id,
                m.Association.kind == kind,
                m.Association.entity_id == entity_id,
            )
        ).one_or_none()
        return AssociationStanding(found[0], found[1]) if found is not None else None

    def decide_association(
        self,
        association_id: int,
        status: ApprovalStatus,
        decided_by_id: int,
        now: datetime,
        automatic: bool = False,
        because: str | None = None,
    ) -> AssociationRecord:
        action = f"auto-{status.value}" if automatic else status.value
        self._change(
            AssociationRecord,
            m.Association,
            association_id,
            "association",
            f"{action} ({because})" if because else action,
            status=status,
            decided_by_id=decided_by_id,
            decided_at=now,
        )
        return self._record_move(association_id, status, decided_by_id, now, automatic)

    def set_association_policy(self, association_id: int, policy: DataPolicy) -> AssociationRecord:
        return self._change(
            AssociationRecord,
            m.Association,
            association_id,
            "association",
            "set policy",
            policy=policy,
        )

    def participates(self, benchmark_id: int, user_id: int) -> bool:
        approved = (
            m.Association.benchmark_id == benchmark_id,
            m.Association.status == ApprovalStatus.APPROVED,
        )
        owned = [
            select(m.Association.id)
            .join(entity, (m.Association.kind == kind) & (entity.id == m.Association.entity_id))
            .where(*approved, entity.owner_id == user_id)
            for kind, entity in (
                (AssociationKind.DATASET, m.Dataset),
                (AssociationKind.MODEL, m.Cube),
            )
        ]
        return bool(self.session.scalar(select(exists(owned[0]) | exists(owned[1]))))

    def reopen_association(
        self, association_id: int, initiated_by_id: int, now: datetime
    ) -> AssociationRecord:
        self._change(
            AssociationRecord,
            m.Association,
            association_id,
            "association",
            "reopen",
            status=ApprovalStatus.PENDING,
            initiated_by_id=initiated_by_id,
            decided_by_id=None,
            decided_at=None,
        )
        return self._record_move(association_id, ApprovalStatus.PENDING, initiated_by_id, now)

    def _record_move(
        self,
        association_id: int,
        status: ApprovalStatus,
        actor_id: int,
        now: datetime,
        automatic: bool = False,
    ) -> AssociationRecord:
        """Every change of an association is kept in its history, here and nowhere else."""
        event = m.AssociationEvent(
            association_id=association_id,
            status=status,
            actor_id=actor_id,
            at=now,
            automatic=automatic,
        )
        self._insert(event, "an association event")
        row = self._get(m.Association, association_id, "association")
        self.session.refresh(row)  # reloads the history with the new move
        return AssociationRecord.model_validate(row)
