"""The access matrix's doors of the server's pages (``server/web``): the same answers as
the API's for the same caller, but for the visitor, who reads what is public, and is
sent to the login page (303) from the pages of one's own work.

The callers come with bearer tokens, as the API's do (the pages take either that or the
session cookie). A decision from the inbox carries the caller's CSRF token, read from
the logout form in a page's header, so that what is checked is who may decide."""

from __future__ import annotations

import re

import httpx

from .access_doors import ANON, CALLERS, Caller, Door, World, logged_in
from .conftest import PASSWORD


def _page(path: str, caller: Caller) -> httpx.Response:
    return caller.client.get(path, headers=caller.headers, follow_redirects=False)


def _csrf(caller: Caller) -> str:
    """The caller's CSRF token (none for a caller with no valid token)."""
    found = re.search(r'name="csrf" value="([^"]+)"', _page("/", caller).text)
    return found.group(1) if found else ""


def _form(path: str, caller: Caller, **fields: str) -> httpx.Response:
    return caller.client.post(path, headers=caller.headers, data=fields, follow_redirects=False)


def _decide(path: str, caller: Caller) -> httpx.Response:
    return _form(path, caller, csrf=_csrf(caller), decision="approved")


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
        Door("GET", "/login", "", lambda w, c: _page("/login", c), {**logged_in(200), ANON: 200}),
        Door(
            "POST",
            "/login",
            "without the login form's CSRF cookie: the caller's token plays no part",
            lambda w, c: _form("/login", c, username="stranger", password=PASSWORD),
            dict.fromkeys(CALLERS, 403),
        ),
        Door(
            "POST",
            "/logout",
            "without a CSRF token (a visitor has nothing to end)",
            lambda w, c: _form("/logout", c),
            {**logged_in(403), ANON: 303},
        ),
        Door("GET", "/mine", "", lambda w, c: _page("/mine", c), {**logged_in(200), ANON: 303}),
        Door("GET", "/inbox", "", lambda w, c: _page("/inbox", c), {**logged_in(200), ANON: 303}),
        Door(
            "POST",
            "/inbox/associations/{association_id}",
            "a dataset's, pending: as the API's decision",
            lambda w, c: _decide(f"/inbox/associations/{w.pending_association()['id']}", c),
            {**logged_in(404, admin=303, bench=303, hospital=403), ANON: 303},
        ),
        Door(
            "POST",
            "/inbox/benchmarks/{benchmark_id}",
            "pending: as the API's approval",
            lambda w, c: _decide(f"/inbox/benchmarks/{w.api.benchmark(w.bench)['id']}", c),
            {**logged_in(403, admin=303), ANON: 303},
        ),
    ]


def _pending(world: World) -> int:
    identifier: int = world.pending_benchmark["id"]
    return identifier
