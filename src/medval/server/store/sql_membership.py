"""The SQL store's part for a benchmark's membership rules: its agreement, the
acceptances of it, and its auto-approval rule (``StoreTransaction``'s membership
methods), on ``SqlRows``. As in ``sql``: rows are read back as records, and every change
goes through the audited helpers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from medval.core.membership_schemas import AutoApprovalRule, MembershipAgreement
from medval.core.paging import Cursor
from medval.server.store import models as m
from medval.server.store.records import AgreementAcceptanceRecord, BenchmarkRecord
from medval.server.store.sql_rows import SqlRows, matching, paged


class SqlMembershipRows(SqlRows):
    def set_benchmark_agreement(
        self, benchmark_id: int, agreement: MembershipAgreement | None
    ) -> BenchmarkRecord:
        return self._change(
            BenchmarkRecord,
            m.Benchmark,
            benchmark_id,
            "benchmark",
            "set agreement",
            agreement=agreement,
        )

    def set_benchmark_auto_approval(
        self, benchmark_id: int, rule: AutoApprovalRule
    ) -> BenchmarkRecord:
        return self._change(
            BenchmarkRecord,
            m.Benchmark,
            benchmark_id,
            "benchmark",
            "set auto-approval",
            auto_approval=rule,
        )

    def add_agreement_acceptance(
        self, benchmark_id: int, user_id: int, sha256: str, now: datetime
    ) -> AgreementAcceptanceRecord:
        row = m.AgreementAcceptance(
            benchmark_id=benchmark_id, user_id=user_id, sha256=sha256, accepted_at=now
        )
        what = f"an acceptance of agreement {sha256[:12]}… by this user"
        return AgreementAcceptanceRecord.model_validate(self._insert(row, what))

    def agreement_acceptances(
        self,
        benchmark_id: int,
        user_id: int | None = None,
        *,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[AgreementAcceptanceRecord]:
        query = matching(
            select(m.AgreementAcceptance).where(m.AgreementAcceptance.benchmark_id == benchmark_id),
            (m.AgreementAcceptance.user_id, user_id),
        )
        query = paged(query, [m.AgreementAcceptance.id], after, limit)
        return self._list(AgreementAcceptanceRecord, query)
