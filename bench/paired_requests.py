"""Timing a route against a baseline route in the same run, for the server's benches.

Requests go over one kept-alive connection, each to the measured route paired with one to
the baseline, in an order that alternates so neither always goes first; the first pair
warms up and is not counted. Imported by the scripts beside it (run from ``bench/``).
"""

from __future__ import annotations

import math
import time

import httpx


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (the 95th of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


def paired_gets(
    url: str, token: str, measured: str, baseline: str, requests: int
) -> tuple[list[float], list[float], int]:
    """Seconds to the whole body of ``measured`` and of ``baseline`` (paths under
    ``url``), ``requests`` of each, and the size in bytes of the last ``measured`` body."""
    times: dict[str, list[float]] = {measured: [], baseline: []}
    size = 0
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600
    ) as http:
        for run in range(requests + 1):
            for path in (measured, baseline) if run % 2 else (baseline, measured):
                begin = time.perf_counter()
                response = http.get(path)
                elapsed = time.perf_counter() - begin
                response.raise_for_status()
                if run:
                    times[path].append(elapsed)
                if path == measured:
                    size = len(response.content)
    return times[measured], times[baseline], size
