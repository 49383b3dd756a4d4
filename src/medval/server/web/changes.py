"""What changed since the caller's last visit to the inbox: decisions on the associations
they are party to and results on their datasets, models and benchmarks, newer than the
visit and made by someone else.

The last visit is kept in the browser (a cookie, ``SEEN_COOKIE``: the account's id and
an ISO time), not in the database: no migration, and a browser another account used
shows that account nothing of the first's. A benchmark's approval carries no time in
the store, so an admin's decision on a benchmark is not listed here (its state shows
on /mine).

It may import the core and the store's records; ``server/web/inbox`` uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote

from medval.core.states import ApprovalStatus
from medval.server.store.records import AssociationRecord, ResultRecord, UserRecord

SEEN_COOKIE = "medval_seen"


@dataclass(frozen=True)
class Change:
    at: datetime
    text: str


def seen_value(user: UserRecord, at: datetime) -> str:
    return quote(f"{user.id} {at.isoformat()}")


def last_visit(user: UserRecord, cookie: str | None) -> datetime | None:
    """The time in ``cookie`` if it is this account's and well formed, else None."""
    if not cookie:
        return None
    owner, _, when = unquote(cookie).partition(" ")
    if owner != str(user.id):
        return None
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def changes_since(
    since: datetime,
    user: UserRecord,
    associations: Iterable[AssociationRecord],
    results: Iterable[ResultRecord],
    benchmark_names: Mapping[int, str],
) -> list[Change]:
    """Newest first; the caller's own moves are not news to them."""
    found: list[Change] = []
    for association in associations:
        where = benchmark_names.get(association.benchmark_id, f"#{association.benchmark_id}")
        what = f"{association.kind.value} {association.entity_name} on benchmark {where}"
        for event in association.history:
            if event.at > since and event.by != user.username:
                pending = event.status is ApprovalStatus.PENDING
                move = "requested" if pending else event.status.value
                how = " (automatically, by the benchmark's rule)" if event.automatic else ""
                found.append(Change(event.at, f"{what}: {move} by {event.by}{how}"))
    for result in results:
        if result.created_at > since and result.owner != user.username:
            where = benchmark_names.get(result.benchmark_id, f"#{result.benchmark_id}")
            found.append(
                Change(
                    result.created_at,
                    f"new result ({result.status.value}) of model {result.model} on dataset "
                    f"{result.dataset}, benchmark {where}",
                )
            )
    return sorted(found, key=lambda change: change.at, reverse=True)
