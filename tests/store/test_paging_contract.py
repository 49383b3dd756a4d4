"""The store's paging contract (``store.interface``): every list method, on every backend,
returns its rows in its sort key's order, and its pages (``after`` the last key, at most
``limit`` rows) join to the whole list: none twice, none lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from tests.store.world import NOW, SIGNED, H, make_cube, make_user

from medval.core.documents import DatasetStatistics, Provenance, ResultDocument
from medval.core.errors import InvalidInput
from medval.core.paging import Cursor
from medval.core.result_schemas import ResultCreate
from medval.core.schemas import BenchmarkCreate, DatasetCreate
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind
from medval.core.training_plan import TrainingPlan
from medval.core.training_schemas import (
    AggregatorCreate,
    RoundMetricsCreate,
    SiteRoundMetricsCreate,
    TrainingExperimentCreate,
)
from medval.server.store.interface import Store, StoreTransaction

SITES = 4  # datasets, so associations, results, training associations per list: > 2 pages


def _world(tx: StoreTransaction) -> dict[str, int]:
    """Several rows of every listed kind, some added out of their sort key's order."""
    owner = make_user(tx, "owner")
    others = [make_user(tx, f"user-{n}") for n in range(3)]
    for n in range(3):
        tx.add_signing_key(owner.id, f"key-{n}", f"public-{n}", NOW + timedelta(minutes=n))
    prep = make_cube(tx, owner, "prep", CubeKind.DATA_PREPARATOR)
    evaluator = make_cube(tx, owner, "eval", CubeKind.EVALUATOR)
    training = make_cube(tx, owner, "fedavg", CubeKind.TRAINING)
    models = [make_cube(tx, others[n % 3], f"model-{n}", CubeKind.MODEL) for n in range(3)]
    benchmarks = [
        tx.add_benchmark(
            owner.id,
            BenchmarkCreate(
                name=f"bench-{n}",
                data_preparator_id=prep.id,
                reference_model_id=models[0].id,
                evaluator_id=evaluator.id,
                demo_data_hash=H,
            ),
            NOW,
        )
        for n in range(3)
    ]
    bench = benchmarks[0].id
    for user in [owner, *others]:
        tx.add_agreement_acceptance(bench, user.id, "c" * 64, NOW)
    datasets = [
        tx.add_dataset(
            others[n % 3].id,
            DatasetCreate(
                name=f"site-{n}",
                data_preparator_id=prep.id,
                data_hash=f"{n:064x}",
                statistics=DatasetStatistics(n_cases=10, values={}),
            ),
            NOW,
        )
        for n in range(SITES)
    ]
    for dataset in datasets:
        association = tx.add_association(
            bench, AssociationKind.DATASET, dataset.id, dataset.owner_id, NOW
        )
        tx.decide_association(association.id, ApprovalStatus.APPROVED, owner.id, NOW)
    for model in models:
        tx.add_association(bench, AssociationKind.MODEL, model.id, model.owner_id, NOW)
    for dataset in datasets:
        for model in models[:2]:
            tx.add_result(dataset.owner_id, _result(bench, dataset.id, model.id), NOW)
    aggregators = [
        tx.add_aggregator(
            owner.id, AggregatorCreate(name=f"agg-{n}", address="agg.example.org", port=9092), NOW
        )
        for n in range(3)
    ]
    experiments = [
        tx.add_training_experiment(
            owner.id,
            TrainingExperimentCreate(
                name=f"exp-{n}",
                description="paging",
                data_preparator_id=prep.id,
                training_cube_id=training.id,
                plan=TrainingPlan(rounds=5, min_sites=2),
                aggregator_id=aggregators[0].id,
            ),
            "CA CERTIFICATE",
            "CA KEY",
            NOW,
        )
        for n in range(3)
    ]
    experiment = experiments[0].id
    for n, dataset in enumerate(datasets):
        tx.add_training_association(experiment, dataset.id, f"node-{n}", dataset.owner_id, NOW)
    for round_ in (3, 1, 4, 0, 2):  # out of order: the list is by round
        tx.add_training_round(experiment, RoundMetricsCreate(round=round_, metrics={}), 1, NOW)
    for round_ in (2, 0, 1):
        for dataset in reversed(datasets):  # by round, then dataset: neither is the id order
            body = SiteRoundMetricsCreate(dataset_id=dataset.id, round=round_, metrics={})
            tx.add_site_training_round(experiment, body, dataset.owner_id, NOW)
    return {"benchmark": bench, "experiment": experiment, "owner": owner.id}


def _result(benchmark_id: int, dataset_id: int, model_id: int) -> ResultCreate:
    return ResultCreate(
        benchmark_id=benchmark_id,
        dataset_id=dataset_id,
        model_id=model_id,
        document=ResultDocument(n_cases=10, n_positive=3, metrics={}),
        provenance=Provenance(
            dataset_hash="b" * 64, data_preparator_hash=H, model_hash=H, evaluator_hash=H
        ),
        **SIGNED,
    )


Lister = Callable[..., list[Any]]  # (after=, limit=) -> rows


def _by_id(row: Any) -> Cursor:
    return (row.id,)


# Each list method: how to call it on the world (its filters), and its sort key.
LISTS: dict[str, tuple[Callable[[StoreTransaction, dict[str, int]], Lister], Any]] = {
    "users": (lambda tx, ids: tx.list_users, _by_id),
    "signing keys": (
        lambda tx, ids: lambda **page: tx.list_signing_keys(ids["owner"], **page),
        _by_id,
    ),
    "cubes": (lambda tx, ids: tx.list_cubes, _by_id),
    "cubes of a kind": (
        lambda tx, ids: lambda **page: tx.list_cubes(CubeKind.MODEL, **page),
        _by_id,
    ),
    "benchmarks": (lambda tx, ids: tx.list_benchmarks, _by_id),
    "agreement acceptances": (
        lambda tx, ids: lambda **page: tx.agreement_acceptances(ids["benchmark"], **page),
        _by_id,
    ),
    "datasets": (lambda tx, ids: tx.list_datasets, _by_id),
    "associations": (lambda tx, ids: tx.list_associations, _by_id),
    "associations of a kind": (
        lambda tx, ids: (
            lambda **page: tx.list_associations(ids["benchmark"], AssociationKind.DATASET, **page)
        ),
        _by_id,
    ),
    "results": (lambda tx, ids: tx.list_results, _by_id),
    "audit entries": (lambda tx, ids: tx.list_audit_entries, lambda e: (e.seq,)),
    "audit entries of a kind": (
        lambda tx, ids: lambda **page: tx.list_audit_entries("cube", **page),
        lambda e: (e.seq,),
    ),
    "aggregators": (lambda tx, ids: tx.list_aggregators, _by_id),
    "training experiments": (lambda tx, ids: tx.list_training_experiments, _by_id),
    "training associations": (lambda tx, ids: tx.list_training_associations, _by_id),
    "training rounds": (
        lambda tx, ids: lambda **page: tx.list_training_rounds(ids["experiment"], **page),
        lambda r: (r.round,),
    ),
    "site training rounds": (
        lambda tx, ids: lambda **page: tx.list_site_training_rounds(ids["experiment"], **page),
        lambda r: (r.round, r.dataset_id),
    ),
}


def _walk(lister: Lister, key: Callable[[Any], Cursor], limit: int) -> list[list[Any]]:
    """Every page, each after the last key of the one before, until one is not full."""
    pages: list[list[Any]] = []
    after: Cursor | None = None
    while True:
        page = lister(after=after, limit=limit)
        pages.append(page)
        if len(page) < limit:
            return pages
        after = key(page[-1])


@pytest.mark.parametrize("name", list(LISTS))
def test_each_list_is_in_its_key_order_and_its_pages_join_to_it(store: Store, name: str) -> None:
    how, key = LISTS[name]
    with store.transaction() as tx:
        ids = _world(tx)
    with store.transaction() as tx:
        lister = how(tx, ids)
        everything = lister()
        keys = [key(row) for row in everything]
        assert len(everything) >= 3, "too few rows to page"
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        for limit in (1, 2, len(everything), len(everything) + 1):
            pages = _walk(lister, key, limit)
            assert all(len(page) <= limit for page in pages)
            assert [row for page in pages for row in page] == everything, limit
        assert lister(limit=2) == everything[:2]
        assert lister(after=keys[0]) == everything[1:]
        assert lister(after=keys[-1]) == []


def test_a_row_added_between_pages_is_on_a_later_page_and_none_repeats(store: Store) -> None:
    with store.transaction() as tx:
        owner = make_user(tx, "owner")
        for n in range(3):
            make_cube(tx, owner, f"cube-{n}", CubeKind.MODEL)
    with store.transaction() as tx:
        first = tx.list_cubes(limit=2)
    with store.transaction() as tx:
        tx.set_cube_stage(first[0].id, first[0].stage)  # a change of a row already seen
        added = make_cube(tx, owner, "late", CubeKind.MODEL)
    with store.transaction() as tx:
        rest = tx.list_cubes(after=(first[-1].id,), limit=10)
        assert [c.name for c in first + rest] == ["cube-0", "cube-1", "cube-2", "late"]
        assert rest[-1] == added


@pytest.mark.parametrize(
    ("list_of", "cursor"),
    [("cubes", (1, 2)), ("site training rounds", (1,)), ("audit entries", (1, 2, 3))],
)
def test_a_cursor_of_another_shape_is_invalid_input(
    store: Store, list_of: str, cursor: Cursor
) -> None:
    how, _ = LISTS[list_of]
    with store.transaction() as tx:
        ids = _world(tx)
    with pytest.raises(InvalidInput) as refused, store.transaction() as tx:
        how(tx, ids)(after=cursor, limit=2)
    text = ".".join(str(part) for part in cursor)
    assert str(refused.value) == (
        f"query.after: '{text}' is not a cursor of this list; "
        "take it from the Link header of the page before"
    )
