"""The store contract: every backend (file SQLite, PostgreSQL) must pass all of these."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from medval.core.documents import DatasetStatistics, MetricValue, Provenance, ResultDocument
from medval.core.errors import Conflict, NotFound
from medval.core.membership_schemas import (
    AutoApprovalRule,
    DataPolicy,
    MembershipAgreement,
    agreement_sha256,
)
from medval.core.result_schemas import ResultCreate
from medval.core.schemas import BenchmarkCreate, CubeCreate, DatasetCreate
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    AutoApprovalMode,
    CubeKind,
    ExecutionStatus,
    Stage,
)
from medval.server.store.interface import Store, StoreTransaction
from medval.server.store.records import CubeRecord, UserRecord

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
H = "a" * 64
# The store keeps a result's signature as it is given (services check it).
SIGNED = {"key_id": "e" * 64, "signature": "A" * 86 + "=="}


def _user(tx: StoreTransaction, name: str = "alice", admin: bool = False) -> UserRecord:
    return tx.add_user(name, "argon2-hash", admin, NOW)


def _cube(tx: StoreTransaction, owner: UserRecord, name: str, kind: CubeKind) -> CubeRecord:
    return tx.add_cube(owner.id, CubeCreate(name=name, kind=kind, archive_hash=H), NOW)


def _benchmark_world(tx: StoreTransaction) -> dict[str, int]:
    """A user, three cubes, a benchmark and a dataset: the ids by role."""
    owner = _user(tx)
    prep = _cube(tx, owner, "prep", CubeKind.DATA_PREPARATOR)
    model = _cube(tx, owner, "model", CubeKind.MODEL)
    evaluator = _cube(tx, owner, "eval", CubeKind.EVALUATOR)
    benchmark = tx.add_benchmark(
        owner.id,
        BenchmarkCreate(
            name="bench",
            data_preparator_id=prep.id,
            reference_model_id=model.id,
            evaluator_id=evaluator.id,
            demo_data_hash=H,
        ),
        NOW,
    )
    dataset = tx.add_dataset(
        owner.id,
        DatasetCreate(
            name="site-a",
            data_preparator_id=prep.id,
            data_hash="b" * 64,
            statistics=DatasetStatistics(n_cases=10, values={"age": {"mean": 61.5}}),
        ),
        NOW,
    )
    return {
        "owner": owner.id,
        "prep": prep.id,
        "model": model.id,
        "evaluator": evaluator.id,
        "benchmark": benchmark.id,
        "dataset": dataset.id,
    }


def test_users_round_trip_and_names_are_unique(store: Store) -> None:
    with store.transaction() as tx:
        alice = _user(tx, "alice", admin=True)
    with store.transaction() as tx:
        assert tx.user(alice.id) == alice
        assert tx.user_by_name("alice") == alice
        assert tx.user_by_name("nobody") is None
        assert tx.user(9999) is None
        assert alice.is_admin and alice.created_at == NOW
    with pytest.raises(Conflict), store.transaction() as tx:
        _user(tx, "alice")
    with store.transaction() as tx:
        _user(tx, "bob")
        assert [u.username for u in tx.list_users()] == ["alice", "bob"]


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        _user(tx, "ghost")
        raise RuntimeError("boom")
    with store.transaction() as tx:
        assert tx.user_by_name("ghost") is None


def test_tokens_are_found_by_hash_and_deleted(store: Store) -> None:
    expires = NOW + timedelta(hours=12)
    with store.transaction() as tx:
        alice = _user(tx)
        tx.add_token("f" * 64, alice.id, NOW, expires)
    with store.transaction() as tx:
        token = tx.token("f" * 64)
        assert token is not None and token.user == alice
        assert token.expires_at == expires and token.expires_at.tzinfo is not None
        assert tx.token("e" * 64) is None
        tx.delete_token("f" * 64)
        tx.delete_token("e" * 64)  # unknown: nothing to do
    with store.transaction() as tx:
        assert tx.token("f" * 64) is None


def test_cubes_filter_by_kind_and_owner_and_change_stage(store: Store) -> None:
    with store.transaction() as tx:
        alice, bob = _user(tx, "alice"), _user(tx, "bob")
        prep = _cube(tx, alice, "prep", CubeKind.DATA_PREPARATOR)
        model = _cube(tx, bob, "prep", CubeKind.MODEL)  # same name, another owner: fine
        assert tx.cube(prep.id) == prep and prep.owner == "alice"
        assert tx.list_cubes(kind=CubeKind.MODEL) == [model]
        assert tx.list_cubes(owner_id=alice.id) == [prep]
        assert len(tx.list_cubes()) == 2
        assert tx.cube(9999) is None
    with store.transaction() as tx:
        tx.add_cube(
            alice.id,
            CubeCreate(name="draft", kind=CubeKind.MODEL, archive_hash=H, stage=Stage.DEVELOPMENT),
            NOW,
        )
        moved = tx.set_cube_stage(prep.id, Stage.DEVELOPMENT)
        assert moved.stage is Stage.DEVELOPMENT
    with pytest.raises(Conflict), store.transaction() as tx:
        _cube(tx, alice, "prep", CubeKind.MODEL)
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.set_cube_stage(9999, Stage.OPERATION)


def test_references_to_missing_rows_are_refused(store: Store) -> None:
    """Foreign keys hold on every backend (SQLite needs them switched on)."""
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.add_cube(4242, CubeCreate(name="orphan", kind=CubeKind.MODEL, archive_hash=H), NOW)


def test_benchmarks_start_pending_and_change_stage_and_approval(store: Store) -> None:
    with store.transaction() as tx:
        ids = _benchmark_world(tx)
    with store.transaction() as tx:
        benchmark = tx.benchmark(ids["benchmark"])
        assert benchmark is not None
        assert benchmark.approval is ApprovalStatus.PENDING and benchmark.owner == "alice"
        assert benchmark.evaluator_id == ids["evaluator"]
        assert tx.list_benchmarks() == [benchmark]
        assert tx.set_benchmark_approval(benchmark.id, ApprovalStatus.APPROVED).approval is (
            ApprovalStatus.APPROVED
        )
        assert tx.set_benchmark_stage(benchmark.id, Stage.DEVELOPMENT).stage is Stage.DEVELOPMENT
        assert tx.benchmark(9999) is None
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_benchmark(
            ids["owner"],
            BenchmarkCreate(
                name="bench",
                data_preparator_id=ids["prep"],
                reference_model_id=ids["model"],
                evaluator_id=ids["evaluator"],
                demo_data_hash=H,
            ),
            NOW,
        )


def test_datasets_keep_their_statistics(store: Store) -> None:
    with store.transaction() as tx:
        ids = _benchmark_world(tx)
        other = _user(tx, "bob")
    with store.transaction() as tx:
        dataset = tx.dataset(ids["dataset"])
        assert dataset is not None
        assert dataset.statistics == DatasetStatistics(n_cases=10, values={"age": {"mean": 61.5}})
        assert tx.list_datasets(owner_id=ids["owner"]) == [dataset]
        assert tx.list_datasets(owner_id=other.id) == []
        assert tx.set_dataset_stage(dataset.id, Stage.DEVELOPMENT).stage is Stage.DEVELOPMENT
        assert tx.dataset(9999) is None


def test_associations_are_unique_and_decided_once_recorded(store: Store) -> None:
    with store.transaction() as tx:
        ids = _benchmark_world(tx)
        bob = _user(tx, "bob")
        pending = tx.add_association(
            ids["benchmark"], AssociationKind.DATASET, ids["dataset"], ids["owner"], NOW
        )
        assert pending.status is ApprovalStatus.PENDING and pending.decided_by is None
        assert pending.entity_name == "site-a" and pending.initiated_by == "alice"
        model = tx.add_association(
            ids["benchmark"], AssociationKind.MODEL, ids["model"], ids["owner"], NOW
        )
    later = NOW + timedelta(minutes=5)
    with store.transaction() as tx:
        decided = tx.decide_association(pending.id, ApprovalStatus.APPROVED, bob.id, later)
        assert decided.decided_by == "bob" and decided.decided_at == later
        assert tx.association(pending.id) == decided
        assert tx.list_associations(kind=AssociationKind.MODEL) == [model]
        assert tx.list_associations(status=ApprovalStatus.APPROVED) == [decided]
        assert tx.list_associations(entity_id=ids["model"], kind=AssociationKind.MODEL) == [model]
        assert len(tx.list_associations(benchmark_id=ids["benchmark"])) == 2
        assert tx.association(9999) is None
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_association(ids["benchmark"], AssociationKind.MODEL, ids["model"], ids["owner"], NOW)
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.add_association(ids["benchmark"], AssociationKind.DATASET, 9999, ids["owner"], NOW)


def test_results_round_trip_and_one_per_benchmark_dataset_model(store: Store) -> None:
    with store.transaction() as tx:
        ids = _benchmark_world(tx)
    body = ResultCreate(
        benchmark_id=ids["benchmark"],
        dataset_id=ids["dataset"],
        model_id=ids["model"],
        document=ResultDocument(
            n_cases=10,
            n_positive=3,
            metrics={"auroc": MetricValue(value=0.8, lower=0.7, upper=0.9)},
        ),
        provenance=Provenance(
            dataset_hash="b" * 64, data_preparator_hash=H, model_hash=H, evaluator_hash=H
        ),
        **SIGNED,
    )
    with store.transaction() as tx:
        result = tx.add_result(ids["owner"], body, NOW)
    with store.transaction() as tx:
        assert tx.result(result.id) == result
        assert result.document == body.document and result.provenance == body.provenance
        assert (result.key_id, result.signature) == (SIGNED["key_id"], SIGNED["signature"])
        assert result.dataset == "site-a" and result.model == "model"
        assert result.dataset_owner_id == result.model_owner_id == ids["owner"]
        assert tx.list_results(benchmark_id=ids["benchmark"]) == [result]
        assert tx.list_results(dataset_id=ids["dataset"], model_id=ids["model"]) == [result]
        assert tx.list_results(model_id=ids["prep"]) == []
        assert tx.result(9999) is None
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_result(ids["owner"], body, NOW)


def test_a_failed_result_is_stored_without_metrics_and_replaced_whole(store: Store) -> None:
    with store.transaction() as tx:
        ids = _benchmark_world(tx)
        other = _cube(tx, _user(tx, "bob"), "other", CubeKind.MODEL)
    provenance = Provenance(
        dataset_hash="b" * 64, data_preparator_hash=H, model_hash=H, evaluator_hash=H
    )
    failed = ResultCreate(
        benchmark_id=ids["benchmark"],
        dataset_id=ids["dataset"],
        model_id=ids["model"],
        status=ExecutionStatus.FAILED,
        failure="task 'infer' of cube 'model' timed out after 60 s",
        provenance=provenance,
        executed_at=NOW - timedelta(minutes=5),
        **SIGNED,
    )
    with store.transaction() as tx:
        result = tx.add_result(ids["owner"], failed, NOW)
    assert (result.status, result.document, result.failure) == (
        ExecutionStatus.FAILED,
        None,
        failed.failure,
    )
    assert result.executed_at == NOW - timedelta(minutes=5)
    assert result.runs == 1
    succeeded = failed.model_copy(
        update={
            "status": ExecutionStatus.SUCCEEDED,
            "failure": None,
            "document": ResultDocument(n_cases=10, n_positive=3, metrics={}),
            "executed_at": None,
        }
    )
    later = NOW + timedelta(hours=1)
    with store.transaction() as tx:
        replaced = tx.replace_result(result.id, ids["owner"], succeeded, later)
    with store.transaction() as tx:
        assert tx.result(result.id) == replaced
        assert (replaced.status, replaced.failure, replaced.executed_at) == (
            ExecutionStatus.SUCCEEDED,
            None,
            None,
        )
        assert replaced.document == succeeded.document and replaced.created_at == later
        assert replaced.runs == 2  # a data policy may limit a model's runs
        assert tx.list_results(benchmark_id=ids["benchmark"]) == [replaced]
    elsewhere = succeeded.model_copy(update={"model_id": other.id})
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.replace_result(result.id, ids["owner"], elsewhere, later)
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.replace_result(9999, ids["owner"], succeeded, later)


def test_every_association_move_is_kept_in_its_history(store: Store) -> None:
    with store.transaction() as tx:
        ids = _benchmark_world(tx)
        bob = _user(tx, "bob")
        asked = tx.add_association(
            ids["benchmark"], AssociationKind.MODEL, ids["model"], ids["owner"], NOW
        )
    moves = [
        (ApprovalStatus.REJECTED, bob.id, NOW + timedelta(minutes=1)),
        (ApprovalStatus.PENDING, ids["owner"], NOW + timedelta(minutes=2)),
        (ApprovalStatus.APPROVED, bob.id, NOW + timedelta(minutes=3)),
        (ApprovalStatus.REVOKED, ids["owner"], NOW + timedelta(minutes=4)),
    ]
    for status, actor, at in moves:
        with store.transaction() as tx:
            if status is ApprovalStatus.PENDING:
                current = tx.reopen_association(asked.id, actor, at)
                assert current.decided_by is None and current.decided_at is None
            else:
                current = tx.decide_association(asked.id, status, actor, at)
                assert current.decided_at == at
            assert current.status is status
    with store.transaction() as tx:
        found = tx.association(asked.id)
        assert found is not None
        assert [(e.status, e.by, e.at) for e in found.history] == [
            (ApprovalStatus.PENDING, "alice", NOW),
            (ApprovalStatus.REJECTED, "bob", NOW + timedelta(minutes=1)),
            (ApprovalStatus.PENDING, "alice", NOW + timedelta(minutes=2)),
            (ApprovalStatus.APPROVED, "bob", NOW + timedelta(minutes=3)),
            (ApprovalStatus.REVOKED, "alice", NOW + timedelta(minutes=4)),
        ]
        assert found.history[0].at.tzinfo is not None
        assert tx.list_associations(status=ApprovalStatus.REVOKED) == [found]
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.reopen_association(9999, ids["owner"], NOW)


def test_cubes_datasets_and_benchmarks_are_invalidated_with_who_and_when(store: Store) -> None:
    later = NOW + timedelta(days=1)
    with store.transaction() as tx:
        ids = _benchmark_world(tx)
        admin = _user(tx, "root", admin=True)
    with store.transaction() as tx:
        cube = tx.cube(ids["model"])
        assert cube is not None and cube.invalidated_at is None and cube.invalidated_by is None
        cube = tx.invalidate_cube(ids["model"], admin.id, later)
        dataset = tx.invalidate_dataset(ids["dataset"], ids["owner"], later)
        benchmark = tx.invalidate_benchmark(ids["benchmark"], admin.id, later)
    with store.transaction() as tx:
        assert tx.cube(ids["model"]) == cube and tx.list_cubes(kind=CubeKind.MODEL) == [cube]
        assert (cube.invalidated_at, cube.invalidated_by, cube.owner) == (later, "root", "alice")
        assert (dataset.invalidated_by, benchmark.invalidated_by) == ("alice", "root")
        assert tx.dataset(ids["dataset"]) == dataset and tx.list_benchmarks() == [benchmark]
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.invalidate_dataset(9999, admin.id, later)


def test_membership_rules_and_data_policies_round_trip(store: Store) -> None:
    with store.transaction() as tx:
        ids = _benchmark_world(tx)
        bob = _user(tx, "bob")
        benchmark = tx.benchmark(ids["benchmark"])
        assert benchmark is not None
        assert (benchmark.agreement, benchmark.auto_approval) == (None, AutoApprovalRule())
        agreement = MembershipAgreement(text="terms", sha256=agreement_sha256("terms"))
        rule = AutoApprovalRule(mode=AutoApprovalMode.ALLOWLIST, users=["bob"])
        assert tx.set_benchmark_agreement(ids["benchmark"], agreement).agreement == agreement
        assert tx.set_benchmark_auto_approval(ids["benchmark"], rule).auto_approval == rule
        accepted = tx.add_agreement_acceptance(ids["benchmark"], bob.id, agreement.sha256, NOW)
        association = tx.add_association(
            ids["benchmark"], AssociationKind.DATASET, ids["dataset"], bob.id, NOW
        )
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_agreement_acceptance(ids["benchmark"], bob.id, agreement.sha256, NOW)
    policy = DataPolicy(model_owners=["carol"], max_runs=2, expires_on=date(2027, 1, 1))
    with store.transaction() as tx:
        assert tx.agreement_acceptances(ids["benchmark"]) == [accepted]
        assert tx.agreement_acceptances(ids["benchmark"], ids["owner"]) == []
        assert (accepted.username, accepted.sha256, accepted.accepted_at) == (
            "bob",
            agreement.sha256,
            NOW,
        )
        assert association.policy == DataPolicy()
        assert tx.set_association_policy(association.id, policy).policy == policy
        decided = tx.decide_association(
            association.id, ApprovalStatus.APPROVED, ids["owner"], NOW, automatic=True
        )
    with store.transaction() as tx:
        found = tx.association(association.id)
        assert found == decided and found.policy == policy
        assert [(e.status, e.automatic) for e in found.history] == [
            (ApprovalStatus.PENDING, False),
            (ApprovalStatus.APPROVED, True),
        ]
        benchmark = tx.benchmark(ids["benchmark"])
        assert benchmark is not None and benchmark.agreement == agreement
        assert benchmark.auto_approval == rule


def test_signing_keys_are_kept_and_one_per_owner_is_current(store: Store) -> None:
    with store.transaction() as tx:
        owner = _user(tx, "alice").id
        first = tx.add_signing_key(owner, "1" * 64, "A" * 43 + "=", NOW)
    later = NOW + timedelta(hours=1)
    with store.transaction() as tx:
        second = tx.add_signing_key(owner, "2" * 64, "B" * 43 + "=", later)
        assert (second.owner, second.retired_at) == ("alice", None)
        assert tx.signing_key("1" * 64) == first.model_copy(update={"retired_at": later})
        assert tx.list_signing_keys(owner_id=owner) == [tx.signing_key("1" * 64), second]
        assert tx.signing_key("3" * 64) is None
        assert tx.list_signing_keys(owner_id=owner + 1) == []
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_signing_key(owner, "2" * 64, "B" * 43 + "=", later)


def test_blob_owners_and_the_uploader_of_the_part_held(store: Store) -> None:
    with store.transaction() as tx:
        alice, bob = _user(tx), _user(tx, "bob")
        assert tx.blob_owner_ids(H) == [] and tx.blob_uploader_id(H) is None
        tx.start_blob_upload(H, alice.id, NOW)
        tx.start_blob_upload(H, bob.id, NOW)  # bob starts afresh: the part held is his
        assert tx.blob_uploader_id(H) == bob.id
        tx.add_blob_owner(H, bob.id, NOW)
        tx.add_blob_owner(H, bob.id, NOW)  # sent whole again: nothing changes
        tx.add_blob_owner(H, alice.id, NOW)
        assert tx.blob_owner_ids(H) == sorted([alice.id, bob.id])
        cube = _cube(tx, alice, "m", CubeKind.MODEL)
        assert [c.id for c in tx.cubes_with_blob(H)] == [cube.id]
        assert tx.cubes_with_blob("e" * 64) == [] and tx.benchmarks_with_demo_data(H) == []
