"""A phase's dates changed by its committee, and where each phase stands now (issue 19),
through the API on SQLite and on PostgreSQL: the rules of a new phase's dates, a closed
phase frozen, no result left outside its phase; a phase past its end but not closed says
so and is never closed for the committee. Bad input gets one line and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from .both_stores import postgres_url, settings
from .conftest import Api, Clock, User
from .phase_world import close, phases_of

__all__ = ["postgres_url", "settings"]  # fixtures: every test on both stores


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def _edit(user: User, benchmark: Any, name: str, **dates: Any) -> httpx.Response:
    return user.patch(f"/benchmarks/{benchmark['id']}/phases/{name}", dates)


def _states(user: User, benchmark: Any) -> list[tuple[str, str]]:
    return [(p["name"], p["state"]) for p in phases_of(user, benchmark)]


def test_each_phase_says_where_it_stands_and_an_ended_one_is_not_closed_for_you(
    world: dict[str, Any], clock: Clock
) -> None:
    bench, benchmark = world["bench"], world["benchmark"]
    path = f"/benchmarks/{benchmark['id']}/phases"
    bench.ok(
        "post",
        path,
        {"name": "before", "opens_at": "2024-01-01T00:00Z", "closes_at": "2024-03-01T00:00Z"},
    )
    assert _edit(bench, benchmark, "main", closes_at="2024-05-01T12:00Z").status_code == 200
    bench.ok("post", path, {"name": "later", "opens_at": "2024-05-01T18:00Z"})
    assert _states(bench, benchmark) == [
        ("before", "ended"),
        ("main", "open"),
        ("later", "upcoming"),
    ]
    shown = bench.ok("get", f"{path}/before")
    assert (shown["state"], shown["closed_at"], shown["board_hash"]) == ("ended", None, None)
    clock.advance(hours=4)  # past main's end: ended, and still not closed, not archived
    assert _states(bench, benchmark) == [
        ("before", "ended"),
        ("main", "ended"),
        ("later", "upcoming"),
    ]
    close(bench, benchmark, "main")
    clock.advance(hours=6)
    assert _states(world["vendor"], benchmark) == [
        ("before", "ended"),
        ("main", "closed"),
        ("later", "open"),
    ]


def test_the_committee_changes_a_phases_dates_by_the_rules_of_a_new_ones(
    api: Api, world: dict[str, Any], clock: Clock
) -> None:
    bench, benchmark = world["bench"], world["benchmark"]
    path = f"/benchmarks/{benchmark['id']}/phases"
    bench.ok(
        "post",
        path,
        {"name": "before", "opens_at": "2024-01-01T00:00Z", "closes_at": "2024-02-01T00:00Z"},
    )
    # Its end extended; then its start moved, its end kept.
    extended = _edit(bench, benchmark, "before", closes_at="2024-03-01T00:00Z")
    assert extended.status_code == 200, extended.text
    assert (extended.json()["opens_at"], extended.json()["closes_at"]) == (
        "2024-01-01T00:00:00Z",
        "2024-03-01T00:00:00Z",
    )
    moved = _edit(bench, benchmark, "before", opens_at="2023-12-01T00:00Z").json()
    assert (moved["opens_at"], moved["closes_at"]) == (
        "2023-12-01T00:00:00Z",
        "2024-03-01T00:00:00Z",
    )
    opened = phases_of(bench, benchmark)[1]["opens_at"]  # main's: the benchmark's registration
    # Bad dates: one line each, and nothing changes.
    assert _error(_edit(bench, benchmark, "before", closes_at=None)) == (
        409,
        f"phase before (from 2023-12-01) overlaps phase main (from {opened[:10]}) of "
        f"benchmark {benchmark['name']}",
    )
    assert _error(_edit(bench, benchmark, "before", closes_at="2023-11-01T00:00Z")) == (
        422,
        "phase before closes (2023-11-01T00:00:00+00:00) before it opens "
        "(2023-12-01T00:00:00+00:00)",
    )
    status, message = _error(_edit(bench, benchmark, "before"))
    assert (
        status,
        message.endswith("give a new opens_at or closes_at (or no end): nothing to change"),
    ) == (422, True)
    assert _error(_edit(bench, benchmark, "after", closes_at=None))[0] == 404
    assert _error(_edit(world["vendor"], benchmark, "before", closes_at=None))[0] == 403
    # A result in main: main cannot open after it, nor close before it.
    clock.advance(hours=1)
    body = api.result_body(benchmark, world["dataset"], world["model"])
    world["hospital"].ok("post", "/results", body)
    sent = (
        f"phase main of benchmark {benchmark['name']} has a result uploaded on 2024-05-01 10:00 UTC"
    )
    assert _error(_edit(bench, benchmark, "main", opens_at="2024-05-01T10:30Z")) == (
        409,
        f"{sent}: it cannot open after that",
    )
    assert _error(_edit(bench, benchmark, "main", closes_at="2024-05-01T09:30Z")) == (
        409,
        f"{sent}: it cannot close before that",
    )
    # A closed phase is frozen.
    clock.advance(hours=1)
    closed = close(bench, benchmark, "main")
    assert _error(_edit(bench, benchmark, "main", closes_at="2024-12-01T00:00Z")) == (
        409,
        f"phase main of benchmark {benchmark['name']} was closed on 2024-05-01 11:00 UTC: it "
        "is frozen, its dates too",
    )
    before, main = phases_of(bench, benchmark)
    assert (before["opens_at"], before["closes_at"]) == (
        "2023-12-01T00:00:00Z",
        "2024-03-01T00:00:00Z",
    )
    assert (main["opens_at"], main["closes_at"], main["closed_at"]) == (
        opened,
        None,
        closed["closed_at"],
    )


def test_subgroups_are_of_the_phase_asked_for_and_an_unknown_one_is_one_line(
    api: Api, world: dict[str, Any]
) -> None:
    bench, benchmark = world["bench"], world["benchmark"]
    path = f"/benchmarks/{benchmark['id']}/phases"
    before = {"name": "before", "opens_at": "2024-01-01T00:00Z", "closes_at": "2024-03-01T00:00Z"}
    bench.ok("post", path, before)
    body = api.result_body(benchmark, world["dataset"], world["model"])
    world["hospital"].ok("post", "/results", body)
    subgroups = f"/benchmarks/{benchmark['id']}/subgroups"
    assert bench.ok("get", subgroups)["phase"] == "main"
    assert bench.ok("get", f"{subgroups}?phase=main")["phase"] == "main"
    of_before = bench.ok("get", f"{subgroups}?phase=before")
    assert (of_before["phase"], of_before["models"]) == ("before", [])
    assert _error(bench.get(f"{subgroups}?phase=final")) == (
        404,
        f"benchmark {benchmark['name']} has no phase 'final' (its phases: before, main)",
    )
