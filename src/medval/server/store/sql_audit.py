"""The SQL store's part for the audit log, on ``SqlRows``: a change that is not a row (a
blob's upload), recorded by its service, and the log read back, in its order and in pages.
Every other change is recorded where rows are written (``sql_rows``, ``audit_log``).
"""

from __future__ import annotations

from sqlalchemy import select

from medval.core.paging import Cursor
from medval.core.schemas import AuditEntryPublic
from medval.server.store import models as m
from medval.server.store.sql_rows import SqlRows, matching, paged
from medval.trust.audit_chain import ChainHead


class SqlAuditRows(SqlRows):
    def record_change(
        self,
        entity_kind: str,
        entity_id: str,
        action: str,
        before_hash: str | None,
        after_hash: str | None,
    ) -> None:
        self.audit.record(entity_kind, entity_id, action, before_hash, after_hash)

    def list_audit_entries(
        self,
        entity_kind: str | None = None,
        entity_ids: list[str] | None = None,
        actor: str | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[AuditEntryPublic]:
        query = matching(
            select(m.AuditEntry),
            (m.AuditEntry.entity_kind, entity_kind),
            (m.AuditEntry.actor, actor),
        )
        if entity_ids is not None:
            query = query.where(m.AuditEntry.entity_id.in_(entity_ids))
        return self._list(AuditEntryPublic, paged(query, [m.AuditEntry.seq], after, limit))

    def audit_head(self) -> ChainHead:
        return self.audit.head()
