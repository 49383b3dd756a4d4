"""The HTTP calls of preparation reports (a site sends one; a benchmark's owner lists them),
grouped apart from ``MedvalClient``'s own: ``client.preparation_reports.send(...)``. They go
through the client's one request method, so errors come back as the same typed exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medval.core import api
from medval.core.preparation_report import PreparationReportCreate, PreparationReportPublic

if TYPE_CHECKING:
    from medval.client.http import MedvalClient


class PreparationReportCalls:
    def __init__(self, client: MedvalClient) -> None:
        self._client = client

    def send(self, report: PreparationReportCreate) -> PreparationReportPublic:
        return self._client.call(
            PreparationReportPublic, "POST", api.PREPARATION_REPORTS, body=report
        )

    def of_benchmark(self, benchmark_id: int) -> list[PreparationReportPublic]:
        path = api.BENCHMARK_PREPARATION_REPORTS.format(benchmark_id=benchmark_id)
        return self._client.call(list[PreparationReportPublic], "GET", path)
