"""Reading the server's audit log: an admin sees every entry; anyone else the entries
about what they own or may see (their account, cubes, datasets, benchmarks, the
associations they are party to, the results released to them, and in training their
aggregators, experiments, training associations and the rounds they may see) and the
ones they made.

Writing it is the store's business (``store.audit_log``): no use case appends by hand.
"""

from __future__ import annotations

from medval.core.paging import EVERYTHING, PageRequest
from medval.core.schemas import AuditEntryPublic
from medval.server.services.associations import list_associations
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, visible_page
from medval.server.services.results import list_results
from medval.server.services.training_audit import training_entities
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import UserRecord


def audit_entries(
    ctx: ServiceContext,
    caller: UserRecord,
    entity_kind: str | None = None,
    entity_ids: list[str] | None = None,
    actor: str | None = None,
    page: PageRequest = EVERYTHING,
) -> Page[AuditEntryPublic]:
    """In the log's order (by ``seq``)."""
    mine = None if caller.is_admin else _visible_entities(ctx, caller)

    def visible(entry: AuditEntryPublic) -> bool:
        return (
            mine is None
            or entry.actor == caller.username
            or (entry.entity_kind, entry.entity_id) in mine
        )

    with ctx.store.transaction() as tx:
        return visible_page(
            page,
            lambda after, n: tx.list_audit_entries(
                entity_kind, entity_ids, actor, after=after, limit=n
            ),
            lambda e: (e.seq,),
            visible,
        )


def _visible_entities(ctx: ServiceContext, caller: UserRecord) -> set[tuple[str, str]]:
    with ctx.store.transaction() as tx:
        mine = _owned(tx, caller)
    mine |= {
        ("association", str(a.id)) for a in list_associations(ctx, caller, None, None, None).items
    }
    mine |= {("result", str(r.id)) for r in list_results(ctx, caller, None, None, None).items}
    return mine | training_entities(ctx, caller)


def _owned(tx: StoreTransaction, caller: UserRecord) -> set[tuple[str, str]]:
    owned = {("user", str(caller.id))}
    owned |= {("cube", str(c.id)) for c in tx.list_cubes(owner_id=caller.id)}
    owned |= {("dataset", str(d.id)) for d in tx.list_datasets(owner_id=caller.id)}
    owned |= {("benchmark", str(b.id)) for b in tx.list_benchmarks() if b.owner_id == caller.id}
    return owned
