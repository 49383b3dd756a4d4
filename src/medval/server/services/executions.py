"""Pending executions: the work waiting on the caller's datasets."""

from __future__ import annotations

from dataclasses import dataclass

from medval.core.states import ApprovalStatus, AssociationKind, Stage
from medval.server.services.context import ServiceContext
from medval.server.store.records import UserRecord


@dataclass(frozen=True)
class PendingWork:
    benchmark_id: int
    benchmark: str
    dataset_id: int
    dataset: str
    model_id: int
    model: str
    model_owner: str
    model_hash: str


def pending_executions(ctx: ServiceContext, caller: UserRecord) -> list[PendingWork]:
    """Approved models x the caller's approved datasets, on approved benchmarks in
    operation, minus the pairs that already have a result."""
    pending: list[PendingWork] = []
    with ctx.store.transaction() as tx:
        mine = {d.id: d for d in tx.list_datasets(owner_id=caller.id)}
        approved = tx.list_associations(status=ApprovalStatus.APPROVED)
        my_datasets = [
            a for a in approved if a.kind is AssociationKind.DATASET and a.entity_id in mine
        ]
        for dataset_association in my_datasets:
            benchmark = tx.benchmark(dataset_association.benchmark_id)
            if benchmark is None or benchmark.approval is not ApprovalStatus.APPROVED:
                continue
            if benchmark.stage is not Stage.OPERATION:
                continue
            dataset = mine[dataset_association.entity_id]
            done = {r.model_id for r in tx.list_results(benchmark.id, dataset_id=dataset.id)}
            models = [
                a
                for a in approved
                if a.kind is AssociationKind.MODEL and a.benchmark_id == benchmark.id
            ]
            for model_association in models:
                model = tx.cube(model_association.entity_id)
                if model is None or model.id in done:
                    continue
                pending.append(
                    PendingWork(
                        benchmark_id=benchmark.id,
                        benchmark=benchmark.name,
                        dataset_id=dataset.id,
                        dataset=dataset.name,
                        model_id=model.id,
                        model=model.name,
                        model_owner=model.owner,
                        model_hash=model.archive_hash,
                    )
                )
    return pending
