"""Results: the data owner uploads, every hash is checked; pending work; who sees what."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_pending_executions_are_approved_models_on_my_datasets(
    world: dict[str, Any], api: Api
) -> None:
    hospital, benchmark = world["hospital"], world["benchmark"]
    pending = hospital.ok("get", "/executions/pending")
    assert {p["model_id"] for p in pending} == {
        benchmark["reference_model_id"],
        world["model"]["id"],
    }
    row = next(p for p in pending if p["model_id"] == world["model"]["id"])
    assert row == {
        "benchmark_id": benchmark["id"],
        "benchmark": benchmark["name"],
        "dataset_id": world["dataset"]["id"],
        "dataset": world["dataset"]["name"],
        "model_id": world["model"]["id"],
        "model": world["model"]["name"],
        "model_owner": "vendor",
        "model_hash": world["model"]["archive_hash"],
    }
    # A model still waiting for approval is not pending work.
    waiting = api.cube(world["vendor"], "model")
    api.associate(world["vendor"], benchmark, "model", waiting, decide_by=None)
    assert len(hospital.ok("get", "/executions/pending")) == 2
    assert world["vendor"].ok("get", "/executions/pending") == []
    body = api.result_body(benchmark, world["dataset"], world["model"])
    hospital.ok("post", "/results", body)
    [left] = hospital.ok("get", "/executions/pending")
    assert left["model_id"] == benchmark["reference_model_id"]


def test_the_dataset_owner_uploads_a_result_once(world: dict[str, Any], api: Api) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    result = world["hospital"].post("/results", body)
    assert result.status_code == 201
    assert result.json()["owner"] == "hospital" and result.json()["model"] == world["model"]["name"]
    assert _error(world["hospital"].post("/results", body)) == (409, "conflict")


@pytest.mark.parametrize("uploader", ["vendor", "bench", "root"])
def test_nobody_else_uploads_not_even_an_admin(
    world: dict[str, Any], api: Api, uploader: str
) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    assert world[uploader].post("/results", body).status_code in (403, 404)


@pytest.mark.parametrize(
    "field", ["dataset_hash", "data_preparator_hash", "model_hash", "evaluator_hash"]
)
def test_provenance_must_match_every_registered_hash(
    world: dict[str, Any], api: Api, field: str
) -> None:
    body = api.result_body(
        world["benchmark"], world["dataset"], world["model"], **{field: "0" * 64}
    )
    response = world["hospital"].post("/results", body)
    assert _error(response) == (422, "hash_mismatch")
    assert field in response.json()["error"]["message"]


def test_both_associations_must_be_approved(world: dict[str, Any], api: Api) -> None:
    hospital, vendor, benchmark = world["hospital"], world["vendor"], world["benchmark"]
    waiting = api.cube(vendor, "model")
    api.associate(vendor, benchmark, "model", waiting, decide_by=None)
    response = hospital.post("/results", api.result_body(benchmark, world["dataset"], waiting))
    assert _error(response) == (409, "invalid_transition")
    assert "pending" in response.json()["error"]["message"]
    unasked = api.dataset(hospital, benchmark)
    response = hospital.post("/results", api.result_body(benchmark, unasked, world["model"]))
    assert _error(response) == (409, "invalid_transition")


def test_results_are_seen_by_the_three_owners_and_admins_only(
    world: dict[str, Any], api: Api
) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    result = world["hospital"].ok("post", "/results", body)
    for viewer in ("hospital", "vendor", "bench", "root"):
        assert world[viewer].ok("get", f"/results/{result['id']}")["id"] == result["id"]
        assert [r["id"] for r in world[viewer].ok("get", "/results")] == [result["id"]]
    assert _error(world["stranger"].get(f"/results/{result['id']}")) == (404, "not_found")
    assert world["stranger"].ok("get", "/results") == []
    bid = world["benchmark"]["id"]
    assert len(world["bench"].ok("get", f"/results?benchmark_id={bid}")) == 1
    assert world["bench"].ok("get", f"/results?model_id={world['dataset']['id'] + 999}") == []
    assert _error(world["root"].get("/results/9999")) == (404, "not_found")


def test_a_model_owner_does_not_see_other_models_results(world: dict[str, Any], api: Api) -> None:
    reference = world["hospital"].ok("get", f"/cubes/{world['benchmark']['reference_model_id']}")
    body = api.result_body(world["benchmark"], world["dataset"], reference)
    result = world["hospital"].ok("post", "/results", body)
    assert _error(world["vendor"].get(f"/results/{result['id']}")) == (404, "not_found")
