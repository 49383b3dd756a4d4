"""The store contract for what a leaderboard reads: its results as columns, and the
results revision that tells a kept board is current. Every backend passes these."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from tests.store.world import NOW, SIGNED, H, benchmark_world, make_cube, make_user

from medval.core.documents import DatasetStatistics, MetricValue, Provenance, ResultDocument
from medval.core.result_schemas import ResultCreate
from medval.core.schemas import BenchmarkCreate, DatasetCreate
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind, ExecutionStatus, Stage
from medval.server.store.interface import Store, StoreTransaction
from medval.server.store.records import DatasetRecord

DOCUMENT = ResultDocument(
    n_cases=10, n_positive=3, metrics={"auroc": MetricValue(value=0.8, lower=0.7, upper=0.9)}
)


def _result(ids: dict[str, int], **changes: object) -> ResultCreate:
    body = ResultCreate(
        benchmark_id=ids["benchmark"],
        dataset_id=ids["dataset"],
        model_id=ids["model"],
        document=DOCUMENT,
        provenance=Provenance(
            dataset_hash="b" * 64, data_preparator_hash=H, model_hash=H, evaluator_hash=H
        ),
        **SIGNED,
    )
    return body.model_copy(update=changes)


def _revisions(store: Store, *benchmark_ids: int) -> list[int]:
    with store.transaction() as tx:
        return [tx.results_revision(i) for i in benchmark_ids]


def _second_benchmark(tx: StoreTransaction, ids: dict[str, int]) -> int:
    return tx.add_benchmark(
        ids["owner"],
        BenchmarkCreate(
            name="other-bench",
            data_preparator_id=ids["prep"],
            reference_model_id=ids["model"],
            evaluator_id=ids["evaluator"],
            demo_data_hash=H,
        ),
        NOW,
    ).id


def test_leaderboard_rows_are_the_results_as_columns(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        bob = make_user(tx, "bob")
        other_model = make_cube(tx, bob, "bobs-model", CubeKind.MODEL)
        site_b = tx.add_dataset(
            bob.id,
            DatasetCreate(
                name="site-b",
                data_preparator_id=ids["prep"],
                data_hash="c" * 64,
                statistics=DatasetStatistics(n_cases=10),
            ),
            NOW,
        )
        tx.add_result(ids["owner"], _result(ids), NOW)
        failed = _result(
            ids, dataset_id=site_b.id, model_id=other_model.id, document=None,
            status=ExecutionStatus.FAILED, failure="timed out",
        )  # fmt: skip
        tx.add_result(bob.id, failed, NOW)
        tx.add_result(bob.id, _result(ids, dataset_id=site_b.id), NOW)
    with store.transaction() as tx:
        rows = tx.leaderboard_rows(ids["benchmark"])
        assert tx.leaderboard_rows(9999) == []
    # In the order first uploaded; a failed execution has no document.
    assert [(r.model_id, r.model, r.dataset_id, r.dataset) for r in rows] == [
        (ids["model"], "model", ids["dataset"], "site-a"),
        (other_model.id, "bobs-model", site_b.id, "site-b"),
        (ids["model"], "model", site_b.id, "site-b"),
    ]
    owners = [(ids["owner"], ids["owner"]), (bob.id, bob.id), (bob.id, ids["owner"])]
    assert [(r.dataset_owner_id, r.model_owner_id) for r in rows] == owners
    assert [r.document for r in rows] == [DOCUMENT, None, DOCUMENT]
    assert rows[1].document_json is None


def test_the_revision_moves_with_each_result_added_or_replaced(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        other = _second_benchmark(tx, ids)
    assert _revisions(store, ids["benchmark"], other) == [0, 0]
    failed = _result(ids, document=None, status=ExecutionStatus.FAILED, failure="no memory")
    with store.transaction() as tx:
        result = tx.add_result(ids["owner"], failed, NOW)
        # Moved on when the transaction ends: what it read meanwhile is the old one.
        assert tx.results_revision(ids["benchmark"]) == 0
    assert _revisions(store, ids["benchmark"], other) == [1, 0]
    with store.transaction() as tx:
        tx.replace_result(result.id, ids["owner"], _result(ids), NOW + timedelta(hours=1))
    assert _revisions(store, ids["benchmark"], other) == [2, 0]
    with store.transaction() as tx:  # two results in one transaction: it moves on once
        second = make_cube(tx, make_user(tx, "bob"), "second", CubeKind.MODEL)
        tx.add_result(ids["owner"], _result(ids, benchmark_id=other), NOW)
        tx.add_result(ids["owner"], _result(ids, benchmark_id=other, model_id=second.id), NOW)
    assert _revisions(store, ids["benchmark"], other) == [2, 1]
    assert _revisions(store, 9999) == [0]


def test_a_transaction_that_fails_moves_no_revision(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.add_result(ids["owner"], _result(ids), NOW)
        raise RuntimeError("the use case failed after the write")
    assert _revisions(store, ids["benchmark"]) == [0]
    with store.transaction() as tx:
        assert tx.leaderboard_rows(ids["benchmark"]) == []


def test_the_revision_moves_when_a_model_with_results_is_invalidated(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        other = _second_benchmark(tx, ids)
        spare = make_cube(tx, make_user(tx, "bob"), "spare", CubeKind.MODEL)
        tx.add_result(ids["owner"], _result(ids), NOW)
    assert _revisions(store, ids["benchmark"], other) == [1, 0]
    with store.transaction() as tx:  # a model without results: no board shows it
        tx.invalidate_cube(spare.id, ids["owner"], NOW)
    assert _revisions(store, ids["benchmark"], other) == [1, 0]
    with store.transaction() as tx:  # nor do a stage or a dataset's invalidation
        tx.set_cube_stage(ids["model"], Stage.OPERATION)
        tx.invalidate_dataset(ids["dataset"], ids["owner"], NOW)
    assert _revisions(store, ids["benchmark"], other) == [1, 0]
    with store.transaction() as tx:
        tx.invalidate_cube(ids["model"], ids["owner"], NOW)
    assert _revisions(store, ids["benchmark"], other) == [2, 0]


def _dataset(tx: StoreTransaction, owner_id: int, name: str, prep: int) -> DatasetRecord:
    statistics = DatasetStatistics(n_cases=10)
    digest = hashlib.sha256(name.encode()).hexdigest()
    made = DatasetCreate(
        name=name, data_preparator_id=prep, data_hash=digest, statistics=statistics
    )
    return tx.add_dataset(owner_id, made, NOW)


def test_participates_means_owning_an_approved_dataset_or_model(store: Store) -> None:
    with store.transaction() as tx:
        ids = benchmark_world(tx)
        other = _second_benchmark(tx, ids)
        hospital, vendor, stranger = (make_user(tx, n) for n in ("hosp", "vend", "strange"))
        model = make_cube(tx, vendor, "vendors-model", CubeKind.MODEL)
        site = _dataset(tx, hospital.id, "site-h", ids["prep"])
        # Ids of datasets and cubes overlap: the stranger owns a dataset with the id of the
        # vendor's model, which must not make the model's association theirs.
        for n in range(model.id):
            if _dataset(tx, stranger.id, f"stranger-{n}", ids["prep"]).id >= model.id:
                break
        for kind, entity in ((AssociationKind.DATASET, site.id), (AssociationKind.MODEL, model.id)):
            asked = tx.add_association(ids["benchmark"], kind, entity, ids["owner"], NOW)
            tx.add_association(other, kind, entity, ids["owner"], NOW)  # pending there
            tx.decide_association(asked.id, ApprovalStatus.APPROVED, ids["owner"], NOW)

    def participants(benchmark_id: int) -> set[str]:
        with store.transaction() as tx:
            people = {"hosp": hospital.id, "vend": vendor.id, "strange": stranger.id}
            return {n for n, i in people.items() if tx.participates(benchmark_id, i)}

    assert participants(ids["benchmark"]) == {"hosp", "vend"}
    assert participants(other) == set()  # pending is not participating
    with store.transaction() as tx:
        (dataset_association,) = tx.list_associations(
            benchmark_id=ids["benchmark"], kind=AssociationKind.DATASET
        )
        tx.decide_association(dataset_association.id, ApprovalStatus.REVOKED, ids["owner"], NOW)
    assert participants(ids["benchmark"]) == {"vend"}
