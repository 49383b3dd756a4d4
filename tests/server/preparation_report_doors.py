"""The access matrix's doors of preparation reports: any account sends one for a benchmark
it can see; the benchmark's owner and admins list them (see ``access_doors``)."""

from __future__ import annotations

import httpx

from .access_doors import Caller, Door, World, _call, get, logged_in
from .preparation_report_bodies import report_body


def _send(w: World, c: Caller) -> httpx.Response:
    return _call("POST", "/preparation-reports", c, json=report_body(w.benchmark["id"]))


def preparation_report_doors() -> list[Door]:
    return [
        Door("POST", "/api/v1/preparation-reports", "", _send, logged_in(201)),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/preparation-reports",
            "",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/preparation-reports"),
            logged_in(403, admin=200, bench=200),
        ),
    ]
