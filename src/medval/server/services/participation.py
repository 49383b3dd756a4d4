"""The participation view (issue 19): for each site a benchmark's committee expects, and
each site that joined without being expected, how far it got. For the benchmark's owner
(its committee) and admins only.

- joined: a dataset association of the site's was requested (any status), first when;
- prepared: a dataset of the site's is registered and its association approved;
- which models ran on its datasets (a result, succeeded or failed, was sent), how many
  results were sent and when, first and last;
- waiting: the oldest thing pending on the site, and since when: joining (since it was
  expected), or an approved model not yet run on an approved dataset (since both were
  approved). What is pending on the committee (a request to decide) is not the site's.

It reads names, registered datasets' names and ids, models, dates and counts: nothing a
patient's data gave (no statistics, no metrics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from medval.core.participation_schemas import (
    BenchmarkParticipation,
    SiteDataset,
    SiteKind,
    SiteParticipation,
)
from medval.core.states import ApprovalStatus, AssociationKind
from medval.server.services.context import ServiceContext
from medval.server.services.expected_sites import committee_benchmark
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    AssociationRecord,
    ExpectedSiteRecord,
    ResultRecord,
    UserRecord,
)


@dataclass(frozen=True)
class _Site:
    """Who a row is about: its kind and name, its accounts, and when it was expected."""

    kind: SiteKind
    name: str
    accounts: Sequence[UserRecord]
    expected_since: datetime | None


@dataclass(frozen=True)
class _Benchmark:
    """What the view reads of the benchmark, once."""

    datasets: Sequence[AssociationRecord]
    models: Sequence[AssociationRecord]  # approved, of valid models
    results: Sequence[ResultRecord]
    invalid_datasets: frozenset[int]  # nothing is waiting to run on these


def participation(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int
) -> BenchmarkParticipation:
    with ctx.store.transaction() as tx:
        benchmark = committee_benchmark(tx, caller, benchmark_id)
        read = _read(tx, benchmark.id, runs=benchmark.invalidated_at is None)
        sites = [_expected(tx, e) for e in tx.list_expected_sites(benchmark.id)]
        sites += _unexpected(tx, read, sites)
        rows = [_row(site, read) for site in sites]
    return BenchmarkParticipation(benchmark_id=benchmark.id, benchmark=benchmark.name, sites=rows)


def _read(tx: StoreTransaction, benchmark_id: int, runs: bool) -> _Benchmark:
    """``runs``: the benchmark is not invalidated (else no model waits to run)."""
    models = tx.list_associations(benchmark_id, AssociationKind.MODEL, ApprovalStatus.APPROVED)
    valid = [a for a in models if (c := tx.cube(a.entity_id)) and c.invalidated_at is None]
    datasets = tx.list_associations(benchmark_id, AssociationKind.DATASET)
    invalid = {
        a.entity_id
        for a in datasets
        if (d := tx.dataset(a.entity_id)) is None or d.invalidated_at is not None
    }
    return _Benchmark(
        datasets=datasets,
        models=valid if runs else [],
        results=tx.list_results(benchmark_id),
        invalid_datasets=frozenset(invalid),
    )


def _expected(tx: StoreTransaction, expected: ExpectedSiteRecord) -> _Site:
    if expected.kind is SiteKind.USER and expected.user_id is not None:
        account = tx.user(expected.user_id)
        accounts = [account] if account is not None else []
    else:
        accounts = tx.institution_members(expected.name)
    return _Site(expected.kind, expected.name, accounts, expected.created_at)


def _unexpected(tx: StoreTransaction, read: _Benchmark, expected: list[_Site]) -> list[_Site]:
    """Each data owner with a dataset association that no expected site covers."""
    covered = {account.id for site in expected for account in site.accounts}
    found: dict[int, UserRecord] = {}
    for association in read.datasets:
        owner_id = association.entity_owner_id
        if owner_id not in covered and owner_id not in found:
            owner = tx.user(owner_id)
            if owner is not None:
                found[owner_id] = owner
    ordered = sorted(found.values(), key=lambda user: user.username)
    return [_Site(SiteKind.USER, user.username, [user], None) for user in ordered]


def _row(site: _Site, read: _Benchmark) -> SiteParticipation:
    ids = {account.id for account in site.accounts}
    names = {account.id: account.username for account in site.accounts}
    mine = [a for a in read.datasets if a.entity_owner_id in ids]
    dataset_ids = {a.entity_id for a in mine}
    sent = [r for r in read.results if r.dataset_id in dataset_ids]
    runnable = [a for a in mine if a.entity_id not in read.invalid_datasets]
    waiting_for, waiting_since = _waiting(site, mine, runnable, read.models, sent)
    return SiteParticipation(
        kind=site.kind,
        name=site.name,
        expected=site.expected_since is not None,
        expected_since=site.expected_since,
        accounts=sorted(names.values()),
        joined=bool(mine),
        joined_at=min((a.created_at for a in mine), default=None),
        prepared=any(a.status is ApprovalStatus.APPROVED for a in mine),
        datasets=[
            SiteDataset(
                dataset_id=a.entity_id,
                dataset=a.entity_name,
                owner=names[a.entity_owner_id],
                status=a.status,
                requested_at=a.created_at,
            )
            for a in mine
        ],
        models_run=sorted({r.model for r in sent}),
        results_sent=len(sent),
        first_result_at=min((r.created_at for r in sent), default=None),
        last_result_at=max((r.created_at for r in sent), default=None),
        waiting_for=waiting_for,
        waiting_since=waiting_since,
    )


def _decided(association: AssociationRecord) -> datetime:
    return association.decided_at or association.created_at


def _waiting(
    site: _Site,
    datasets: Sequence[AssociationRecord],
    runnable: Sequence[AssociationRecord],
    models: Sequence[AssociationRecord],
    sent: Sequence[ResultRecord],
) -> tuple[str | None, datetime | None]:
    """The oldest thing pending on the site and since when (None: nothing); only the
    ``runnable`` datasets (not invalidated) wait for models."""
    if not datasets:
        if site.expected_since is None:
            return None, None
        what = "an account" if not site.accounts else "joining"
        return what, site.expected_since
    ran = {(r.dataset_id, r.model_id) for r in sent}
    pending = [
        (max(_decided(d), _decided(m)), f"model {m.entity_name} to run on {d.entity_name}")
        for d in runnable
        if d.status is ApprovalStatus.APPROVED
        for m in models
        if (d.entity_id, m.entity_id) not in ran
    ]
    if not pending:
        return None, None
    since, what = min(pending)
    return what, since
