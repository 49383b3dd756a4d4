"""Executing approved models on the data owner's datasets, and the upload payload.

A run is resumable: an execution whose local result exists is not run again (unless
forced), so an interrupted ``medval run`` picks up where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from medval.client.datasets import prepared_folders, verify_prepared
from medval.client.execution import Executor
from medval.client.workspace import LocalDataset, LocalResult, result_key
from medval.core.documents import Provenance
from medval.core.errors import HashMismatch, NotFound
from medval.core.schemas import PendingExecution, ResultCreate
from medval.core.states import check_valid


@dataclass(frozen=True)
class PlannedExecution:
    pending: PendingExecution
    dataset: LocalDataset | None  # None: registered from another machine or workspace
    done: LocalResult | None  # a local result from an earlier run

    @property
    def key(self) -> str:
        p = self.pending
        return result_key(p.benchmark_id, p.model_id, p.dataset_id)


def plan(
    executor: Executor, benchmark_id: int | None = None, model_ids: set[int] | None = None
) -> list[PlannedExecution]:
    """What the server says is waiting for this account, matched with local state
    (only one benchmark's, or only some models', when given)."""
    workspace = executor.workspace
    planned = []
    for pending in executor.client.pending_executions():
        if benchmark_id is not None and pending.benchmark_id != benchmark_id:
            continue
        if model_ids is not None and pending.model_id not in model_ids:
            continue
        key = result_key(pending.benchmark_id, pending.model_id, pending.dataset_id)
        planned.append(
            PlannedExecution(
                pending=pending,
                dataset=workspace.dataset_by_server_id(pending.dataset_id),
                done=workspace.result(key),
            )
        )
    return planned


def refuse_invalid_models(
    executor: Executor, model_ids: set[int] | None, planned: list[PlannedExecution]
) -> None:
    """A model asked for by id that has nothing pending because it was invalidated is
    refused in one line, not silently skipped."""
    waiting = {item.pending.model_id for item in planned}
    for model_id in sorted((model_ids or set()) - waiting):
        model = executor.client.cube(model_id)
        check_valid(f"model {model.name} ({model.id})", model)


def execute(executor: Executor, item: PlannedExecution) -> LocalResult:
    """infer then evaluate in the sandbox, after checking every hash; keeps the result local."""
    if item.dataset is None:
        raise NotFound(
            f"dataset {item.pending.dataset} was not prepared in this workspace "
            f"({executor.workspace.home})"
        )
    client = executor.client
    pending, dataset = item.pending, item.dataset
    benchmark = client.benchmark(pending.benchmark_id)
    check_valid(f"benchmark {benchmark.name} ({benchmark.id})", benchmark)
    executor.require_supported_by(benchmark)
    model = client.cube(pending.model_id)
    if model.archive_hash != pending.model_hash:
        raise HashMismatch(f"model {model.name}'s registered hash changed; refusing to run it")
    preparator = client.cube(benchmark.data_preparator_id)
    evaluator = client.cube(benchmark.evaluator_id)
    if preparator.archive_hash != dataset.data_preparator_hash:
        raise HashMismatch(
            f"dataset {dataset.name} was prepared with another preparation cube than "
            f"benchmark {benchmark.name} uses; prepare it again"
        )
    verify_prepared(executor, dataset)  # the data is hashed once per execution, here
    data, labels = prepared_folders(executor, dataset)
    document = executor.evaluate_model(
        model, evaluator, data, labels, executor.workspace.result_dir(item.key)
    )
    result = LocalResult(
        benchmark_id=pending.benchmark_id,
        dataset_id=pending.dataset_id,
        dataset=dataset.name,
        model_id=model.id,
        model=model.name,
        document=document,
        provenance=Provenance(
            dataset_hash=dataset.data_hash,
            data_preparator_hash=preparator.archive_hash,
            model_hash=model.archive_hash,
            evaluator_hash=evaluator.archive_hash,
        ),
        executed_at=datetime.now(UTC),
    )
    executor.workspace.save_result(result)
    return result


def upload_payload(result: LocalResult) -> ResultCreate:
    """Exactly what an upload sends: aggregate metrics with intervals, and the hashes."""
    return ResultCreate(
        benchmark_id=result.benchmark_id,
        dataset_id=result.dataset_id,
        model_id=result.model_id,
        document=result.document,
        provenance=result.provenance,
    )
