"""What the tests of phases (issue 19) build on: a benchmark whose first phase is closed
and whose second one holds its results for the committee, with a held result in it."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from tests.server.conftest import Api, User


def phases_of(user: User, benchmark: Any) -> list[Any]:
    result: list[Any] = user.ok("get", f"/benchmarks/{benchmark['id']}/phases")
    return result


def close(user: User, benchmark: Any, name: str) -> Any:
    return user.ok("post", f"/benchmarks/{benchmark['id']}/phases/{name}/closure", {})


def held_phase(bench: User, benchmark: Any, name: str = "final") -> Any:
    """Phase ``main`` closed now, and phase ``name`` open from then on, its results held."""
    closed = close(bench, benchmark, "main")
    body = {"name": name, "opens_at": closed["closed_at"], "publication": "held"}
    return bench.ok("post", f"/benchmarks/{benchmark['id']}/phases", body)


def held_result(
    api: Api, bench: User, admin: User, hospital: User, vendor: User
) -> tuple[Any, Any, Any]:
    """A new approved benchmark of ``bench``'s in a held phase, with the hospital's dataset
    and the vendor's model approved on it, and the hospital's held result of that model:
    (benchmark, model, result)."""
    benchmark = api.benchmark(bench, approve_by=admin, min_sites=1)
    held_phase(bench, benchmark)
    # Named apart from api.dataset's: the access matrix runs several Api objects on one app.
    body = {
        "name": f"held-site-{uuid.uuid4().hex[:12]}",
        "data_preparator_id": benchmark["data_preparator_id"],
        "data_hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        "statistics": {"n_cases": 100, "values": {}},
    }
    dataset = hospital.ok("post", "/datasets", body)
    api.associate(hospital, benchmark, "dataset", dataset, bench)
    model = api.cube(vendor, "model")
    api.associate(vendor, benchmark, "model", model, bench)
    result = hospital.ok("post", "/results", api.result_body(benchmark, dataset, model))
    assert result["publication"] == "held", result
    return benchmark, model, result
