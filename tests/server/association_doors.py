"""The access matrix's doors of associations, pending executions and results (see
``access_doors``)."""

from __future__ import annotations

from .access_doors import (
    Door,
    _call,
    get,
    logged_in,
)


def association_doors() -> list[Door]:
    return [
        Door(
            "POST",
            "/api/v1/associations",
            "the data owner's dataset",
            lambda w, c: _call(
                "POST",
                "/associations",
                c,
                json={
                    "benchmark_id": w.benchmark["id"],
                    "kind": "dataset",
                    "entity_id": w.fresh_dataset()["id"],
                },
            ),
            logged_in(404, admin=403, hospital=201),
        ),
        Door(
            "POST",
            "/api/v1/associations",
            "the model owner's model",
            lambda w, c: _call(
                "POST",
                "/associations",
                c,
                json={
                    "benchmark_id": w.benchmark["id"],
                    "kind": "model",
                    "entity_id": w.api.cube(w.vendor, "model")["id"],
                },
            ),
            logged_in(403, vendor=201),
        ),
        Door("GET", "/api/v1/associations", "", get(lambda w: "/associations"), logged_in(200)),
        Door(
            "GET",
            "/api/v1/associations/{association_id}",
            "a dataset's",
            get(lambda w: f"/associations/{w.approved_association()['id']}"),
            logged_in(404, admin=200, bench=200, hospital=200),
        ),
        Door(
            "PUT",
            "/api/v1/associations/{association_id}/decision",
            "a dataset's, pending",
            lambda w, c: _call(
                "PUT",
                f"/associations/{w.pending_association()['id']}/decision",
                c,
                json={"status": "approved"},
            ),
            logged_in(404, admin=200, bench=200, hospital=403),
        ),
        Door(
            "POST",
            "/api/v1/associations/{association_id}/revocation",
            "a dataset's, approved",
            lambda w, c: _call(
                "POST", f"/associations/{w.approved_association()['id']}/revocation", c
            ),
            logged_in(404, admin=200, bench=200, hospital=200),
        ),
        Door(
            "GET",
            "/api/v1/executions/pending",
            "",
            get(lambda w: "/executions/pending"),
            logged_in(200),
        ),
        Door(
            "POST",
            "/api/v1/results",
            "on the data owner's dataset",
            lambda w, c: _call("POST", "/results", c, json=w.signed_result()),
            logged_in(404, admin=403, bench=403, hospital=201),
        ),
        Door("GET", "/api/v1/results", "", get(lambda w: "/results"), logged_in(200)),
        Door(
            "GET",
            "/api/v1/results/{result_id}",
            "released to participants",
            get(lambda w: f"/results/{w.result['id']}"),
            logged_in(200, stranger=404),
        ),
    ]
