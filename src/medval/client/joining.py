"""Joining a benchmark: the use cases behind ``medval model associate`` and
``medval dataset associate``, for every face (CLI, console, tests).

A model owner's request comes in two steps, so that each face shows the compatibility
test's result and asks in its own way:

1. :func:`try_model` refuses what cannot join (an invalidated benchmark or model, a
   runner the benchmark does not support) before anything runs, then runs the model
   between the benchmark's own preparation cube and evaluator on its demo data;
2. :func:`ask_to_join` sends the request and keeps it in the local audit log.

A data owner's request is :func:`dataset_request` (which benchmark, which registered
dataset of this workspace) then :func:`ask_to_join`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from medval.client.audit_log import LocalAuditLog, record
from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.workspace import Workspace
from medval.core.document_mapping import ReadDocument
from medval.core.documents import ResultDocument
from medval.core.errors import InvalidInput
from medval.core.schemas import AssociationCreate, AssociationPublic, BenchmarkPublic, CubePublic
from medval.core.states import AssociationKind, check_valid


@dataclass(frozen=True)
class ModelTrial:
    """A model's compatibility test on a benchmark's demo data, passed."""

    benchmark: BenchmarkPublic
    model: CubePublic
    result: ReadDocument[ResultDocument]

    def request(self) -> AssociationCreate:
        return AssociationCreate(
            benchmark_id=self.benchmark.id, kind=AssociationKind.MODEL, entity_id=self.model.id
        )


def try_model(
    executor: Executor, model_id: int, benchmark_id: int, say: Callable[[str], None]
) -> ModelTrial:
    """Step 1 for a model owner: the checks, then the compatibility test (``say`` is told
    when it starts). A failed test raises, as the execution's own error."""
    client = executor.client
    benchmark = client.benchmark(benchmark_id)
    model = client.cube(model_id)
    # Refused before the compatibility test runs anything.
    check_valid(f"benchmark {benchmark.name} ({benchmark.id})", benchmark)
    check_valid(f"model {model.name} ({model.id})", model)
    executor.require_supported_by(benchmark)
    say(f"compatibility test of {model.name} on {benchmark.name}'s demo data")
    result = executor.compatibility_test(
        client.cube(benchmark.data_preparator_id),
        model,
        client.cube(benchmark.evaluator_id),
        executor.demo_data(benchmark.demo_data_hash),
        benchmark_k=benchmark.min_cell_count,
        declared=benchmark.metrics,
    )
    return ModelTrial(benchmark, model, result)


def dataset_request(
    workspace: Workspace, name: str, benchmark_id: int | None = None
) -> AssociationCreate:
    """A data owner's request for the dataset ``name`` of this workspace: to the benchmark
    it was prepared for, unless ``benchmark_id`` names another."""
    dataset = workspace.dataset(name)
    if dataset.server_id is None:
        raise InvalidInput(f"dataset {name!r} is not registered; run 'medval dataset register'")
    return AssociationCreate(
        benchmark_id=benchmark_id or dataset.benchmark_id,
        kind=AssociationKind.DATASET,
        entity_id=dataset.server_id,
    )


def ask_to_join(
    client: MedvalClient, audit_log: LocalAuditLog, request: AssociationCreate
) -> AssociationPublic:
    """Step 2: the request sent (the benchmark's owner decides, unless its auto-approval
    rule does), and kept in the local audit log."""
    association = client.request_association(request)
    record(audit_log, "request", "association", str(association.id), association)
    return association
