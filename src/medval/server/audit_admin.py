"""The operator's view of the audit log, straight from the database: ``medval server audit``.

``verify_audit_log`` checks every entry's hash, every link and the head
(``medval.trust.audit_chain``) and names the first entry that does not verify.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import inspect

from medval.core.errors import HashMismatch, InvalidInput
from medval.core.schemas import AuditEntryPublic
from medval.server.settings import ServerSettings
from medval.server.store.sql import SqlStore
from medval.trust.audit_chain import ChainHead, verify_chain

_READ_ATTEMPTS = 5


@contextmanager
def _audited_store(settings: ServerSettings) -> Iterator[SqlStore]:
    store = SqlStore.from_url(settings.database_url)
    try:
        if not inspect(store.engine).has_table("audit_entries"):
            raise InvalidInput("this database has no audit log yet; run: medval server migrate")
        yield store
    finally:
        store.close()


def read_audit_log(
    settings: ServerSettings,
    entity_kind: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
) -> list[AuditEntryPublic]:
    with _audited_store(settings) as store, store.transaction() as tx:
        ids = [entity_id] if entity_id is not None else None
        return tx.list_audit_entries(entity_kind, ids, actor)


def verify_audit_log(settings: ServerSettings) -> ChainHead:
    """The head of an unbroken log; ``HashMismatch`` naming the first bad entry otherwise."""
    with _audited_store(settings) as store:
        for _ in range(_READ_ATTEMPTS):
            # The head, the entries, the head again: equal heads mean no append came
            # in between, so the entries are the ones the head speaks of.
            with store.transaction() as tx:
                head = tx.audit_head()
                entries = tx.list_audit_entries()
                if tx.audit_head() == head:
                    break
        else:
            raise InvalidInput("the audit log kept growing while it was read; try again")
    found = verify_chain(entries, head)
    if found is not None:
        raise HashMismatch(f"audit log does not verify: {found.message}")
    return head
