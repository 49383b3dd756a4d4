"""The HTTP calls of a benchmark's committee (its expected sites, participation view and
exported results) and of an admin putting an account in an institution, grouped apart
from ``MedvalClient``'s own: ``client.participation.expect(...)``. They go through the
client's one request method, so errors come back as the same typed exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medval.core import api
from medval.core.participation_schemas import (
    BenchmarkParticipation,
    BenchmarkResultsExport,
    ExpectedSiteCreate,
    ExpectedSitePublic,
    InstitutionChange,
)
from medval.core.schemas import UserPublic

if TYPE_CHECKING:
    from medval.client.http import MedvalClient


class ParticipationCalls:
    def __init__(self, client: MedvalClient) -> None:
        self._client = client

    def set_institution(self, user_id: int, change: InstitutionChange) -> UserPublic:
        path = api.USER_INSTITUTION.format(user_id=user_id)
        return self._client.call(UserPublic, "PUT", path, body=change)

    def expect(self, benchmark_id: int, site: ExpectedSiteCreate) -> ExpectedSitePublic:
        path = api.BENCHMARK_EXPECTED_SITES.format(benchmark_id=benchmark_id)
        return self._client.call(ExpectedSitePublic, "POST", path, body=site)

    def expected_sites(self, benchmark_id: int) -> list[ExpectedSitePublic]:
        path = api.BENCHMARK_EXPECTED_SITES.format(benchmark_id=benchmark_id)
        return self._client.call(list[ExpectedSitePublic], "GET", path)

    def unexpect(self, benchmark_id: int, site: ExpectedSiteCreate) -> ExpectedSitePublic:
        path = api.BENCHMARK_EXPECTED_SITES.format(benchmark_id=benchmark_id)
        params = {"kind": site.kind.value, "name": site.name}
        return self._client.call(ExpectedSitePublic, "DELETE", path, params=params)

    def participation(self, benchmark_id: int) -> BenchmarkParticipation:
        path = api.BENCHMARK_PARTICIPATION.format(benchmark_id=benchmark_id)
        return self._client.call(BenchmarkParticipation, "GET", path)

    def results_export(self, benchmark_id: int) -> BenchmarkResultsExport:
        path = api.BENCHMARK_RESULTS_EXPORT.format(benchmark_id=benchmark_id)
        return self._client.call(BenchmarkResultsExport, "GET", path)
