"""The SQL store's part for expected sites and institutions (``participation_interface``),
on ``SqlRows``.

As in ``sql``: rows are read back as records; the methods only say which rows, in which
order, and the errors a caller can cause. Every change, a deletion too, is touched for
the audit log before it is made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from medval.core.paging import Cursor
from medval.core.participation_schemas import SiteKind
from medval.server.store import models as m
from medval.server.store import participation_models as p
from medval.server.store.records import ExpectedSiteRecord, UserRecord
from medval.server.store.sql_rows import SqlRows, paged


class SqlParticipationRows(SqlRows):
    # --- institutions -----------------------------------------------------------------

    def set_user_institution(self, user_id: int, institution: str | None) -> UserRecord:
        return self._change(
            UserRecord, m.User, user_id, "user", "set institution", institution=institution
        )

    def institution_members(self, institution: str) -> list[UserRecord]:
        query = select(m.User).where(m.User.institution == institution).order_by(m.User.id)
        return self._list(UserRecord, query)

    # --- expected sites ---------------------------------------------------------------

    def add_expected_site(
        self,
        benchmark_id: int,
        kind: SiteKind,
        name_or_id: str | int,
        added_by_id: int,
        now: datetime,
    ) -> ExpectedSiteRecord:
        if kind is SiteKind.USER:
            user_id = int(name_or_id)
            self._get(m.User, user_id, "user")  # no dangling account on a user row
            site: dict[str, int | str] = {"user_id": user_id}
        else:
            site = {"institution": str(name_or_id)}
        row = p.ExpectedSite(
            benchmark_id=benchmark_id, kind=kind, added_by_id=added_by_id, created_at=now, **site
        )
        what = f"{kind.value} {name_or_id} as an expected site of this benchmark"
        return ExpectedSiteRecord.model_validate(self._insert(row, what))

    def expected_site(self, expected_site_id: int) -> ExpectedSiteRecord | None:
        return self._find(ExpectedSiteRecord, p.ExpectedSite, expected_site_id)

    def list_expected_sites(
        self, benchmark_id: int, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[ExpectedSiteRecord]:
        query = select(p.ExpectedSite).where(p.ExpectedSite.benchmark_id == benchmark_id)
        return self._list(ExpectedSiteRecord, paged(query, [p.ExpectedSite.id], after, limit))

    def delete_expected_site(self, expected_site_id: int) -> None:
        row = self._get(p.ExpectedSite, expected_site_id, "expected site")
        self.audit.touch(row, "delete")
        self.session.delete(row)
        self.session.flush()
