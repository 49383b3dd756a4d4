"""A committee's expected sites (issue 19): the accounts and institutions a benchmark's
owner (or an admin) expects to take part, and the rule that follows from them: a dataset
association requested by an expected site is approved at once, on the benchmark owner's
behalf, and its audit entry says it was because the site is expected.

A site is expected as a user (its account) or as an institution (every account an admin
put in it, ``accounts.set_institution``). Removing one removes that expectation only:
what was approved while it held stays approved.
"""

from __future__ import annotations

from medval.core.errors import Conflict, NotFound
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.participation_schemas import ExpectedSiteCreate, SiteKind
from medval.core.schemas import check_name
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import require_owner_or_admin
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, ExpectedSiteRecord, UserRecord

# What the audit entry of an approval by this rule says.
EXPECTED_SITE = "expected site"


def committee_benchmark(
    tx: StoreTransaction, caller: UserRecord, benchmark_id: int
) -> BenchmarkRecord:
    """The benchmark, when the caller is its owner (its committee) or an admin."""
    benchmark = visible_benchmark(tx, caller, benchmark_id)
    require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
    return benchmark


def _site_key(tx: StoreTransaction, site: ExpectedSiteCreate) -> str | int:
    """The user's id, or the institution's name; an unknown one is NotFound."""
    if site.kind is SiteKind.USER:
        user = tx.user_by_name(check_name(site.name, "username"))
        if user is None:
            raise NotFound(f"no user named {site.name!r}")
        return user.id
    if not tx.institution_members(site.name):
        raise NotFound(
            f"no account is in institution {site.name!r} "
            "(an admin puts accounts in one: medval users institution)"
        )
    return site.name


def expect(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, site: ExpectedSiteCreate
) -> ExpectedSiteRecord:
    with ctx.transaction(caller) as tx:
        benchmark = committee_benchmark(tx, caller, benchmark_id)
        key = _site_key(tx, site)
        if _find(tx, benchmark.id, site) is not None:
            raise Conflict(
                f"{site.kind.value} {site.name!r} is already expected on {benchmark.name}"
            )
        return tx.add_expected_site(benchmark.id, site.kind, key, caller.id, ctx.clock())


def expected_sites(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, page: PageRequest = EVERYTHING
) -> Page[ExpectedSiteRecord]:
    """By id."""
    with ctx.store.transaction() as tx:
        benchmark = committee_benchmark(tx, caller, benchmark_id)
        return visible_page(
            page, lambda after, n: tx.list_expected_sites(benchmark.id, after=after, limit=n), by_id
        )


def unexpect(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, site: ExpectedSiteCreate
) -> ExpectedSiteRecord:
    """The expectation removed, and nothing else; returns it as it was."""
    with ctx.transaction(caller) as tx:
        benchmark = committee_benchmark(tx, caller, benchmark_id)
        expected = _find(tx, benchmark.id, site)
        if expected is None:
            raise NotFound(f"{site.kind.value} {site.name!r} is not expected on {benchmark.name}")
        tx.delete_expected_site(expected.id)
        return expected


def _find(
    tx: StoreTransaction, benchmark_id: int, site: ExpectedSiteCreate
) -> ExpectedSiteRecord | None:
    for expected in tx.list_expected_sites(benchmark_id):
        if (expected.kind, expected.name) == (site.kind, site.name):
            return expected
    return None


def is_expected(tx: StoreTransaction, benchmark_id: int, user: UserRecord) -> bool:
    """Whether the account is expected on the benchmark, itself or by its institution."""
    for expected in tx.list_expected_sites(benchmark_id):
        if expected.kind is SiteKind.USER and expected.user_id == user.id:
            return True
        if expected.kind is SiteKind.INSTITUTION and expected.institution == user.institution:
            return True
    return False
