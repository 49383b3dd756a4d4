"""The HTTP calls of a phase's quotas, the entry that counts and the committee's
priorities (issue 19), grouped apart from ``MedvalClient``'s own: ``QuotaCalls(client)``.
They go through the client's one request method, so errors come back as the same typed
exceptions."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from medval.core import api
from medval.core.phases import PhasePublic
from medval.core.quotas import (
    CountingEntryChoice,
    CountingEntryPublic,
    ModelPriorities,
    QuotaChange,
)

if TYPE_CHECKING:
    from medval.client.http import MedvalClient


class QuotaCalls:
    def __init__(self, client: MedvalClient) -> None:
        self._client = client

    def set_quotas(self, benchmark_id: int, phase: str, quotas: QuotaChange) -> PhasePublic:
        path = api.PHASE_QUOTAS.format(benchmark_id=benchmark_id, name=quote(phase, safe=""))
        return self._client.call(PhasePublic, "PUT", path, body=quotas)

    def set_priorities(self, benchmark_id: int, priorities: ModelPriorities) -> PhasePublic:
        path = api.MODEL_PRIORITIES.format(benchmark_id=benchmark_id)
        return self._client.call(PhasePublic, "PUT", path, body=priorities)

    def choose_entry(self, benchmark_id: int, choice: CountingEntryChoice) -> CountingEntryPublic:
        path = api.COUNTING_ENTRY.format(benchmark_id=benchmark_id)
        return self._client.call(CountingEntryPublic, "PUT", path, body=choice)
