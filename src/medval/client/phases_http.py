"""The HTTP calls of a benchmark's phases and of the publication of held results (issue
19), grouped apart from ``MedvalClient``'s own: ``client.phases.add(...)``. They go through
the client's one request method, so errors come back as the same typed exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from medval.core import api
from medval.core.phases import (
    PhaseCreate,
    PhaseDates,
    PhasePublic,
    PhaseShown,
    PublicationDecision,
)
from medval.core.result_schemas import ResultPublic

if TYPE_CHECKING:
    from medval.client.http import MedvalClient


class PhaseCalls:
    def __init__(self, client: MedvalClient) -> None:
        self._client = client

    def add(self, benchmark_id: int, phase: PhaseCreate) -> PhasePublic:
        path = api.BENCHMARK_PHASES.format(benchmark_id=benchmark_id)
        return self._client.call(PhasePublic, "POST", path, body=phase)

    def list(self, benchmark_id: int) -> list[PhaseShown]:
        path = api.BENCHMARK_PHASES.format(benchmark_id=benchmark_id)
        return self._client.call(list[PhaseShown], "GET", path)

    def get(self, benchmark_id: int, name: str) -> PhaseShown:
        path = api.BENCHMARK_PHASE.format(benchmark_id=benchmark_id, name=quote(name, safe=""))
        return self._client.call(PhaseShown, "GET", path)

    def edit(self, benchmark_id: int, name: str, dates: PhaseDates) -> PhasePublic:
        path = api.BENCHMARK_PHASE.format(benchmark_id=benchmark_id, name=quote(name, safe=""))
        return self._client.call(PhasePublic, "PATCH", path, body=dates)

    def close(self, benchmark_id: int, name: str) -> PhasePublic:
        path = api.BENCHMARK_PHASE_CLOSURE.format(
            benchmark_id=benchmark_id, name=quote(name, safe="")
        )
        return self._client.call(PhasePublic, "POST", path)

    def publish_result(self, result_id: int) -> ResultPublic:
        path = api.RESULT_PUBLICATION.format(result_id=result_id)
        return self._client.call(ResultPublic, "POST", path)

    def withhold_result(self, result_id: int, reason: str) -> ResultPublic:
        path = api.RESULT_WITHHOLDING.format(result_id=result_id)
        body = PublicationDecision(reason=reason)
        return self._client.call(ResultPublic, "POST", path, body=body)
