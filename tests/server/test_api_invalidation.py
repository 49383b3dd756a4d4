"""Invalidation: an owner or an admin invalidates a cube, a dataset or a benchmark for
good; it stays listed with its results, but nothing new runs against it."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api, Clock, User

NOW_PLUS_AN_HOUR = "2024-05-01T10:00:00Z"


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def _invalidate(user: User, what: str, entity_id: int) -> Any:
    return user.http.client.post(f"/api/v1/{what}/{entity_id}/invalidation", headers=user.headers)


def test_the_owner_invalidates_for_good_and_it_stays_listed(
    world: dict[str, Any], clock: Clock
) -> None:
    model = world["model"]
    assert model["invalidated_at"] is None and model["invalidated_by"] is None
    clock.advance(hours=1)
    response = _invalidate(world["vendor"], "cubes", model["id"])
    assert response.status_code == 200, response.text
    assert (response.json()["invalidated_at"], response.json()["invalidated_by"]) == (
        NOW_PLUS_AN_HOUR,
        "vendor",
    )
    listed = {c["id"]: c for c in world["stranger"].ok("get", "/cubes")}
    assert listed[model["id"]]["invalidated_by"] == "vendor"
    again = _invalidate(world["vendor"], "cubes", model["id"])
    assert _error(again)[:2] == (409, "invalid_transition")
    assert "is already invalidated (by vendor)" in _error(again)[2]


@pytest.mark.parametrize(
    ("what", "key", "owner"),
    [
        ("cubes", "model", "vendor"),
        ("datasets", "dataset", "hospital"),
        ("benchmarks", "benchmark", "bench"),
    ],
)
def test_only_the_owner_or_an_admin_invalidates(
    world: dict[str, Any], what: str, key: str, owner: str
) -> None:
    entity_id = world[key]["id"]
    for outsider in ("stranger", "vendor", "hospital", "bench"):
        if outsider == owner:
            continue
        response = _invalidate(world[outsider], what, entity_id)
        assert response.status_code in (403, 404), (outsider, response.text)
    by_admin = _invalidate(world["root"], what, entity_id)
    assert by_admin.status_code == 200 and by_admin.json()["invalidated_by"] == "root"
    assert _error(_invalidate(world["root"], what, 9999))[:2] == (404, "not_found")


def _pending_models(world: dict[str, Any]) -> set[int]:
    return {p["model_id"] for p in world["hospital"].ok("get", "/executions/pending")}


def test_an_invalid_model_leaves_the_pending_work_and_its_uploads_are_refused(
    world: dict[str, Any], api: Api
) -> None:
    benchmark, model = world["benchmark"], world["model"]
    assert _pending_models(world) == {benchmark["reference_model_id"], model["id"]}
    _invalidate(world["vendor"], "cubes", model["id"])
    assert _pending_models(world) == {benchmark["reference_model_id"]}
    body = api.result_body(benchmark, world["dataset"], model)
    status, code, message = _error(world["hospital"].post("/results", body))
    assert (status, code) == (409, "invalid_transition")
    assert message == (
        f"model cube {model['name']} ({model['id']}) was invalidated by vendor on 2024-05-01; "
        "nothing new runs against it"
    )


@pytest.mark.parametrize("target", ["benchmark", "dataset", "data_preparator", "evaluator"])
def test_an_invalid_benchmark_dataset_or_benchmark_cube_stops_all_its_work(
    world: dict[str, Any], api: Api, target: str
) -> None:
    benchmark = world["benchmark"]
    if target == "benchmark":
        _invalidate(world["bench"], "benchmarks", benchmark["id"])
    elif target == "dataset":
        _invalidate(world["hospital"], "datasets", world["dataset"]["id"])
    else:
        _invalidate(world["bench"], "cubes", benchmark[f"{target}_id"])
    assert _pending_models(world) == set()
    body = api.result_body(benchmark, world["dataset"], world["model"])
    status, code, message = _error(world["hospital"].post("/results", body))
    assert (status, code) == (409, "invalid_transition")
    assert message.endswith("nothing new runs against it")
    # New associations with it are refused too, in one line.
    newcomer = api.cube(world["vendor"], "model")
    request = {"benchmark_id": benchmark["id"], "kind": "model", "entity_id": newcomer["id"]}
    if target == "dataset":
        request = {
            "benchmark_id": benchmark["id"],
            "kind": "dataset",
            "entity_id": world["dataset"]["id"],
        }
        world["bench"].http.client.post(
            f"/api/v1/associations/{_dataset_association_id(world)}/revocation",
            headers=world["bench"].headers,
        )
        requester = world["hospital"]
    else:
        requester = world["vendor"]
    status, code, message = _error(requester.post("/associations", request))
    assert (status, code) == (409, "invalid_transition")
    assert "was invalidated by" in message


def _dataset_association_id(world: dict[str, Any]) -> int:
    [row] = world["hospital"].ok("get", "/associations?kind=dataset")
    return int(row["id"])


def test_results_of_an_invalid_benchmark_stay_released(world: dict[str, Any], api: Api) -> None:
    benchmark = world["benchmark"]
    result = world["hospital"].ok(
        "post", "/results", api.result_body(benchmark, world["dataset"], world["model"])
    )
    _invalidate(world["bench"], "benchmarks", benchmark["id"])
    _invalidate(world["vendor"], "cubes", world["model"]["id"])
    for viewer in ("hospital", "vendor", "bench"):
        assert world[viewer].ok("get", f"/results/{result['id']}")["id"] == result["id"]
    board = world["vendor"].ok("get", f"/benchmarks/{benchmark['id']}/leaderboard")
    assert [e["model_id"] for e in board["entries"]] == [world["model"]["id"]]
    shown = world["stranger"].ok("get", f"/benchmarks/{benchmark['id']}")
    assert shown["invalidated_by"] == "bench"


def test_an_invalid_cube_cannot_be_named_by_a_new_benchmark_or_dataset(
    world: dict[str, Any], api: Api
) -> None:
    bench, benchmark = world["bench"], world["benchmark"]
    _invalidate(bench, "cubes", benchmark["data_preparator_id"])
    body = {
        "name": "bench-again",
        "data_preparator_id": benchmark["data_preparator_id"],
        "reference_model_id": benchmark["reference_model_id"],
        "evaluator_id": benchmark["evaluator_id"],
        "demo_data_hash": api.blob(bench),
    }
    assert _error(bench.post("/benchmarks", body))[:2] == (409, "invalid_transition")
    dataset = {
        "name": "late-site",
        "data_preparator_id": benchmark["data_preparator_id"],
        "data_hash": "c" * 64,
        "statistics": {"n_cases": 10, "values": {}},
    }
    status, code, message = _error(world["hospital"].post("/datasets", dataset))
    assert (status, code) == (409, "invalid_transition")
    assert message.startswith("data_preparator cube ")


def test_a_pending_association_of_an_invalidated_model_cannot_be_approved(
    world: dict[str, Any], api: Api
) -> None:
    model = api.cube(world["vendor"], "model")
    association = api.associate(world["vendor"], world["benchmark"], "model", model, None)
    _invalidate(world["vendor"], "cubes", model["id"])
    path = f"/associations/{association['id']}/decision"
    assert _error(world["bench"].put(path, {"status": "approved"}))[:2] == (
        409,
        "invalid_transition",
    )
    assert world["bench"].ok("put", path, {"status": "rejected"})["status"] == "rejected"
