"""What the data owner reviews before approving a run: each pending execution's state
here, every hash that will be checked before it runs, the clauses of the dataset's
policy that apply to it (``medval run`` and ``medval console`` show the same), and
whether each model needs a GPU the run does not give (said before anything runs).

Imports: the HTTP client, the executor and planned executions, the core.
"""

from __future__ import annotations

from dataclasses import dataclass

from medval.client.execution import Executor, SilentProgress
from medval.client.http import MedvalClient
from medval.client.runs import PlannedExecution
from medval.core.errors import InvalidInput, MedvalError
from medval.core.gpus import GpuDevices, GpuNeed
from medval.core.membership_schemas import DataPolicy
from medval.core.states import ExecutionStatus


def execution_state(item: PlannedExecution) -> str:
    """Where a planned execution stands here, in a few words."""
    if item.refusal() is not None:
        return "refused by policy"
    if item.done is not None:
        return "failed here" if item.done.status is ExecutionStatus.FAILED else "done locally"
    if item.dataset is None:
        return "not here"
    return "failed (recorded)" if item.pending.failed else "to run"


@dataclass(frozen=True)
class ExecutionHashes:
    """The registered hashes an execution is checked against before anything runs."""

    model: str
    data_preparator: str
    evaluator: str
    dataset: str | None  # None: the dataset was not prepared in this workspace


def execution_hashes(client: MedvalClient, item: PlannedExecution) -> ExecutionHashes:
    """The model's, the benchmark's preparation and evaluator cubes', and the data's."""
    benchmark = client.benchmark(item.pending.benchmark_id)
    return ExecutionHashes(
        model=item.pending.model_hash,
        data_preparator=client.cube(benchmark.data_preparator_id).archive_hash,
        evaluator=client.cube(item.pending.evaluator_id or benchmark.evaluator_id).archive_hash,
        dataset=item.dataset.data_hash if item.dataset is not None else None,
    )


def model_gpu_needs(executor: Executor, items: list[PlannedExecution]) -> dict[int, GpuNeed]:
    """What each model's spec declares about GPUs, by model ID: read from its verified
    archive as the run will read it (from the site's mirror for a hub model), never run.
    A model whose archive cannot be read here is left out: its execution fails with that
    reason when it runs, as it would without this review, and the others still run."""
    needs: dict[int, GpuNeed] = {}
    # Its steps (a download) are not said: each execution's lines come after the plan.
    reader = executor.reporting_to(SilentProgress())
    for model_id in dict.fromkeys(item.pending.model_id for item in items):
        try:
            with reader.unpacked(reader.client.cube(model_id)) as (_, spec):
                needs[model_id] = spec.gpu
        except MedvalError:
            continue
    return needs


def refuse_missing_gpus(
    items: list[PlannedExecution], needs: dict[int, GpuNeed], gpus: GpuDevices
) -> None:
    """One line, before any task runs, when a model that needs a GPU would get none."""
    if gpus.ids:
        return
    wanting = sorted(
        {i.pending.model for i in items if needs.get(i.pending.model_id) is GpuNeed.NEEDS}
    )
    if wanting:
        raise InvalidInput(
            f"model {', '.join(wanting)} needs a GPU and this run gives none: "
            "run with --gpus all or --gpus IDS on a machine with one"
        )


def policy_clauses(policy: DataPolicy, runs: int) -> list[tuple[str, str]]:
    """Each clause of the dataset's policy on the benchmark, in words (name, what it says)."""
    owners = policy.model_owners
    return [
        (
            "model owners",
            "any the committee approves" if owners is None else ", ".join(owners) or "no one",
        ),
        (
            "runs per model",
            "unlimited"
            if policy.max_runs is None
            else f"at most {policy.max_runs} ({runs} so far)",
        ),
        (
            "expires on",
            "never" if policy.expires_on is None else policy.expires_on.isoformat(),
        ),
    ]
