"""The metrics each benchmark declares, for the faces that show results of several
benchmarks (``medval model results``, ``medval results list``): their tables show each
benchmark's declared metrics, under their labels.

Imports: the HTTP client and the core.
"""

from __future__ import annotations

from collections.abc import Iterable

from medval.client.http import MedvalClient
from medval.core.declarations import MetricDeclaration
from medval.core.errors import NotAuthenticated, NotFound, PermissionDenied


def declared_metrics(
    client: MedvalClient, benchmark_ids: Iterable[int]
) -> dict[int, list[MetricDeclaration]]:
    """Each benchmark's declared metrics (empty: none declared, or the benchmark cannot
    be seen from here; the faces then show its results' own metrics, as inferred)."""
    found: dict[int, list[MetricDeclaration]] = {}
    for benchmark_id in dict.fromkeys(benchmark_ids):
        try:
            found[benchmark_id] = list(client.benchmark(benchmark_id).metrics)
        except (NotFound, PermissionDenied, NotAuthenticated):
            found[benchmark_id] = []
    return found
