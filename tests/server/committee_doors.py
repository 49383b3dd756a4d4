"""The access matrix's doors of a benchmark's committee (issue 19): its expected sites,
the participation view and page, the results export, and an account's institution (see
``access_doors``). Only the benchmark's owner and admins pass any of them."""

from __future__ import annotations

import httpx

from .access_doors import ANON, Caller, Door, World, _call, get, logged_in
from .page_doors import _page


def committee_doors() -> list[Door]:
    bench_and_admin = {"admin": 200, "bench": 200}

    def set_institution(w: World, c: Caller) -> httpx.Response:
        path = f"/users/{w.fresh_user().id}/institution"
        return _call("PUT", path, c, json={"institution": "St. Mary's"})

    def expect(w: World, c: Caller) -> httpx.Response:
        path = f"/benchmarks/{w.fresh_benchmark()['id']}/expected-sites"
        return _call("POST", path, c, json={"kind": "user", "name": w.hospital.name})

    def unexpect(w: World, c: Caller) -> httpx.Response:
        path = f"/benchmarks/{w.fresh_benchmark()['id']}/expected-sites"
        site = {"kind": "user", "name": w.hospital.name}
        w.bench.ok("post", path, site)
        return _call("DELETE", path, c, params=site)

    return [
        Door(
            "PUT",
            "/api/v1/users/{user_id}/institution",
            "another account's",
            set_institution,
            logged_in(403, admin=200),
        ),
        Door(
            "POST",
            "/api/v1/benchmarks/{benchmark_id}/expected-sites",
            "an approved benchmark",
            expect,
            logged_in(403, admin=201, bench=201),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/expected-sites",
            "",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/expected-sites"),
            logged_in(403, **bench_and_admin),
        ),
        Door(
            "DELETE",
            "/api/v1/benchmarks/{benchmark_id}/expected-sites",
            "an expected data owner",
            unexpect,
            logged_in(403, **bench_and_admin),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/participation",
            "",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/participation"),
            logged_in(403, **bench_and_admin),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/exports/results",
            "",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/exports/results"),
            logged_in(403, **bench_and_admin),
        ),
        Door(
            "GET",
            "/benchmarks/{benchmark_id}/participation",
            "the committee's page",
            lambda w, c: _page(f"/benchmarks/{w.benchmark['id']}/participation", c),
            {**logged_in(403, **bench_and_admin), ANON: 303},
        ),
    ]
