"""The SQL store's part for one data owner's pending work, on ``SqlRows``: five queries,
whatever the number of benchmarks, datasets, models and results (a test counts them).

Columns, not ORM objects: pending work reads a few fields of thousands of rows, and only
those are selected (``pending_work``'s records). Every query is scoped by the same rule
(``_offered``): the owner's approved dataset associations on approved benchmarks in
operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row, Select, and_, or_, select
from sqlalchemy.orm import aliased

from medval.core.states import ApprovalStatus, AssociationKind, Stage
from medval.server.store import models as m
from medval.server.store.pending_work import (
    PendingWork,
    WorkBenchmark,
    WorkCube,
    WorkDataset,
    WorkPhase,
    WorkResult,
)
from medval.server.store.phase_models import Phase
from medval.server.store.sql_rows import SqlRows

if TYPE_CHECKING:
    Rows = Select[*tuple[Any, ...]]  # a query of any columns

_Query = TypeVar("_Query", bound="Rows")


def _offered(query: _Query, association: Any, owner_id: int) -> _Query:
    """``query`` (which selects from ``association``, an alias of the associations)
    narrowed to the owner's approved dataset associations on approved benchmarks in
    operation."""
    return (
        query.join(
            m.Dataset,
            and_(
                association.kind == AssociationKind.DATASET,
                m.Dataset.id == association.entity_id,
            ),
        )
        .join(m.Benchmark, m.Benchmark.id == association.benchmark_id)
        .where(
            association.status == ApprovalStatus.APPROVED,
            m.Dataset.owner_id == owner_id,
            m.Benchmark.approval == ApprovalStatus.APPROVED,
            m.Benchmark.stage == Stage.OPERATION,
        )
    )


def _offered_benchmark_ids(owner_id: int) -> Rows:
    # Its own alias: a subquery on the table of the query around it would correlate.
    association = aliased(m.Association)
    return _offered(select(association.benchmark_id), association, owner_id)


def _cubes(query: _Query) -> Rows:
    """``query`` with the columns of a ``WorkCube`` added (the cubes already in its FROM)."""
    owner, invalidator = aliased(m.User), aliased(m.User)
    return (
        query.add_columns(
            m.Cube.id,
            m.Cube.name,
            m.Cube.kind,
            owner.username,
            m.Cube.archive_hash,
            m.Cube.invalidated_at,
            invalidator.username,
        )
        .join(owner, owner.id == m.Cube.owner_id)
        .outerjoin(invalidator, invalidator.id == m.Cube.invalidated_by_id)
    )


class SqlPendingRows(SqlRows):
    def pending_work(self, owner_id: int) -> PendingWork:
        # Core, not the ORM: rows of columns need no identity map, and cost half as much.
        connection = self.session.connection()

        def rows(query: Rows) -> Sequence[Row[*tuple[Any, ...]]]:
            return connection.execute(query).all()

        work = PendingWork()
        for row in rows(_offers(owner_id)):
            work.datasets.append(WorkDataset._make(row[:6]))
            work.benchmarks[row[0]] = WorkBenchmark(row[0], *row[6:])
        for row in rows(_blocker_cubes(owner_id)):
            work.cubes[row[0]] = WorkCube._make(row)
        for row in rows(_approved_models(owner_id)):
            work.models.setdefault(row[0], []).append(WorkCube._make(row[1:]))
        work.results.extend(WorkResult._make(row) for row in rows(_results(owner_id)))
        for row in rows(_phases(owner_id)):
            work.phases.setdefault(row[1], []).append(WorkPhase._make(row))
        return work


def _phases(owner_id: int) -> Rows:
    """The phases of the benchmarks offered, in the order they open."""
    return (
        select(
            Phase.id,
            Phase.benchmark_id,
            Phase.opens_at,
            Phase.closes_at,
            Phase.closed_at,
            Phase.name,
            Phase.evaluator_id,
        )
        .where(Phase.benchmark_id.in_(_offered_benchmark_ids(owner_id)))
        .order_by(Phase.opens_at, Phase.id)
    )


def _blocker_cubes(owner_id: int) -> Rows:
    """The preparation and evaluator cubes of the benchmarks offered (a cube two of them
    share comes once for each)."""
    of_benchmark = or_(
        m.Cube.id == m.Benchmark.data_preparator_id, m.Cube.id == m.Benchmark.evaluator_id
    )
    cubes = select().select_from(m.Benchmark).join(m.Cube, of_benchmark)
    return _cubes(cubes).where(m.Benchmark.id.in_(_offered_benchmark_ids(owner_id)))


def _approved_models(owner_id: int) -> Rows:
    """The approved models of the benchmarks offered, each with its benchmark's id."""
    models = select(m.Association.benchmark_id).join(
        m.Cube,
        and_(m.Association.kind == AssociationKind.MODEL, m.Cube.id == m.Association.entity_id),
    )
    return (
        _cubes(models)
        .where(
            m.Association.status == ApprovalStatus.APPROVED,
            m.Association.benchmark_id.in_(_offered_benchmark_ids(owner_id)),
        )
        .order_by(m.Association.id)
    )


def _offers(owner_id: int) -> Rows:
    """The owner's datasets on each benchmark, with the benchmark's columns."""
    dataset_invalidator, benchmark_invalidator = aliased(m.User), aliased(m.User)
    query = select(
        m.Association.benchmark_id,
        m.Dataset.id,
        m.Dataset.name,
        m.Association.policy,
        m.Dataset.invalidated_at,
        dataset_invalidator.username,
        m.Benchmark.name,
        m.Benchmark.data_preparator_id,
        m.Benchmark.evaluator_id,
        m.Benchmark.invalidated_at,
        benchmark_invalidator.username,
    ).select_from(m.Association)
    return (
        _offered(query, m.Association, owner_id)
        .outerjoin(dataset_invalidator, dataset_invalidator.id == m.Dataset.invalidated_by_id)
        .outerjoin(benchmark_invalidator, benchmark_invalidator.id == m.Benchmark.invalidated_by_id)
        .order_by(m.Association.id)
    )


def _results(owner_id: int) -> Rows:
    """The results of the owner's datasets on the benchmarks they are offered to."""
    query = (
        select(
            m.Result.benchmark_id,
            m.Result.dataset_id,
            m.Result.model_id,
            m.Result.status,
            m.Result.runs,
            m.Result.phase_id,
        )
        .select_from(m.Result)
        .join(
            m.Association,
            and_(
                m.Association.benchmark_id == m.Result.benchmark_id,
                m.Association.kind == AssociationKind.DATASET,
                m.Association.entity_id == m.Result.dataset_id,
            ),
        )
    )
    return _offered(query, m.Association, owner_id)
