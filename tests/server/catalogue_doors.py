"""The access matrix's doors of cubes, benchmarks and datasets (see ``access_doors``)."""

from __future__ import annotations

from .access_doors import (
    ADMIN,
    ANON,
    Door,
    _call,
    get,
    logged_in,
)


def catalogue_doors() -> list[Door]:
    bench_and_admin = {"admin": 200, "bench": 200}
    return [
        Door(
            "POST",
            "/api/v1/cubes",
            "with an archive the caller uploaded",
            lambda w, c: _call("POST", "/cubes", c, json=w.cube_body(w.own_blob(c))),
            logged_in(201),
        ),
        Door(
            "POST",
            "/api/v1/cubes",
            "with another's draft archive",
            lambda w, c: _call("POST", "/cubes", c, json=w.cube_body(w.fresh_draft_archive())),
            logged_in(422, bench=201),
        ),
        Door(
            "POST",
            "/api/v1/cubes",
            "with a released cube's archive",
            lambda w, c: _call("POST", "/cubes", c, json=w.cube_body(w.model["archive_hash"])),
            logged_in(201),
        ),
        Door("GET", "/api/v1/cubes", "", get(lambda w: "/cubes"), logged_in(200)),
        Door(
            "GET",
            "/api/v1/cubes/{cube_id}",
            "a draft",
            get(lambda w: f"/cubes/{w.draft_cube['id']}"),
            logged_in(404, **bench_and_admin),
        ),
        Door(
            "GET",
            "/api/v1/cubes/{cube_id}",
            "in operation",
            get(lambda w: f"/cubes/{w.model['id']}"),
            logged_in(200),
        ),
        Door(
            "PUT",
            "/api/v1/cubes/{cube_id}/stage",
            "the benchmark owner's draft",
            lambda w, c: _call(
                "PUT",
                f"/cubes/{w.api.cube(w.bench, 'model', stage='development')['id']}/stage",
                c,
                json={"stage": "operation"},
            ),
            logged_in(404, **bench_and_admin),
        ),
        Door(
            "POST",
            "/api/v1/cubes/{cube_id}/invalidation",
            "the model owner's model",
            lambda w, c: _call(
                "POST", f"/cubes/{w.api.cube(w.vendor, 'model')['id']}/invalidation", c
            ),
            logged_in(403, admin=200, vendor=200),
        ),
        Door(
            "POST",
            "/api/v1/benchmarks",
            "with released cubes and demo data",
            lambda w, c: _call("POST", "/benchmarks", c, json=w.benchmark_body()),
            logged_in(201),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks",
            "",
            get(lambda w: "/benchmarks"),
            logged_in(200) | {ANON: 200},
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}",
            "approved",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}"),
            logged_in(200),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}",
            "pending",
            get(lambda w: f"/benchmarks/{w.pending_benchmark['id']}"),
            logged_in(404, **bench_and_admin),
        ),
        Door(
            "PUT",
            "/api/v1/benchmarks/{benchmark_id}/stage",
            "a draft",
            lambda w, c: _call(
                "PUT",
                f"/benchmarks/{w.api.benchmark(w.bench, stage='development')['id']}/stage",
                c,
                json={"stage": "operation"},
            ),
            logged_in(404, **bench_and_admin),
        ),
        Door(
            "PUT",
            "/api/v1/benchmarks/{benchmark_id}/approval",
            "pending",
            lambda w, c: _call(
                "PUT",
                f"/benchmarks/{w.api.benchmark(w.bench)['id']}/approval",
                c,
                json={"status": "approved"},
            ),
            logged_in(403, admin=200),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/leaderboard",
            "released to participants",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/leaderboard"),
            logged_in(200, stranger=403),
            {ANON: "log in to see this leaderboard; it is not public"},
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/shift",
            "released as the leaderboard",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/shift"),
            logged_in(200, stranger=403),
            {ANON: "log in to see this shift between sites; it is not public"},
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/subgroups",
            "released as the leaderboard",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/subgroups"),
            logged_in(200, stranger=403),
            {ANON: "log in to see this subgroup breakdown; it is not public"},
        ),
        Door(
            "POST",
            "/api/v1/benchmarks/{benchmark_id}/invalidation",
            "approved",
            lambda w, c: _call(
                "POST",
                f"/benchmarks/{w.api.benchmark(w.bench, approve_by=w.people[ADMIN])['id']}"
                "/invalidation",
                c,
            ),
            logged_in(403, **bench_and_admin),
        ),
        Door(
            "POST",
            "/api/v1/datasets",
            "",
            lambda w, c: _call("POST", "/datasets", c, json=w.dataset_body()),
            logged_in(201),
        ),
        Door("GET", "/api/v1/datasets", "", get(lambda w: "/datasets"), logged_in(200)),
        Door(
            "GET",
            "/api/v1/datasets/{dataset_id}",
            "associated",
            get(lambda w: f"/datasets/{w.dataset['id']}"),
            logged_in(404, admin=200, bench=200, hospital=200),
        ),
        Door(
            "PUT",
            "/api/v1/datasets/{dataset_id}/stage",
            "a draft",
            lambda w, c: _call(
                "PUT",
                f"/datasets/{w.fresh_dataset('development')['id']}/stage",
                c,
                json={"stage": "operation"},
            ),
            logged_in(404, admin=200, hospital=200),
        ),
        Door(
            "POST",
            "/api/v1/datasets/{dataset_id}/invalidation",
            "not associated",
            lambda w, c: _call("POST", f"/datasets/{w.fresh_dataset()['id']}/invalidation", c),
            logged_in(404, admin=200, hospital=200),
        ),
    ]
