"""A data owner's policies on their datasets' associations: shown, changed, and judged
before anything runs (with ``medval.trust.data_policy``, the code the server runs too)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from medval.client.http import MedvalClient
from medval.core.errors import InvalidInput, NotFound, describe_problems
from medval.core.membership_schemas import DataPolicy
from medval.core.result_schemas import PendingExecution
from medval.core.schemas import AssociationPublic
from medval.core.states import AssociationKind
from medval.trust.data_policy import Execution, refusal


def dataset_associations(
    client: MedvalClient, dataset_id: int, benchmark_id: int | None = None
) -> list[AssociationPublic]:
    """The dataset's associations (with a benchmark, when given) that the caller sees."""
    found = client.associations(benchmark_id=benchmark_id, kind=AssociationKind.DATASET.value)
    mine = [a for a in found if a.entity_id == dataset_id]
    if not mine:
        on = f" with benchmark {benchmark_id}" if benchmark_id is not None else ""
        raise NotFound(f"dataset {dataset_id} has no association{on} that you can see")
    return mine


def change_policy(
    client: MedvalClient, dataset_id: int, benchmark_id: int, changes: dict[str, Any]
) -> AssociationPublic:
    """The policy of the dataset's association with the benchmark, with ``changes``
    (clause name -> new value; the clauses not named stay as they are)."""
    if not changes:
        raise InvalidInput("name at least one clause to change (see --help)")
    (association,) = dataset_associations(client, dataset_id, benchmark_id)
    policy = updated_policy(association.policy, changes)
    return client.set_association_policy(association.id, policy)


def updated_policy(policy: DataPolicy, changes: dict[str, Any]) -> DataPolicy:
    """``policy`` with ``changes`` (clause name -> new value), checked whole."""
    if not changes:
        raise InvalidInput("name at least one clause to change (see --help)")
    try:
        return DataPolicy.model_validate(policy.model_dump() | changes)
    except ValidationError as exc:
        raise InvalidInput(describe_problems(exc.errors())) from None


def policy_refusal(pending: PendingExecution, today: date) -> str | None:
    """The line naming the clause of the dataset's policy that refuses this execution,
    or None when it may run."""
    execution = Execution(
        model_id=pending.model_id,
        model_owner=pending.model_owner,
        dataset_id=pending.dataset_id,
        runs=pending.runs,
    )
    return refusal(pending.policy, execution, today)
