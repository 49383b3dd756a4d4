"""What a logged-in account takes part in: the benchmarks it owns, its datasets and
cubes, the associations it is a party to and the results on any of them, each fetched
from the service the API calls for the same caller (so a page never shows more).

An admin sees every association and result through the services; here only those the
admin takes part in are kept (the inbox and /mine are about one's own work).

It may import the services and the store's records; /mine and /inbox use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from medval.core.states import ApprovalStatus
from medval.server.services import associations, benchmarks, cubes, datasets, results
from medval.server.services.context import ServiceContext
from medval.server.store.records import (
    AssociationRecord,
    BenchmarkRecord,
    CubeRecord,
    DatasetRecord,
    ResultRecord,
    UserRecord,
)


@dataclass(frozen=True)
class Participation:
    benchmarks: list[BenchmarkRecord]  # owned
    datasets: list[DatasetRecord]  # owned
    cubes: list[CubeRecord]  # owned: models and the rest
    associations: list[AssociationRecord]  # of its datasets and models, or on its benchmarks
    results: list[ResultRecord]  # on its datasets, models or benchmarks
    benchmark_names: dict[int, str]  # every benchmark it may see

    def own_benchmark(self, benchmark_id: int) -> bool:
        return any(b.id == benchmark_id for b in self.benchmarks)

    def requests_to_decide(self) -> list[AssociationRecord]:
        """Pending requests to join one of its benchmarks."""
        return [
            a
            for a in self.associations
            if a.status is ApprovalStatus.PENDING and self.own_benchmark(a.benchmark_id)
        ]


def participation(ctx: ServiceContext, user: UserRecord) -> Participation:
    visible = benchmarks.list_benchmarks(ctx, user).items
    owned = [b for b in visible if b.owner_id == user.id]
    owned_ids = {b.id for b in owned}
    joined = [
        a
        for a in associations.list_associations(ctx, user, None, None, None).items
        if a.entity_owner_id == user.id or a.benchmark_id in owned_ids
    ]
    found = [
        r
        for r in results.list_results(ctx, user, None, None, None).items
        if user.id in (r.dataset_owner_id, r.model_owner_id) or r.benchmark_id in owned_ids
    ]
    return Participation(
        benchmarks=owned,
        datasets=datasets.list_datasets(ctx, user, mine=True).items,
        cubes=cubes.list_cubes(ctx, user, None, mine=True).items,
        associations=joined,
        results=found,
        benchmark_names={b.id: b.name for b in visible},
    )


def pending_benchmarks(ctx: ServiceContext, user: UserRecord) -> list[BenchmarkRecord]:
    """The benchmarks waiting for an admin's decision (none for anyone else)."""
    if not user.is_admin:
        return []
    return [
        b
        for b in benchmarks.list_benchmarks(ctx, user).items
        if b.approval is ApprovalStatus.PENDING
    ]
