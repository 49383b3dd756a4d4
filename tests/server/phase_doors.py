"""The access matrix's doors of phases and publication (issue 19): a benchmark's phases
listed, shown, added, its dates changed and closed; a held result published or withheld (see
``access_doors``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from .access_doors import ADMIN, ANON, Caller, Door, World, _call, get, logged_in
from .phase_world import held_result


def _add(w: World, c: Caller) -> httpx.Response:
    # Each its own name and its own days in 2020, before the world's phase opened.
    name = w.name()
    opens = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=int(name.removeprefix("door-")))
    body = {
        "name": name,
        "opens_at": opens.isoformat(),
        "closes_at": (opens + timedelta(minutes=30)).isoformat(),
    }
    return _call("POST", f"/benchmarks/{w.benchmark['id']}/phases", c, json=body)


def _edit(w: World, c: Caller) -> httpx.Response:
    benchmark = w.fresh_benchmark()
    body = {"closes_at": "2040-01-01T00:00:00Z"}
    return _call("PATCH", f"/benchmarks/{benchmark['id']}/phases/main", c, json=body)


def _close(w: World, c: Caller) -> httpx.Response:
    benchmark = w.fresh_benchmark()
    return _call("POST", f"/benchmarks/{benchmark['id']}/phases/main/closure", c)


def _held(w: World) -> int:
    _, _, result = held_result(w.api, w.bench, w.people[ADMIN], w.hospital, w.vendor)
    return int(result["id"])


def _publish(w: World, c: Caller) -> httpx.Response:
    return _call("POST", f"/results/{_held(w)}/publication", c)


def _withhold(w: World, c: Caller) -> httpx.Response:
    return _call("POST", f"/results/{_held(w)}/withholding", c, json={"reason": "wrong cohort"})


def phase_doors() -> list[Door]:
    committee = logged_in(403, admin=200, bench=200)
    # Held: the data owner who sent it sees it (so is refused); others learn nothing.
    decision = logged_in(404, admin=200, bench=200, hospital=403)
    not_public = {ANON: 404}
    return [
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/phases",
            "",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/phases"),
            logged_in(200) | not_public,
        ),
        Door(
            "POST",
            "/api/v1/benchmarks/{benchmark_id}/phases",
            "",
            _add,
            logged_in(403, admin=201, bench=201),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/phases/{name}",
            "",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/phases/main"),
            logged_in(200) | not_public,
        ),
        Door(
            "PATCH",
            "/api/v1/benchmarks/{benchmark_id}/phases/{name}",
            "a fresh benchmark's phase main",
            _edit,
            committee,
        ),
        Door(
            "POST",
            "/api/v1/benchmarks/{benchmark_id}/phases/{name}/closure",
            "",
            _close,
            committee,
        ),
        Door("POST", "/api/v1/results/{result_id}/publication", "held", _publish, decision),
        Door("POST", "/api/v1/results/{result_id}/withholding", "held", _withhold, decision),
    ]
