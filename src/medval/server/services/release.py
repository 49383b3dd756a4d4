"""The release policy: who may see which results and a benchmark's leaderboard.

Minimum sites: a model's results on a benchmark are released (pooled on the leaderboard,
per site to the model's owner and admins) only once they come from at least the
benchmark's ``min_sites`` sites (succeeded executions; a failed one, which holds no
figure, is released as before). Below it, the benchmark owner
sees everything and each site's data owner its own result; nobody else sees any of it,
not the model's owner, not an admin, not the public.

Publication (issue 19, ``core.phases``): a result of a phase whose results are held is
seen, until the committee publishes it, only by the committee (the benchmark owner, and
admins) and the data owner who sent it; withheld, by the model's owner too, with the
committee's reason. Once published, the rules above apply to it as to any.
"""

from __future__ import annotations

from typing import Protocol

from medval.core.documents import ResultDocument
from medval.core.phases import ResultPublication
from medval.core.states import ReleasePolicy
from medval.server.services.permissions import is_owner_or_admin
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, UserRecord


class SiteResult(Protocol):
    """What a per-site result is released by: whether it holds figures, and whose
    dataset and model it is of (a ``ResultRecord``; a ``LeaderboardRow``, as a board
    reads it)."""

    @property
    def document(self) -> ResultDocument | None: ...
    @property
    def dataset_owner_id(self) -> int: ...
    @property
    def model_owner_id(self) -> int: ...
    @property
    def publication(self) -> ResultPublication: ...


def site_count(
    tx: StoreTransaction, benchmark_id: int, model_id: int, phase_id: int | None = None
) -> int:
    """The sites whose execution of the model on the benchmark (in phase ``phase_id``;
    None: in any) succeeded, among the results released by the release policy."""
    found = tx.list_results(benchmark_id=benchmark_id, model_id=model_id, phase_id=phase_id)
    return len({r.dataset_id for r in found if r.document is not None and r.publication.shown})


def is_released(benchmark: BenchmarkRecord, sites: int) -> bool:
    return sites >= benchmark.min_sites


def sees_unreleased(
    caller: UserRecord | None, result: SiteResult, benchmark: BenchmarkRecord
) -> bool:
    """Below min_sites: the benchmark owner, and the data owner of the result's site."""
    return caller is not None and caller.id in (benchmark.owner_id, result.dataset_owner_id)


def can_see_result(
    caller: UserRecord | None, result: SiteResult, benchmark: BenchmarkRecord, sites: int
) -> bool:
    """A per-site result (``sites``: the model's on the benchmark, see site_count): the
    benchmark owner, the dataset's owner, and once released the model's owner and admins.
    A failed execution (a verdict, no figure from any patient) is released as if it were.
    The same for every release policy."""
    if caller is None:
        return False
    if not result.publication.shown:
        return _sees_unpublished(caller, result, benchmark)
    if result.document is not None and not is_released(benchmark, sites):
        return sees_unreleased(caller, result, benchmark)
    return caller.is_admin or caller.id in (
        benchmark.owner_id,
        result.dataset_owner_id,
        result.model_owner_id,
    )


def _sees_unpublished(caller: UserRecord, result: SiteResult, benchmark: BenchmarkRecord) -> bool:
    """Held: the committee (and admins) and the site that sent it; withheld, the model's
    owner too (it sees the committee's reason)."""
    if caller.is_admin or caller.id in (benchmark.owner_id, result.dataset_owner_id):
        return True
    return result.publication is ResultPublication.WITHHELD and caller.id == result.model_owner_id


def is_participant(tx: StoreTransaction, user: UserRecord, benchmark_id: int) -> bool:
    """Owns a dataset or a model with an approved association on the benchmark."""
    return tx.participates(benchmark_id, user.id)


def can_see_leaderboard(
    tx: StoreTransaction, caller: UserRecord | None, benchmark: BenchmarkRecord
) -> bool:
    """The aggregate, per the benchmark's release policy (each entry then per min_sites)."""
    if benchmark.release_policy is ReleasePolicy.PUBLIC:
        return True
    if caller is None:
        return False
    if is_owner_or_admin(caller, benchmark.owner_id):
        return True
    if benchmark.release_policy is ReleasePolicy.PARTICIPANTS:
        return is_participant(tx, caller, benchmark.id)
    return False
