"""The release policy: who may see which results and a benchmark's leaderboard."""

from __future__ import annotations

from medval.core.states import ApprovalStatus, ReleasePolicy
from medval.server.services.permissions import is_owner_or_admin
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, ResultRecord, UserRecord


def can_see_result(
    caller: UserRecord | None, result: ResultRecord, benchmark: BenchmarkRecord
) -> bool:
    """A per-site result: the benchmark owner, the dataset's owner, the model's owner, admins.
    The same for every release policy."""
    if caller is None:
        return False
    return caller.is_admin or caller.id in (
        benchmark.owner_id,
        result.dataset_owner_id,
        result.model_owner_id,
    )


def is_participant(tx: StoreTransaction, user: UserRecord, benchmark_id: int) -> bool:
    """Owns a dataset or a model with an approved association on the benchmark."""
    approved = tx.list_associations(benchmark_id=benchmark_id, status=ApprovalStatus.APPROVED)
    return any(a.entity_owner_id == user.id for a in approved)


def can_see_leaderboard(
    tx: StoreTransaction, caller: UserRecord | None, benchmark: BenchmarkRecord
) -> bool:
    """The aggregate, per the benchmark's release policy."""
    if benchmark.release_policy is ReleasePolicy.PUBLIC:
        return True
    if caller is None:
        return False
    if is_owner_or_admin(caller, benchmark.owner_id):
        return True
    if benchmark.release_policy is ReleasePolicy.PARTICIPANTS:
        return is_participant(tx, caller, benchmark.id)
    return False
