"""A data owner's policy on a dataset's association, evaluated: may this model run here?

The client (before it runs a model, and in the pending-work listing) and the server
(before it accepts a result) call the same function, so the two cannot disagree. Each
refusal is one line naming the clause. Imports only ``medval.core``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from medval.core.errors import PolicyRefused
from medval.core.membership_schemas import DataPolicy


@dataclass(frozen=True)
class Execution:
    """One model on one dataset, as a policy sees it. ``runs``: how many times the
    model has run there already (results uploaded, succeeded or failed)."""

    model_id: int
    model_owner: str
    dataset_id: int
    runs: int


def refusal(policy: DataPolicy, execution: Execution, today: date) -> str | None:
    """The line naming the first clause that refuses ``execution`` on ``today`` (UTC),
    or None when the policy allows it. Clauses: expiry, allowlist, number of runs."""
    if policy.expires_on is not None and today >= policy.expires_on:
        return f"policy: the association expired on {policy.expires_on.isoformat()}"
    if policy.model_owners is not None and execution.model_owner not in policy.model_owners:
        return f"policy: model owner '{execution.model_owner}' is not on this dataset's allowlist"
    if policy.max_runs is not None and execution.runs >= policy.max_runs:
        times = "time" if execution.runs == 1 else "times"
        return (
            f"policy: model {execution.model_id} has run {execution.runs} {times} on dataset "
            f"{execution.dataset_id}, the limit is {policy.max_runs}"
        )
    return None


def require_allowed(policy: DataPolicy, execution: Execution, today: date) -> None:
    """Raise ``PolicyRefused`` with the clause's line when the policy refuses it."""
    line = refusal(policy, execution, today)
    if line is not None:
        raise PolicyRefused(line)


def clauses(policy: DataPolicy) -> list[tuple[str, str]]:
    """Each clause in words, as (clause, value), for showing a policy to either side."""
    owners = policy.model_owners
    return [
        (
            "model owners",
            "anyone the committee approves" if owners is None else ", ".join(owners) or "nobody",
        ),
        (
            "runs per model",
            "unlimited" if policy.max_runs is None else str(policy.max_runs),
        ),
        (
            "expires on",
            "never" if policy.expires_on is None else policy.expires_on.isoformat(),
        ),
    ]


def for_model_owner(policy: DataPolicy, model_owner: str) -> DataPolicy:
    """The clauses that concern one model owner: whether they are on the allowlist (the
    list shows them alone, or no one), never the other names on it."""
    if policy.model_owners is None:
        return policy
    mine = [name for name in policy.model_owners if name == model_owner]
    return policy.model_copy(update={"model_owners": mine})
