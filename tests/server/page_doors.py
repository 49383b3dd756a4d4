"""The access matrix's doors of the server's pages (``server/web``): the same answers as
the API's for the same caller, but for the visitor, who reads what is public."""

from __future__ import annotations

import httpx

from .access_doors import ANON, Caller, Door, World, logged_in


def _page(path: str, caller: Caller) -> httpx.Response:
    return caller.client.get(path, headers=caller.headers)


def page_doors() -> list[Door]:
    return [
        Door(
            "GET",
            "/",
            "the catalogue",
            lambda w, c: _page("/", c),
            {**logged_in(200), ANON: 200},
        ),
        Door(
            "GET",
            "/benchmarks/{benchmark_id}",
            "an approved benchmark, released to participants: not public",
            lambda w, c: _page(f"/benchmarks/{w.benchmark['id']}", c),
            {**logged_in(200), ANON: 404},
        ),
        Door(
            "GET",
            "/benchmarks/{benchmark_id}",
            "a pending benchmark",
            lambda w, c: _page(f"/benchmarks/{_pending(w)}", c),
            {**logged_in(404, admin=200, bench=200), ANON: 404},
        ),
    ]


def _pending(world: World) -> int:
    identifier: int = world.pending_benchmark["id"]
    return identifier
