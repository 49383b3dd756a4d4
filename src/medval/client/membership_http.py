"""The HTTP calls of a benchmark's membership rules (its agreement and who accepted it,
its auto-approval rule, the data owners' policies), grouped apart from ``MedvalClient``'s
own: ``client.membership.accept_agreement(...)``. They go through the client's one request
method, so errors come back as the same typed exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medval.core import api
from medval.core.membership_schemas import (
    AgreementAcceptanceCreate,
    AgreementAcceptancePublic,
    AutoApprovalRule,
    DatasetTermsPublic,
    MembershipAgreement,
)
from medval.core.schemas import BenchmarkPublic

if TYPE_CHECKING:
    from medval.client.http import MedvalClient


class MembershipCalls:
    def __init__(self, client: MedvalClient) -> None:
        self._client = client

    def set_agreement(self, benchmark_id: int, agreement: MembershipAgreement) -> BenchmarkPublic:
        path = api.BENCHMARK_AGREEMENT.format(benchmark_id=benchmark_id)
        return self._client.call(BenchmarkPublic, "PUT", path, body=agreement)

    def accept_agreement(self, benchmark_id: int, sha256: str) -> AgreementAcceptancePublic:
        path = api.AGREEMENT_ACCEPTANCES.format(benchmark_id=benchmark_id)
        body = AgreementAcceptanceCreate(sha256=sha256)
        return self._client.call(AgreementAcceptancePublic, "POST", path, body=body)

    def agreement_acceptances(self, benchmark_id: int) -> list[AgreementAcceptancePublic]:
        path = api.AGREEMENT_ACCEPTANCES.format(benchmark_id=benchmark_id)
        return self._client.call(list[AgreementAcceptancePublic], "GET", path)

    def data_policies(self, benchmark_id: int) -> list[DatasetTermsPublic]:
        path = api.BENCHMARK_DATA_POLICIES.format(benchmark_id=benchmark_id)
        return self._client.call(list[DatasetTermsPublic], "GET", path)

    def set_auto_approval(self, benchmark_id: int, rule: AutoApprovalRule) -> BenchmarkPublic:
        path = api.BENCHMARK_AUTO_APPROVAL.format(benchmark_id=benchmark_id)
        return self._client.call(BenchmarkPublic, "PUT", path, body=rule)
