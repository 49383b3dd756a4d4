"""The one store implementation: SQLAlchemy, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from medval.core.documents import DatasetStatistics, Provenance, ResultDocument
from medval.core.errors import Conflict, NotFound
from medval.core.schemas import BenchmarkCreate, CubeCreate, DatasetCreate, ResultCreate
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind, RunnerKind, Stage
from medval.server.store import models as m
from medval.server.store.database import create_database_engine
from medval.server.store.records import (
    AssociationRecord,
    BenchmarkRecord,
    CubeRecord,
    DatasetRecord,
    ResultRecord,
    TokenRecord,
    UserRecord,
)

_Row = TypeVar("_Row", bound=m.Base)


class SqlStore:
    """A ``Store`` on a SQLAlchemy engine. The schema must already be migrated."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        return cls(create_database_engine(url))

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._sessions.begin() as session:
            yield SqlTransaction(session)

    def close(self) -> None:
        self.engine.dispose()


class SqlTransaction:
    """One session; ``add_*`` flush at once so a broken uniqueness rule surfaces here."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, row: m.Base, what: str) -> None:
        self.session.add(row)
        try:
            self.session.flush()
        except IntegrityError as exc:
            # Services check references first; a foreign key failure here is a race or a bug.
            if "foreign key" in str(exc.orig).lower():
                raise NotFound(f"{what} refers to a row that does not exist") from exc
            raise Conflict(f"{what} already exists") from exc
        self.session.refresh(row)

    def _get(self, model: type[_Row], row_id: int, what: str) -> _Row:
        row = self.session.get(model, row_id)
        if row is None:
            raise NotFound(f"{what} {row_id} does not exist")
        return row

    # --- accounts ---------------------------------------------------------------------

    def add_user(
        self, username: str, password_hash: str, is_admin: bool, now: datetime
    ) -> UserRecord:
        row = m.User(
            username=username, password_hash=password_hash, is_admin=is_admin, created_at=now
        )
        self._insert(row, f"a user named {username!r}")
        return _user(row)

    def user(self, user_id: int) -> UserRecord | None:
        row = self.session.get(m.User, user_id)
        return _user(row) if row else None

    def user_by_name(self, username: str) -> UserRecord | None:
        row = self.session.scalar(select(m.User).where(m.User.username == username))
        return _user(row) if row else None

    def list_users(self) -> list[UserRecord]:
        return [_user(r) for r in self.session.scalars(select(m.User).order_by(m.User.id))]

    def add_token(self, token_hash: str, user_id: int, now: datetime, expires_at: datetime) -> None:
        row = m.ApiToken(
            token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
        self._insert(row, "token")

    def token(self, token_hash: str) -> TokenRecord | None:
        row = self.session.scalar(select(m.ApiToken).where(m.ApiToken.token_hash == token_hash))
        return TokenRecord(_user(row.user), row.expires_at) if row else None

    def delete_token(self, token_hash: str) -> None:
        row = self.session.scalar(select(m.ApiToken).where(m.ApiToken.token_hash == token_hash))
        if row is not None:
            self.session.delete(row)
            self.session.flush()

    # --- cubes ------------------------------------------------------------------------

    def add_cube(self, owner_id: int, cube: CubeCreate, now: datetime) -> CubeRecord:
        row = m.Cube(
            name=cube.name,
            kind=cube.kind,
            archive_hash=cube.archive_hash,
            owner_id=owner_id,
            stage=cube.stage,
            created_at=now,
            image_digest=cube.image_digest,
            image_archive_hash=cube.image_archive_hash,
        )
        self._insert(row, f"a cube named {cube.name!r} of this owner")
        return _cube(row)

    def cube(self, cube_id: int) -> CubeRecord | None:
        row = self.session.get(m.Cube, cube_id)
        return _cube(row) if row else None

    def list_cubes(
        self, kind: CubeKind | None = None, owner_id: int | None = None
    ) -> list[CubeRecord]:
        query = select(m.Cube).order_by(m.Cube.id)
        if kind is not None:
            query = query.where(m.Cube.kind == kind)
        if owner_id is not None:
            query = query.where(m.Cube.owner_id == owner_id)
        return [_cube(r) for r in self.session.scalars(query)]

    def set_cube_stage(self, cube_id: int, stage: Stage) -> CubeRecord:
        row = self._get(m.Cube, cube_id, "cube")
        row.stage = stage
        self.session.flush()
        return _cube(row)

    # --- benchmarks -------------------------------------------------------------------

    def add_benchmark(
        self, owner_id: int, benchmark: BenchmarkCreate, now: datetime
    ) -> BenchmarkRecord:
        row = m.Benchmark(
            **benchmark.model_dump(exclude={"runners"}),
            runners=[kind.value for kind in benchmark.runners],
            owner_id=owner_id,
            approval=ApprovalStatus.PENDING,
            created_at=now,
        )
        self._insert(row, f"a benchmark named {benchmark.name!r}")
        return _benchmark(row)

    def benchmark(self, benchmark_id: int) -> BenchmarkRecord | None:
        row = self.session.get(m.Benchmark, benchmark_id)
        return _benchmark(row) if row else None

    def list_benchmarks(self) -> list[BenchmarkRecord]:
        query = select(m.Benchmark).order_by(m.Benchmark.id)
        return [_benchmark(r) for r in self.session.scalars(query)]

    def set_benchmark_stage(self, benchmark_id: int, stage: Stage) -> BenchmarkRecord:
        row = self._get(m.Benchmark, benchmark_id, "benchmark")
        row.stage = stage
        self.session.flush()
        return _benchmark(row)

    def set_benchmark_approval(
        self, benchmark_id: int, approval: ApprovalStatus
    ) -> BenchmarkRecord:
        row = self._get(m.Benchmark, benchmark_id, "benchmark")
        row.approval = approval
        self.session.flush()
        return _benchmark(row)

    # --- datasets ---------------------------------------------------------------------

    def add_dataset(self, owner_id: int, dataset: DatasetCreate, now: datetime) -> DatasetRecord:
        row = m.Dataset(
            **dataset.model_dump(exclude={"statistics"}),
            statistics=dataset.statistics.model_dump(mode="json"),
            owner_id=owner_id,
            created_at=now,
        )
        self._insert(row, f"a dataset named {dataset.name!r} of this owner")
        return _dataset(row)

    def dataset(self, dataset_id: int) -> DatasetRecord | None:
        row = self.session.get(m.Dataset, dataset_id)
        return _dataset(row) if row else None

    def list_datasets(self, owner_id: int | None = None) -> list[DatasetRecord]:
        query = select(m.Dataset).order_by(m.Dataset.id)
        if owner_id is not None:
            query = query.where(m.Dataset.owner_id == owner_id)
        return [_dataset(r) for r in self.session.scalars(query)]

    def set_dataset_stage(self, dataset_id: int, stage: Stage) -> DatasetRecord:
        row = self._get(m.Dataset, dataset_id, "dataset")
        row.stage = stage
        self.session.flush()
        return _dataset(row)

    # --- associations -----------------------------------------------------------------

    def add_association(
        self,
        benchmark_id: int,
        kind: AssociationKind,
        entity_id: int,
        initiated_by_id: int,
        now: datetime,
    ) -> AssociationRecord:
        self._entity(kind, entity_id)  # refuse dangling ids: there is no foreign key here
        row = m.Association(
            benchmark_id=benchmark_id,
            kind=kind,
            entity_id=entity_id,
            status=ApprovalStatus.PENDING,
            initiated_by_id=initiated_by_id,
            created_at=now,
        )
        self._insert(row, f"an association of {kind.value} {entity_id} with this benchmark")
        return self._association(row)

    def association(self, association_id: int) -> AssociationRecord | None:
        row = self.session.get(m.Association, association_id)
        return self._association(row) if row else None

    def list_associations(
        self,
        benchmark_id: int | None = None,
        kind: AssociationKind | None = None,
        status: ApprovalStatus | None = None,
        entity_id: int | None = None,
    ) -> list[AssociationRecord]:
        query = select(m.Association).order_by(m.Association.id)
        if benchmark_id is not None:
            query = query.where(m.Association.benchmark_id == benchmark_id)
        if kind is not None:
            query = query.where(m.Association.kind == kind)
        if status is not None:
            query = query.where(m.Association.status == status)
        if entity_id is not None:
            query = query.where(m.Association.entity_id == entity_id)
        return [self._association(r) for r in self.session.scalars(query)]

    def decide_association(
        self, association_id: int, status: ApprovalStatus, decided_by_id: int, now: datetime
    ) -> AssociationRecord:
        row = self._get(m.Association, association_id, "association")
        row.status = status
        row.decided_by_id = decided_by_id
        row.decided_at = now
        self.session.flush()
        self.session.refresh(row)
        return self._association(row)

    def _entity(self, kind: AssociationKind, entity_id: int) -> m.Dataset | m.Cube:
        if kind is AssociationKind.DATASET:
            return self._get(m.Dataset, entity_id, "dataset")
        return self._get(m.Cube, entity_id, "cube")

    def _association(self, row: m.Association) -> AssociationRecord:
        entity = self._entity(row.kind, row.entity_id)
        return AssociationRecord(
            id=row.id,
            benchmark_id=row.benchmark_id,
            kind=row.kind,
            entity_id=row.entity_id,
            entity_name=entity.name,
            entity_owner_id=entity.owner_id,
            status=row.status,
            initiated_by_id=row.initiated_by_id,
            initiated_by=row.initiated_by.username,
            decided_by_id=row.decided_by_id,
            decided_by=row.decided_by.username if row.decided_by else None,
            created_at=row.created_at,
            decided_at=row.decided_at,
        )

    # --- results ----------------------------------------------------------------------

    def add_result(self, owner_id: int, result: ResultCreate, now: datetime) -> ResultRecord:
        row = m.Result(
            benchmark_id=result.benchmark_id,
            dataset_id=result.dataset_id,
            model_id=result.model_id,
            owner_id=owner_id,
            document=result.document.model_dump(mode="json"),
            provenance=result.provenance.model_dump(mode="json"),
            created_at=now,
        )
        self._insert(row, "a result of this model on this dataset and benchmark")
        return _result(row)

    def result(self, result_id: int) -> ResultRecord | None:
        row = self.session.get(m.Result, result_id)
        return _result(row) if row else None

    def list_results(
        self,
        benchmark_id: int | None = None,
        dataset_id: int | None = None,
        model_id: int | None = None,
    ) -> list[ResultRecord]:
        query = select(m.Result).order_by(m.Result.id)
        if benchmark_id is not None:
            query = query.where(m.Result.benchmark_id == benchmark_id)
        if dataset_id is not None:
            query = query.where(m.Result.dataset_id == dataset_id)
        if model_id is not None:
            query = query.where(m.Result.model_id == model_id)
        return [_result(r) for r in self.session.scalars(query)]


def _user(row: m.User) -> UserRecord:
    return UserRecord(row.id, row.username, row.password_hash, row.is_admin, row.created_at)


def _cube(row: m.Cube) -> CubeRecord:
    return CubeRecord(
        id=row.id,
        name=row.name,
        kind=row.kind,
        archive_hash=row.archive_hash,
        owner_id=row.owner_id,
        owner=row.owner.username,
        stage=row.stage,
        created_at=row.created_at,
        image_digest=row.image_digest,
        image_archive_hash=row.image_archive_hash,
    )


def _benchmark(row: m.Benchmark) -> BenchmarkRecord:
    return BenchmarkRecord(
        id=row.id,
        name=row.name,
        description=row.description,
        docs_url=row.docs_url,
        owner_id=row.owner_id,
        owner=row.owner.username,
        data_preparator_id=row.data_preparator_id,
        reference_model_id=row.reference_model_id,
        evaluator_id=row.evaluator_id,
        demo_data_hash=row.demo_data_hash,
        release_policy=row.release_policy,
        approval=row.approval,
        stage=row.stage,
        created_at=row.created_at,
        runners=tuple(RunnerKind(kind) for kind in row.runners)
        if row.runners is not None
        else tuple(RunnerKind),
    )


def _dataset(row: m.Dataset) -> DatasetRecord:
    return DatasetRecord(
        id=row.id,
        name=row.name,
        description=row.description,
        location=row.location,
        owner_id=row.owner_id,
        owner=row.owner.username,
        data_preparator_id=row.data_preparator_id,
        data_hash=row.data_hash,
        statistics=DatasetStatistics.model_validate(row.statistics),
        stage=row.stage,
        created_at=row.created_at,
    )


def _result(row: m.Result) -> ResultRecord:
    return ResultRecord(
        id=row.id,
        benchmark_id=row.benchmark_id,
        dataset_id=row.dataset_id,
        dataset=row.dataset.name,
        dataset_owner_id=row.dataset.owner_id,
        model_id=row.model_id,
        model=row.model.name,
        model_owner_id=row.model.owner_id,
        owner_id=row.owner_id,
        owner=row.owner.username,
        document=ResultDocument.model_validate(row.document),
        provenance=Provenance.model_validate(row.provenance),
        created_at=row.created_at,
    )
