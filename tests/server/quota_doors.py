"""The access matrix's doors of a phase's quotas, its priorities and the entry that counts
(issue 19; see ``access_doors``). Each acts on a benchmark made fresh for each caller."""

from __future__ import annotations

import httpx

from .access_doors import Caller, Door, World, _call, logged_in


def _quotas(w: World, c: Caller) -> httpx.Response:
    benchmark = w.fresh_benchmark()
    path = f"/benchmarks/{benchmark['id']}/phases/main/quotas"
    return _call("PUT", path, c, json={"max_models_per_owner": 3})


def _priorities(w: World, c: Caller) -> httpx.Response:
    benchmark = w.fresh_benchmark()
    path = f"/benchmarks/{benchmark['id']}/priorities"
    return _call("PUT", path, c, json={"model_ids": [benchmark["reference_model_id"]]})


def _counting_entry(w: World, c: Caller) -> httpx.Response:
    """The vendor's model approved on a fresh benchmark whose phase has a models quota."""
    benchmark = w.fresh_benchmark()
    w.bench.ok(
        "put", f"/benchmarks/{benchmark['id']}/phases/main/quotas", {"max_models_per_owner": 2}
    )
    model = w.api.cube(w.vendor, "model")
    w.api.associate(w.vendor, benchmark, "model", model, w.bench)
    path = f"/benchmarks/{benchmark['id']}/counting-entry"
    return _call("PUT", path, c, json={"model_id": model["id"]})


def quota_doors() -> list[Door]:
    return [
        Door(
            "PUT",
            "/api/v1/benchmarks/{benchmark_id}/phases/{name}/quotas",
            "a fresh benchmark's phase main",
            _quotas,
            logged_in(403, admin=200, bench=200),
        ),
        Door(
            "PUT",
            "/api/v1/benchmarks/{benchmark_id}/priorities",
            "a fresh benchmark's open phase",
            _priorities,
            logged_in(403, admin=200, bench=200),
        ),
        Door(
            "PUT",
            "/api/v1/benchmarks/{benchmark_id}/counting-entry",
            "the vendor's approved model, in a phase with a models quota",
            _counting_entry,
            logged_in(403, vendor=200),
        ),
    ]
