"""Who may join a benchmark, on what terms: its membership agreement and auto-approval.

A benchmark may require a membership agreement (a text pinned by its sha256): each data
owner accepts it once, by hash, before any association of theirs with the benchmark can
be requested. A new agreement (another hash) must be accepted anew. Its owner may also
let the system approve associations at request time (always, or for an allowlist of
users); such an approval is recorded in the association's history as made by the
system on the owner's behalf (``automatic``).
"""

from __future__ import annotations

from typing import Protocol

from medval.core.errors import Conflict, InvalidTransition
from medval.core.membership_schemas import AutoApprovalRule, MembershipAgreement
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.states import AutoApprovalMode
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import is_owner_or_admin, require_owner_or_admin
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    AgreementAcceptanceRecord,
    BenchmarkRecord,
    UserRecord,
)


def set_agreement(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, agreement: MembershipAgreement
) -> BenchmarkRecord:
    """The benchmark owner (or an admin) requires an agreement, or replaces it."""
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
        return tx.set_benchmark_agreement(benchmark.id, agreement)


def set_auto_approval(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, rule: AutoApprovalRule
) -> BenchmarkRecord:
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
        return tx.set_benchmark_auto_approval(benchmark.id, rule)


def accept_agreement(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, sha256: str
) -> AgreementAcceptanceRecord:
    """The caller accepts the agreement they read, named by its hash; accepting the same
    agreement again changes nothing (the first acceptance is returned)."""
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        if benchmark.agreement is None:
            raise InvalidTransition(f"benchmark {benchmark.name} requires no agreement")
        if benchmark.agreement.sha256 != sha256:
            raise Conflict(
                f"benchmark {benchmark.name}'s agreement is {benchmark.agreement.sha256}, not "
                f"{sha256}; read it again"
            )
        for accepted in tx.agreement_acceptances(benchmark.id, caller.id):
            if accepted.sha256 == sha256:
                return accepted
        return tx.add_agreement_acceptance(benchmark.id, caller.id, sha256, ctx.clock())


def list_acceptances(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, page: PageRequest = EVERYTHING
) -> Page[AgreementAcceptanceRecord]:
    """Every acceptance for the benchmark's owner (and admins); one's own for others."""
    with ctx.store.transaction() as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        whose = None if is_owner_or_admin(caller, benchmark.owner_id) else caller.id
        return visible_page(
            page,
            lambda after, n: tx.agreement_acceptances(benchmark.id, whose, after=after, limit=n),
            by_id,
        )


def require_agreement_accepted(
    tx: StoreTransaction, benchmark: BenchmarkRecord, data_owner_id: int
) -> None:
    """A dataset joins a benchmark only once its owner accepted the benchmark's agreement."""
    agreement = benchmark.agreement
    if agreement is None:
        return
    accepted = tx.agreement_acceptances(benchmark.id, data_owner_id)
    if not any(a.sha256 == agreement.sha256 for a in accepted):
        raise InvalidTransition(
            f"benchmark {benchmark.name} requires its membership agreement "
            f"(sha256 {agreement.sha256}); accept it first: "
            f"medval benchmark agreement accept {benchmark.id}"
        )


class TakesRequests(Protocol):
    """What decides requests to join: a benchmark, or a training experiment."""

    @property
    def owner_id(self) -> int: ...

    @property
    def auto_approval(self) -> AutoApprovalRule: ...


def approves_at_request(benchmark: TakesRequests, requester: UserRecord) -> bool:
    """Whether the benchmark's (or training experiment's) rule approves a request by
    ``requester`` at once. Never the owner's own request: someone else must approve it
    (four eyes)."""
    if requester.id == benchmark.owner_id:
        return False
    rule = benchmark.auto_approval
    if rule.mode is AutoApprovalMode.ALWAYS:
        return True
    return rule.mode is AutoApprovalMode.ALLOWLIST and requester.username in rule.users
