"""Preparation reports on the server: a site sends one, the benchmark's owner lists them;
a report that shows a small cell (or gives one away) or applies a smaller minimum cell
size than the benchmark's is refused in one line, and nothing is stored."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import Api
from .preparation_report_bodies import report_body


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def test_a_site_sends_and_the_benchmark_owner_reads(world: dict[str, Any], api: Api) -> None:
    bench, hospital, vendor = world["bench"], world["hospital"], world["vendor"]
    benchmark = world["benchmark"]
    sent = hospital.post("/preparation-reports", report_body(benchmark["id"]))
    assert sent.status_code == 201, sent.text
    kept = sent.json()
    assert (kept["owner"], kept["dataset"], kept["cases"]) == ("hospital", "site-a", 200)
    path = f"/benchmarks/{benchmark['id']}/preparation-reports"
    assert bench.ok("get", path) == [kept]
    assert _error(vendor.get(path)) == (
        403, f"only the owner of benchmark {benchmark['name']} (or an admin) may do this"
    )  # fmt: skip


def test_a_small_cell_or_a_looser_k_is_refused_and_nothing_kept(
    world: dict[str, Any], api: Api
) -> None:
    bench, hospital, benchmark = world["bench"], world["hospital"], world["benchmark"]
    body = report_body(benchmark["id"])
    body["steps"][0] |= {"done": 197, "failed": 3}
    assert _error(hospital.post("/preparation-reports", body)) == (
        422,
        "preparation report refused: steps.convert.failed: a count of 3, "
        "below the minimum cell size 10",
    )
    body["steps"][0] |= {"failed": None}
    assert _error(hospital.post("/preparation-reports", body)) == (
        422,
        "preparation report refused: steps.convert: one count alone is withheld "
        "(the others give it away)",
    )
    looser = report_body(benchmark["id"]) | {"min_cell_count": 5}
    assert _error(hospital.post("/preparation-reports", looser)) == (
        422,
        f"the preparation report withholds counts below 5; benchmark {benchmark['name']} "
        f"asks for at least {benchmark['min_cell_count']}",
    )
    named = report_body(benchmark["id"]) | {"cases_named": ["subject-001"]}
    assert hospital.post("/preparation-reports", named).status_code == 422
    unknown = report_body(999_999)
    assert _error(hospital.post("/preparation-reports", unknown)) == (
        404, "benchmark 999999 does not exist"
    )  # fmt: skip
    path = f"/benchmarks/{benchmark['id']}/preparation-reports"
    assert bench.ok("get", path) == []
