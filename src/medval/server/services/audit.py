"""Reading the server's audit log: an admin sees every entry; anyone else the entries
about what they own or may see (their account, cubes, datasets, benchmarks, the
associations they are party to, the results released to them, and in training their
aggregators, experiments, training associations and the rounds they may see) and the
ones they made.

Writing it is the store's business (``store.audit_log``): no use case appends by hand.
"""

from __future__ import annotations

from medval.core.schemas import AuditEntryPublic
from medval.server.services.associations import list_associations
from medval.server.services.context import ServiceContext
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
) -> list[AuditEntryPublic]:
    with ctx.store.transaction() as tx:
        entries = tx.list_audit_entries(entity_kind, entity_ids, actor)
        if caller.is_admin:
            return entries
        mine = _owned(tx, caller)
    mine |= {("association", str(a.id)) for a in list_associations(ctx, caller, None, None, None)}
    mine |= {("result", str(r.id)) for r in list_results(ctx, caller, None, None, None)}
    mine |= training_entities(ctx, caller)
    return [
        e for e in entries if e.actor == caller.username or (e.entity_kind, e.entity_id) in mine
    ]


def _owned(tx: StoreTransaction, caller: UserRecord) -> set[tuple[str, str]]:
    owned = {("user", str(caller.id))}
    owned |= {("cube", str(c.id)) for c in tx.list_cubes(owner_id=caller.id)}
    owned |= {("dataset", str(d.id)) for d in tx.list_datasets(owner_id=caller.id)}
    owned |= {("benchmark", str(b.id)) for b in tx.list_benchmarks() if b.owner_id == caller.id}
    return owned
