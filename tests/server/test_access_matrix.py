"""The access-control matrix: every route of the app x every kind of caller, each cell
the exact status (and, for a caller without a valid token, the exact message), checked
with real requests against a real app. A route with no door in ``access_doors`` fails.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from medval.server.app import create_app
from medval.server.settings import ServerSettings

from .access_doors import (
    ADMIN,
    ANON,
    BENCH,
    CALLERS,
    DOORS,
    EXPIRED,
    HOSPITAL,
    REVOKED,
    STRANGER,
    UNAUTHENTICATED,
    VENDOR,
    Caller,
    Door,
    World,
)
from .conftest import Api, Clock

CODES = {
    401: {"not_authenticated"},
    403: {"permission_denied", "key_release_refused"},
    404: {"not_found"},
    409: {"conflict", "invalid_transition"},
    422: {"invalid_input", "hash_mismatch"},
}


def routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every API route in the app's route table."""
    found = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            assert context.path is not None and context.methods is not None
            found |= {(method, context.path) for method in context.methods}
    return found


def routes_without_a_door(app: FastAPI) -> set[tuple[str, str]]:
    return routes(app) - {(door.method, door.path) for door in DOORS}


def _callers(world: dict[str, Any], api: Api, clock: Clock) -> dict[str, Caller]:
    # A token issued longer ago than its lifetime: the clock goes back, then forward.
    ttl = timedelta(hours=api.settings.token_ttl_hours + 1)
    clock.now -= ttl
    late = api.user("late")
    clock.now += ttl
    gone = api.user("gone")
    assert api.client.delete("/api/v1/auth/token", headers=gone.headers).status_code == 204
    people = {ADMIN: "root", BENCH: "bench", HOSPITAL: "hospital", VENDOR: "vendor"}
    people[STRANGER] = "stranger"
    callers = {ANON: Caller(ANON, api.client, {}, None)}
    for kind, name in people.items():
        callers[kind] = Caller(kind, api.client, world[name].headers, world[name])
    callers[EXPIRED] = Caller(EXPIRED, api.client, late.headers, None)
    callers[REVOKED] = Caller(REVOKED, api.client, gone.headers, None)
    return callers


def _world(world: dict[str, Any], api: Api) -> World:
    hospital, bench = world["hospital"], world["bench"]
    result = hospital.ok(
        "post", "/results", api.result_body(world["benchmark"], world["dataset"], world["model"])
    )
    people = {ADMIN: world["root"], BENCH: bench, HOSPITAL: hospital, VENDOR: world["vendor"]}
    return World(
        api=api,
        people=people | {STRANGER: world["stranger"]},
        benchmark=world["benchmark"],
        dataset=world["dataset"],
        model=world["model"],
        result=result,
        draft_cube=api.cube(bench, "model", stage="development"),
        pending_benchmark=api.benchmark(bench),
        unused_blob=api.blob(hospital, b"uploaded, not yet registered"),
    )


def _wrong(door: Door, caller: Caller, status: int, body: Any) -> str | None:
    """What is wrong with one cell's answer, or None."""
    expected = door.expected[caller.kind]
    where = f"{door.method} {door.path} [{door.target}] as {caller.kind}"
    if status != expected:
        return f"{where}: {status}, expected {expected}: {body}"
    if status < 400:
        return None
    if isinstance(body, bytes):
        # A page (server/web) answers a refusal with a page of its own, not an error body.
        page = body.startswith(b"<!doctype html>")
        return None if page else f"{where}: neither an error body nor a page: {body!r}"
    code = body["error"]["code"]
    if code not in CODES[status]:
        return f"{where}: code {code} with {status}"
    message = door.messages.get(caller.kind, UNAUTHENTICATED.get(caller.kind))
    if status == 401 and body["error"]["message"] != message:
        return f"{where}: {body['error']['message']!r}, expected {message!r}"
    return None


def test_every_route_has_a_door_for_every_caller() -> None:
    assert {kind for door in DOORS for kind in door.expected} == set(CALLERS)
    assert all(set(door.expected) == set(CALLERS) for door in DOORS)


def test_a_new_route_without_a_door_is_named(settings: ServerSettings) -> None:
    app = create_app(settings)
    assert routes_without_a_door(app) == set()

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    assert routes_without_a_door(app) == {("GET", "/api/v1/forgotten")}


def test_the_matrix(world: dict[str, Any], api: Api, clock: Clock, client: TestClient) -> None:
    assert routes_without_a_door(client.app) == set()  # type: ignore[arg-type]
    callers = _callers(world, api, clock)
    setting = _world(world, api)
    wrong = []
    cells = 0
    for door in DOORS:
        for kind in CALLERS:
            caller = callers[kind]
            response = door.send(setting, caller)
            is_json = response.headers.get("content-type") == "application/json"
            body = response.json() if is_json else response.content[:40]
            cells += 1
            if (problem := _wrong(door, caller, response.status_code, body)) is not None:
                wrong.append(problem)
    assert not wrong, "\n".join(wrong)
    assert cells == len(DOORS) * len(CALLERS)
