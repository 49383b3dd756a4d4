"""Pending executions: the work waiting on the caller's datasets."""

from __future__ import annotations

from medval.core.result_schemas import PendingExecution
from medval.core.states import ApprovalStatus, AssociationKind, ExecutionStatus, Stage
from medval.server.services.context import ServiceContext
from medval.server.services.validity import benchmark_blocker
from medval.server.store.records import UserRecord


def pending_executions(ctx: ServiceContext, caller: UserRecord) -> list[PendingExecution]:
    """Approved models x the caller's approved datasets, on approved benchmarks in
    operation, minus the pairs that already have a succeeded result (a failed one is
    still pending, marked ``failed``: it may be run and uploaded again). Each carries
    the dataset's policy and the model's runs there, for the client to judge. Nothing
    invalidated runs: not a benchmark (or its preparation or evaluator cube), a dataset
    or a model."""
    pending: list[PendingExecution] = []
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
            if dataset.invalidated_at is not None or benchmark_blocker(tx, benchmark):
                continue
            results = tx.list_results(benchmark.id, dataset_id=dataset.id)
            done = {r.model_id for r in results if r.status is ExecutionStatus.SUCCEEDED}
            failed = {r.model_id for r in results if r.status is ExecutionStatus.FAILED}
            runs = {r.model_id: r.runs for r in results}
            models = [
                a
                for a in approved
                if a.kind is AssociationKind.MODEL and a.benchmark_id == benchmark.id
            ]
            for model_association in models:
                model = tx.cube(model_association.entity_id)
                if model is None or model.id in done or model.invalidated_at is not None:
                    continue
                pending.append(
                    PendingExecution(
                        benchmark_id=benchmark.id,
                        benchmark=benchmark.name,
                        dataset_id=dataset.id,
                        dataset=dataset.name,
                        model_id=model.id,
                        model=model.name,
                        model_owner=model.owner,
                        model_hash=model.archive_hash,
                        failed=model.id in failed,
                        policy=dataset_association.policy,
                        runs=runs.get(model.id, 0),
                    )
                )
    return pending
