"""What the store contract tests build on: a fixed clock, hashes, and a small world of a
user, cubes, a benchmark and a dataset."""

from __future__ import annotations

from datetime import UTC, datetime

from medval.core.documents import DatasetStatistics
from medval.core.schemas import BenchmarkCreate, CubeCreate, DatasetCreate
from medval.core.states import (
    CubeKind,
)
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import CubeRecord, UserRecord

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
H = "a" * 64
# The store keeps a result's signature as it is given (services check it).
SIGNED = {"key_id": "e" * 64, "signature": "A" * 86 + "=="}


def make_user(tx: StoreTransaction, name: str = "alice", admin: bool = False) -> UserRecord:
    return tx.add_user(name, "argon2-hash", admin, NOW)


def make_cube(tx: StoreTransaction, owner: UserRecord, name: str, kind: CubeKind) -> CubeRecord:
    return tx.add_cube(owner.id, CubeCreate(name=name, kind=kind, archive_hash=H), NOW)


def benchmark_world(tx: StoreTransaction) -> dict[str, int]:
    """A user, three cubes, a benchmark and a dataset: the ids by role."""
    owner = make_user(tx)
    prep = make_cube(tx, owner, "prep", CubeKind.DATA_PREPARATOR)
    model = make_cube(tx, owner, "model", CubeKind.MODEL)
    evaluator = make_cube(tx, owner, "eval", CubeKind.EVALUATOR)
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
