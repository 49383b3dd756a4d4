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
        "failed": False,
        "policy": {"model_owners": None, "max_runs": None, "expires_on": None},
        "runs": 0,
        "phase": "main",  # the phase open now, which its result will belong to
        "evaluator_id": None,  # the benchmark's
        # No priority set by the committee, no daily quota in the phase (core.quotas).
        "priority": None,
        "quota_left": None,
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


@pytest.mark.parametrize("field", ["data_preparator_image", "model_image", "evaluator_image"])
def test_provenance_names_no_image_a_cube_does_not_have(
    world: dict[str, Any], api: Api, field: str
) -> None:
    wrong = {field: "sha256:" + "0" * 64}
    body = api.result_body(world["benchmark"], world["dataset"], world["model"], **wrong)
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


REASON = "task 'infer' of cube 'model-x' failed with exit code 1"


def _failed(body: dict[str, Any], reason: str = REASON) -> dict[str, Any]:
    return body | {"status": "failed", "document": None, "failure": reason}


def test_a_failed_execution_is_recorded_with_its_reason_and_no_metrics(
    world: dict[str, Any], api: Api
) -> None:
    body = _failed(api.result_body(world["benchmark"], world["dataset"], world["model"]))
    body["executed_at"] = "2024-05-01T08:30:00Z"
    failed = world["hospital"].ok("post", "/results", body)
    assert (failed["status"], failed["document"], failed["failure"]) == ("failed", None, REASON)
    assert failed["executed_at"] == "2024-05-01T08:30:00Z"
    assert failed["created_at"] == "2024-05-01T09:00:00Z"
    # The benchmark owner and the model owner see it, as any per-site result.
    for viewer in ("bench", "vendor", "root"):
        [seen] = world[viewer].ok("get", f"/results?model_id={world['model']['id']}")
        assert (seen["id"], seen["status"], seen["failure"]) == (failed["id"], "failed", REASON)
    assert world["stranger"].ok("get", "/results") == []
    # Still pending for its data owner, marked: it may run and be uploaded again.
    pending = world["hospital"].ok("get", "/executions/pending")
    assert {p["model_id"]: p["failed"] for p in pending}[world["model"]["id"]] is True


def test_a_failure_is_replaced_by_a_later_upload_and_a_success_is_final(
    world: dict[str, Any], api: Api, clock: Any
) -> None:
    hospital = world["hospital"]
    succeeded = api.result_body(world["benchmark"], world["dataset"], world["model"])
    first = hospital.ok("post", "/results", _failed(succeeded))
    again = hospital.ok("post", "/results", _failed(succeeded, REASON + " (again)"))
    assert (again["id"], again["failure"]) == (first["id"], REASON + " (again)")
    clock.advance(hours=1)
    done = hospital.ok("post", "/results", succeeded)
    assert (done["id"], done["status"], done["failure"]) == (first["id"], "succeeded", None)
    assert done["document"] == succeeded["document"]
    assert done["created_at"] == "2024-05-01T10:00:00Z"
    response = hospital.post("/results", _failed(succeeded))
    assert _error(response) == (409, "conflict")
    assert "already has a result" in response.json()["error"]["message"]
    pending = hospital.ok("get", "/executions/pending")
    assert world["model"]["id"] not in {p["model_id"] for p in pending}


@pytest.mark.parametrize(
    "change",
    [
        {"status": "failed"},  # a failure without a reason, with metrics
        {"status": "failed", "document": None},  # no reason
        {"failure": REASON},  # a success with a reason
        {"document": None},  # a success without metrics
        {"status": "failed", "document": None, "failure": "two\nlines"},
        {"status": "failed", "document": None, "failure": "x" * 501},
        {"status": "failed", "document": None, "failure": ""},
    ],
)
def test_metrics_or_a_one_line_reason_never_both(
    world: dict[str, Any], api: Api, change: dict[str, Any]
) -> None:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"]) | change
    assert _error(world["hospital"].post("/results", body)) == (422, "invalid_input")
    assert world["hospital"].ok("get", "/results") == []


def test_the_leaderboard_counts_failures_and_pools_only_successes(
    world: dict[str, Any], api: Api
) -> None:
    hospital, benchmark = world["hospital"], world["benchmark"]
    second = api.dataset(hospital, benchmark)
    api.associate(hospital, benchmark, "dataset", second, world["bench"])
    hospital.ok("post", "/results", api.result_body(benchmark, world["dataset"], world["model"]))
    failed = _failed(api.result_body(benchmark, second, world["model"]))
    hospital.ok("post", "/results", failed)
    board = world["bench"].ok("get", f"/benchmarks/{benchmark['id']}/leaderboard?sites=true")
    [entry] = board["entries"]
    assert (entry["n_sites"], entry["n_failed"], entry["n_cases"]) == (1, 1, 1000)
    assert entry["pooled"]["auroc"]["n_sites"] == 1
    assert [site["dataset_id"] for site in entry["sites"]] == [world["dataset"]["id"]]
