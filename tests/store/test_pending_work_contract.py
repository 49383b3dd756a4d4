"""The store contract for a data owner's pending work (``StoreTransaction.pending_work``):
which rows it reads, and that it reads them in as many statements for many rows as for
few. Every backend (file SQLite, PostgreSQL) must pass these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import event
from tests.store.world import NOW, SIGNED, H, make_cube, make_user

from medval.core.documents import DatasetStatistics, Provenance, ResultDocument
from medval.core.membership_schemas import DataPolicy
from medval.core.result_schemas import ResultCreate
from medval.core.schemas import BenchmarkCreate, DatasetCreate
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind, ExecutionStatus, Stage
from medval.server.store.interface import Store, StoreTransaction
from medval.server.store.pending_work import (
    PendingWork,
    WorkBenchmark,
    WorkCube,
    WorkDataset,
    WorkPhase,
    WorkResult,
)
from medval.server.store.records import CubeRecord, UserRecord
from medval.server.store.sql import SqlStore

APPROVED, PENDING, REJECTED = (
    ApprovalStatus.APPROVED,
    ApprovalStatus.PENDING,
    ApprovalStatus.REJECTED,
)


@dataclass(frozen=True)
class Made:
    """A benchmark as the tests make it: its id and its cubes."""

    id: int
    prep: CubeRecord
    evaluator: CubeRecord
    reference: CubeRecord


def benchmark(
    tx: StoreTransaction, committee: UserRecord, name: str, approval: ApprovalStatus = APPROVED
) -> Made:
    """A benchmark of fresh cubes, with its reference model approved (as the service does)."""
    prep = make_cube(tx, committee, f"{name}-prep", CubeKind.DATA_PREPARATOR)
    reference = make_cube(tx, committee, f"{name}-reference", CubeKind.MODEL)
    evaluator = make_cube(tx, committee, f"{name}-eval", CubeKind.EVALUATOR)
    body = BenchmarkCreate(
        name=name,
        data_preparator_id=prep.id,
        reference_model_id=reference.id,
        evaluator_id=evaluator.id,
        demo_data_hash=H,
    )
    made = tx.add_benchmark(committee.id, body, NOW)
    if approval is not PENDING:
        tx.set_benchmark_approval(made.id, approval)
    associate(tx, made.id, AssociationKind.MODEL, reference.id, committee)
    return Made(made.id, prep, evaluator, reference)


def associate(
    tx: StoreTransaction,
    benchmark_id: int,
    kind: AssociationKind,
    entity_id: int,
    decider: UserRecord,
    status: ApprovalStatus = APPROVED,
) -> int:
    asked = tx.add_association(benchmark_id, kind, entity_id, decider.id, NOW)
    if status is not PENDING:
        tx.decide_association(asked.id, status, decider.id, NOW)
    return asked.id


def dataset(tx: StoreTransaction, owner: UserRecord, name: str, on: Made) -> int:
    body = DatasetCreate(
        name=name,
        data_preparator_id=on.prep.id,
        data_hash="b" * 64,
        statistics=DatasetStatistics(n_cases=10),
    )
    return tx.add_dataset(owner.id, body, NOW).id


def result_body(on: Made, dataset_id: int, model_id: int, status: ExecutionStatus) -> ResultCreate:
    failed = status is ExecutionStatus.FAILED
    return ResultCreate(
        benchmark_id=on.id,
        dataset_id=dataset_id,
        model_id=model_id,
        status=status,
        document=None if failed else ResultDocument(n_cases=10, n_positive=3, metrics={}),
        failure="task 'infer' failed" if failed else None,
        provenance=Provenance(
            dataset_hash="b" * 64, data_preparator_hash=H, model_hash=H, evaluator_hash=H
        ),
        **SIGNED,
    )


def result(
    tx: StoreTransaction,
    owner: UserRecord,
    on: Made,
    dataset_id: int,
    model_id: int,
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED,
) -> int:
    body = result_body(on, dataset_id, model_id, status)
    return tx.add_result(owner.id, body, NOW).id


def work_cube(cube: CubeRecord, invalidated_by: str | None = None) -> WorkCube:
    at = NOW + timedelta(days=1) if invalidated_by else None
    return WorkCube(
        cube.id, cube.name, cube.kind, cube.owner, cube.archive_hash, at, invalidated_by
    )


def test_pending_work_is_the_owners_approved_datasets_on_approved_benchmarks_in_operation(
    store: Store,
) -> None:
    with store.transaction() as tx:
        committee, hospital = make_user(tx, "committee"), make_user(tx, "hospital")
        elsewhere, vendor = make_user(tx, "elsewhere"), make_user(tx, "vendor")
        open_ = benchmark(tx, committee, "open")
        waiting = benchmark(tx, committee, "waiting", approval=PENDING)
        refused = benchmark(tx, committee, "refused", approval=REJECTED)
        draft = benchmark(tx, committee, "draft")
        tx.set_benchmark_stage(draft.id, Stage.DEVELOPMENT)
        first, second = (
            dataset(tx, hospital, "first", open_),
            dataset(tx, hospital, "second", open_),
        )
        asked = dataset(tx, hospital, "asked", open_)
        theirs = dataset(tx, elsewhere, "theirs", open_)
        on_other = {
            made.id: dataset(tx, hospital, f"on-{made.id}", made)
            for made in (waiting, refused, draft)
        }
        for dataset_id in (second, first):  # association order: second, then first
            associate(tx, open_.id, AssociationKind.DATASET, dataset_id, committee)
        associate(tx, open_.id, AssociationKind.DATASET, asked, committee, status=PENDING)
        associate(tx, open_.id, AssociationKind.DATASET, theirs, committee)
        for benchmark_id, dataset_id in on_other.items():
            associate(tx, benchmark_id, AssociationKind.DATASET, dataset_id, committee)
        models = {
            status: make_cube(tx, vendor, f"model-{status.value}", CubeKind.MODEL)
            for status in (APPROVED, PENDING, REJECTED)
        }
        for status, model in models.items():
            associate(tx, open_.id, AssociationKind.MODEL, model.id, committee, status)
        associate(tx, draft.id, AssociationKind.MODEL, models[APPROVED].id, committee)
        approved = models[APPROVED].id
        result(tx, hospital, open_, first, approved)
        result(tx, hospital, open_, first, open_.reference.id, ExecutionStatus.FAILED)
        result(tx, elsewhere, open_, theirs, approved)
        result(tx, hospital, draft, on_other[draft.id], approved)

    with store.transaction() as tx:
        work = tx.pending_work(hospital.id)
        theirs_work = tx.pending_work(elsewhere.id)
        assert tx.pending_work(vendor.id) == PendingWork()
        # Each benchmark offered comes with its phases: here its first, open from NOW.
        (main_phase,) = tx.list_phases(open_.id)
    main = main_phase.id
    assert work.phases == {open_.id: [WorkPhase(main, open_.id, NOW, None, None, "main", None)]}

    assert work.datasets == [
        WorkDataset(open_.id, second, "second", DataPolicy(), None, None),
        WorkDataset(open_.id, first, "first", DataPolicy(), None, None),
    ]
    assert work.benchmarks == {
        open_.id: WorkBenchmark(open_.id, "open", open_.prep.id, open_.evaluator.id, None, None)
    }
    assert work.cubes == {
        open_.prep.id: work_cube(open_.prep),
        open_.evaluator.id: work_cube(open_.evaluator),
    }
    assert work.models == {open_.id: [work_cube(open_.reference), work_cube(models[APPROVED])]}
    assert sorted(work.results, key=lambda r: r.model_id) == [
        WorkResult(open_.id, first, open_.reference.id, ExecutionStatus.FAILED, 1, main),
        WorkResult(open_.id, first, approved, ExecutionStatus.SUCCEEDED, 1, main),
    ]
    assert [d.name for d in theirs_work.datasets] == ["theirs"]
    assert theirs_work.results == [
        WorkResult(open_.id, theirs, approved, ExecutionStatus.SUCCEEDED, 1, main)
    ]


def test_pending_work_keeps_what_is_invalidated_with_who_and_when_and_the_policy_and_runs(
    store: Store,
) -> None:
    later = NOW + timedelta(days=1)
    with store.transaction() as tx:
        committee, hospital = make_user(tx, "committee"), make_user(tx, "hospital")
        admin = make_user(tx, "root", admin=True)
        made = benchmark(tx, committee, "bench")
        site = dataset(tx, hospital, "site", made)
        association = associate(tx, made.id, AssociationKind.DATASET, site, committee)
        failed = result(tx, hospital, made, site, made.reference.id, ExecutionStatus.FAILED)
    policy = DataPolicy(model_owners=["committee"], max_runs=3)
    with store.transaction() as tx:
        tx.set_association_policy(association, policy)
        again = result_body(made, site, made.reference.id, ExecutionStatus.FAILED)
        tx.replace_result(failed, hospital.id, again, later)
        tx.invalidate_dataset(site, hospital.id, later)
        tx.invalidate_benchmark(made.id, admin.id, later)
        tx.invalidate_cube(made.evaluator.id, committee.id, later)
        tx.invalidate_cube(made.reference.id, admin.id, later)
    with store.transaction() as tx:
        work = tx.pending_work(hospital.id)
    assert work.datasets == [WorkDataset(made.id, site, "site", policy, later, "hospital")]
    assert work.benchmarks[made.id] == WorkBenchmark(
        made.id, "bench", made.prep.id, made.evaluator.id, later, "root"
    )
    assert work.cubes == {
        made.prep.id: work_cube(made.prep),
        made.evaluator.id: work_cube(made.evaluator, invalidated_by="committee"),
    }
    assert work.models == {made.id: [work_cube(made.reference, invalidated_by="root")]}
    main = work.phases[made.id][0].id
    assert work.results == [
        WorkResult(made.id, site, made.reference.id, ExecutionStatus.FAILED, 2, main)
    ]


def grow(store: Store, people: list[UserRecord], tag: str, benchmarks: int, models: int) -> None:
    """``benchmarks`` more benchmarks with a dataset of the hospital's and ``models``
    approved models each, every one with a result there."""
    committee, hospital, vendor = people
    with store.transaction() as tx:
        for index in range(benchmarks):
            made = benchmark(tx, committee, f"bench-{tag}-{index}")
            site = dataset(tx, hospital, f"site-{tag}-{index}", made)
            associate(tx, made.id, AssociationKind.DATASET, site, committee)
            for number in range(models):
                model = make_cube(tx, vendor, f"model-{tag}-{index}-{number}", CubeKind.MODEL)
                associate(tx, made.id, AssociationKind.MODEL, model.id, committee)
                result(tx, hospital, made, site, model.id)


def counted(store: SqlStore, owner: UserRecord) -> tuple[PendingWork, int]:
    """The owner's pending work, and how many SQL statements reading it took."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.transaction() as tx:
            work = tx.pending_work(owner.id)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return work, len(seen)


def test_pending_work_reads_as_many_statements_for_many_rows_as_for_few(store: SqlStore) -> None:
    with store.transaction() as tx:
        people = [make_user(tx, name) for name in ("committee", "hospital", "vendor")]
    grow(store, people, "small", benchmarks=1, models=1)
    few, small = counted(store, people[1])
    grow(store, people, "large", benchmarks=8, models=5)
    many, large = counted(store, people[1])
    assert (len(few.results), len(many.results)) == (1, 1 + 8 * 5)
    assert (len(few.models), len(many.models)) == (1, 1 + 8)
    assert large == small, f"{small} statements for 1 benchmark, {large} for 9"
