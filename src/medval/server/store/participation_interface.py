"""The store's part for a committee's expected sites and accounts' institutions (issue
19). ``StoreTransaction`` (``interface``) includes it.

The same rules as the rest of the store: records out; adding a row that breaks a
uniqueness rule raises ``Conflict``; getters return ``None`` for unknown ids; every
change (a deletion too) is appended to the audit log by the store itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from medval.core.paging import Cursor
from medval.core.participation_schemas import SiteKind
from medval.server.store.records import ExpectedSiteRecord, UserRecord


class ParticipationTransaction(Protocol):
    # --- institutions -----------------------------------------------------------------
    def set_user_institution(self, user_id: int, institution: str | None) -> UserRecord:
        """Put the account in ``institution`` (None: in none)."""
        ...

    def institution_members(self, institution: str) -> list[UserRecord]:
        """The accounts in ``institution`` now, by id (none: an unknown institution)."""
        ...

    # --- expected sites ---------------------------------------------------------------
    def add_expected_site(
        self,
        benchmark_id: int,
        kind: SiteKind,
        name_or_id: str | int,
        added_by_id: int,
        now: datetime,
    ) -> ExpectedSiteRecord:
        """The benchmark's committee expects the user (``name_or_id``: its id) or the
        institution (its name); ``Conflict`` when it is expected already."""
        ...

    def expected_site(self, expected_site_id: int) -> ExpectedSiteRecord | None: ...
    def list_expected_sites(
        self, benchmark_id: int, *, after: Cursor | None = None, limit: int | None = None
    ) -> list[ExpectedSiteRecord]:
        """The benchmark's expected sites, by id."""
        ...

    def delete_expected_site(self, expected_site_id: int) -> None:
        """Only the row itself: what was approved while it was expected stays."""
        ...
