"""The store contract of federated training: every backend (file SQLite, PostgreSQL) must
pass all of these, as it passes ``test_store_contract``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from medval.core.documents import DatasetStatistics
from medval.core.errors import Conflict, NotFound
from medval.core.membership_schemas import AutoApprovalRule, DataPolicy
from medval.core.schemas import CubeCreate, DatasetCreate
from medval.core.states import ApprovalStatus, AutoApprovalMode, CubeKind
from medval.core.training_plan import TrainingPlan
from medval.core.training_schemas import (
    AggregatorCreate,
    RoundMetricsCreate,
    SiteRoundMetricsCreate,
    TrainingExperimentCreate,
)
from medval.server.store.interface import Store, StoreTransaction

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
H = "a" * 64
KEY = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQ="
PLAN = TrainingPlan(rounds=3, min_sites=2)


def _world(tx: StoreTransaction) -> dict[str, int]:
    """A training owner with two cubes and an aggregator, a data owner with a dataset, and
    an experiment: the ids by role."""
    trainer = tx.add_user("trainer", "hash", False, NOW)
    hospital = tx.add_user("hospital", "hash", False, NOW)
    prep = tx.add_cube(
        trainer.id, CubeCreate(name="prep", kind=CubeKind.DATA_PREPARATOR, archive_hash=H), NOW
    )
    cube = tx.add_cube(
        trainer.id, CubeCreate(name="fedavg", kind=CubeKind.TRAINING, archive_hash=H), NOW
    )
    aggregator = tx.add_aggregator(
        trainer.id, AggregatorCreate(name="agg", address="agg.example.org", port=9092), NOW
    )
    dataset = tx.add_dataset(
        hospital.id,
        DatasetCreate(
            name="site-a",
            data_preparator_id=prep.id,
            data_hash="b" * 64,
            statistics=DatasetStatistics(n_cases=10, values={}),
        ),
        NOW,
    )
    experiment = tx.add_training_experiment(
        trainer.id,
        TrainingExperimentCreate(
            name="exp",
            description="four sites",
            data_preparator_id=prep.id,
            training_cube_id=cube.id,
            plan=PLAN,
            aggregator_id=aggregator.id,
        ),
        "CA CERTIFICATE",
        "CA KEY",
        NOW,
    )
    return {
        "trainer": trainer.id,
        "hospital": hospital.id,
        "prep": prep.id,
        "cube": cube.id,
        "aggregator": aggregator.id,
        "dataset": dataset.id,
        "experiment": experiment.id,
    }


def test_aggregators_round_trip_and_names_are_unique(store: Store) -> None:
    with store.transaction() as tx:
        ids = _world(tx)
    with store.transaction() as tx:
        aggregator = tx.aggregator(ids["aggregator"])
        assert aggregator is not None
        assert (aggregator.name, aggregator.owner, aggregator.address, aggregator.port) == (
            "agg",
            "trainer",
            "agg.example.org",
            9092,
        )
        assert aggregator.created_at == NOW
        assert tx.list_aggregators() == [aggregator] == tx.list_aggregators(name="agg")
        assert tx.list_aggregators(name="other") == [] and tx.aggregator(9999) is None
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_aggregator(ids["hospital"], AggregatorCreate(name="agg", address="b", port=1), NOW)


def test_experiments_keep_their_plan_and_ca_and_never_show_its_key(store: Store) -> None:
    with store.transaction() as tx:
        ids = _world(tx)
    with store.transaction() as tx:
        experiment = tx.training_experiment(ids["experiment"])
        assert experiment is not None
        assert experiment.plan == PLAN and experiment.approval is ApprovalStatus.PENDING
        assert (experiment.owner, experiment.aggregator, experiment.aggregator_owner_id) == (
            "trainer",
            "agg",
            ids["trainer"],
        )
        assert experiment.ca_certificate_pem == "CA CERTIFICATE"
        assert "CA KEY" not in experiment.model_dump_json()
        assert tx.training_ca_key(ids["experiment"]) == "CA KEY"
        assert tx.training_ca_key(9999) is None and tx.training_experiment(9999) is None
        assert experiment.auto_approval == AutoApprovalRule()
        assert tx.list_training_experiments() == [experiment]
        assert tx.list_training_experiments(name="nope") == []
    rule = AutoApprovalRule(mode=AutoApprovalMode.ALWAYS)
    with store.transaction() as tx:
        assert tx.set_training_approval(ids["experiment"], ApprovalStatus.APPROVED).approval is (
            ApprovalStatus.APPROVED
        )
        assert tx.set_training_auto_approval(ids["experiment"], rule).auto_approval == rule
        certified = tx.set_aggregator_certificate(ids["experiment"], "SERVER CERTIFICATE")
        assert certified.aggregator_certificate_pem == "SERVER CERTIFICATE"
        model = tx.add_cube(
            ids["trainer"], CubeCreate(name="final", kind=CubeKind.MODEL, archive_hash=H), NOW
        )
        assert tx.set_final_model(ids["experiment"], model.id).final_model_id == model.id
    with store.transaction() as tx:
        found = tx.training_experiment(ids["experiment"])
        assert found is not None and found.final_model_id == model.id
        assert found.auto_approval == rule
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.set_training_approval(9999, ApprovalStatus.APPROVED)


def test_training_associations_keep_every_move_and_one_key_per_site(store: Store) -> None:
    with store.transaction() as tx:
        ids = _world(tx)
        asked = tx.add_training_association(
            ids["experiment"], ids["dataset"], KEY, ids["hospital"], NOW
        )
        assert (asked.status, asked.dataset, asked.dataset_owner) == (
            ApprovalStatus.PENDING,
            "site-a",
            "hospital",
        )
        assert (asked.dataset_owner_id, asked.initiated_by_id) == (ids["hospital"], ids["hospital"])
        assert asked.policy == DataPolicy() and asked.node_public_key == KEY
    moves = [
        (ApprovalStatus.APPROVED, ids["trainer"], NOW + timedelta(minutes=1)),
        (ApprovalStatus.REVOKED, ids["hospital"], NOW + timedelta(minutes=2)),
        (ApprovalStatus.PENDING, ids["hospital"], NOW + timedelta(minutes=3)),
        (ApprovalStatus.APPROVED, ids["trainer"], NOW + timedelta(minutes=4)),
    ]
    for status, actor, at in moves:
        with store.transaction() as tx:
            if status is ApprovalStatus.PENDING:
                current = tx.reopen_training_association(asked.id, KEY + " again", actor, at)
                assert current.decided_by is None and current.node_public_key == KEY + " again"
            else:
                current = tx.decide_training_association(
                    asked.id, status, actor, at, automatic=at == moves[-1][2]
                )
                assert current.decided_at == at
            assert current.status is status
    policy = DataPolicy(model_owners=["trainer"], max_runs=2, expires_on=date(2027, 1, 1))
    with store.transaction() as tx:
        assert tx.set_training_association_policy(asked.id, policy).policy == policy
        found = tx.training_association(asked.id)
        assert found is not None
        assert [(e.status, e.by, e.automatic) for e in found.history] == [
            (ApprovalStatus.PENDING, "hospital", False),
            (ApprovalStatus.APPROVED, "trainer", False),
            (ApprovalStatus.REVOKED, "hospital", False),
            (ApprovalStatus.PENDING, "hospital", False),
            (ApprovalStatus.APPROVED, "trainer", True),
        ]
        assert tx.list_training_associations(experiment_id=ids["experiment"]) == [found]
        assert tx.list_training_associations(dataset_id=ids["dataset"]) == [found]
        assert tx.list_training_associations(status=ApprovalStatus.REVOKED) == []
        assert tx.training_association(9999) is None
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_training_association(
            ids["experiment"], ids["dataset"], "other", ids["hospital"], NOW
        )
    with pytest.raises(NotFound), store.transaction() as tx:
        tx.add_training_association(ids["experiment"], 9999, "other", ids["hospital"], NOW)


def test_round_metrics_are_one_per_round_and_site(store: Store) -> None:
    with store.transaction() as tx:
        ids = _world(tx)
        first = tx.add_training_round(
            ids["experiment"],
            RoundMetricsCreate(round=1, metrics={"loss": 0.5, "n": 3}),
            ids["trainer"],
            NOW,
        )
        tx.add_training_round(
            ids["experiment"], RoundMetricsCreate(round=0, metrics={}), ids["trainer"], NOW
        )
        site = tx.add_site_training_round(
            ids["experiment"],
            SiteRoundMetricsCreate(dataset_id=ids["dataset"], round=1, metrics={"loss": 0.4}),
            ids["hospital"],
            NOW,
        )
    with store.transaction() as tx:
        rounds = tx.list_training_rounds(ids["experiment"])
        assert [r.round for r in rounds] == [0, 1] and rounds[1] == first
        assert (first.metrics, first.uploaded_by, first.created_at) == (
            {"loss": 0.5, "n": 3},
            "trainer",
            NOW,
        )
        assert tx.list_site_training_rounds(ids["experiment"]) == [site]
        assert tx.list_site_training_rounds(ids["experiment"], ids["dataset"] + 1) == []
        assert (site.dataset, site.dataset_owner_id, site.uploaded_by) == (
            "site-a",
            ids["hospital"],
            "hospital",
        )
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_training_round(
            ids["experiment"], RoundMetricsCreate(round=1, metrics={}), ids["trainer"], NOW
        )
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_site_training_round(
            ids["experiment"],
            SiteRoundMetricsCreate(dataset_id=ids["dataset"], round=1, metrics={}),
            ids["hospital"],
            NOW,
        )


def test_every_training_change_is_in_the_audit_log(store: Store) -> None:
    from medval.server.store.interface import Actor

    with store.transaction(Actor("trainer", NOW)) as tx:
        ids = _world(tx)
    with store.transaction() as tx:
        kinds = {(e.entity_kind, e.action) for e in tx.list_audit_entries()}
    assert {("aggregator", "aggregator.add"), ("training", "training.add")} <= kinds
    with store.transaction(Actor("root", NOW)) as tx:
        tx.set_training_approval(ids["experiment"], ApprovalStatus.APPROVED)
    with store.transaction() as tx:
        last = tx.list_audit_entries(entity_kind="training")[-1]
    assert (last.action, last.actor, last.entity_id) == (
        "training.approved",
        "root",
        str(ids["experiment"]),
    )
    assert last.before_hash != last.after_hash
