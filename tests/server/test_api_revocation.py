"""Associations revoked by either side, and requested again after a rejection or a
revocation: the same association reopens, and its history keeps every move."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api, Clock, User


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def _model_association(world: dict[str, Any]) -> Any:
    rows = world["vendor"].ok("get", "/associations?kind=model")
    return next(a for a in rows if a["entity_id"] == world["model"]["id"])


def _dataset_association(world: dict[str, Any]) -> Any:
    [row] = world["hospital"].ok("get", "/associations?kind=dataset")
    return row


def _revoke(user: User, association: Any) -> Any:
    return user.http.client.post(
        f"/api/v1/associations/{association['id']}/revocation", headers=user.headers
    )


def _request(user: User, benchmark: Any, kind: str, entity: Any) -> Any:
    body = {"benchmark_id": benchmark["id"], "kind": kind, "entity_id": entity["id"]}
    return user.post("/associations", body)


@pytest.mark.parametrize("who", ["bench", "vendor", "root"])
def test_either_side_or_an_admin_revokes_and_nothing_new_runs_under_it(
    world: dict[str, Any], api: Api, clock: Clock, who: str
) -> None:
    benchmark, hospital = world["benchmark"], world["hospital"]
    association = _model_association(world)
    clock.advance(hours=1)
    revoked = _revoke(world[who], association)
    assert revoked.status_code == 200, revoked.text
    body = revoked.json()
    assert body["status"] == "revoked"
    assert (body["decided_by"], body["decided_at"]) == (who, "2024-05-01T10:00:00Z")
    assert [(e["status"], e["by"]) for e in body["history"]] == [
        ("pending", "vendor"),
        ("approved", "bench"),
        ("revoked", who),
    ]
    # Pending executions leave it out; an upload under it is refused in one line.
    pending = hospital.ok("get", "/executions/pending")
    assert [p["model_id"] for p in pending] == [benchmark["reference_model_id"]]
    response = hospital.post(
        "/results", api.result_body(benchmark, world["dataset"], world["model"])
    )
    assert _error(response) == (
        409,
        "invalid_transition",
        f"model {world['model']['id']} is revoked on benchmark {benchmark['name']}; "
        "results need both the dataset and the model approved",
    )


def test_results_uploaded_before_a_revocation_stay(world: dict[str, Any], api: Api) -> None:
    benchmark, hospital = world["benchmark"], world["hospital"]
    result = hospital.ok(
        "post", "/results", api.result_body(benchmark, world["dataset"], world["model"])
    )
    assert _revoke(world["hospital"], _dataset_association(world)).status_code == 200
    assert hospital.ok("get", f"/results/{result['id']}")["id"] == result["id"]
    board = world["bench"].ok("get", f"/benchmarks/{benchmark['id']}/leaderboard")
    assert [e["model_id"] for e in board["entries"]] == [world["model"]["id"]]
    assert hospital.ok("get", "/executions/pending") == []


def test_outsiders_cannot_revoke_and_the_reference_model_is_not_revocable(
    world: dict[str, Any],
) -> None:
    association = _model_association(world)
    for outsider in ("stranger", "hospital"):  # the hospital is no party to the model's
        assert _error(_revoke(world[outsider], association))[:2] == (404, "not_found")
    reference = next(
        a
        for a in world["bench"].ok("get", "/associations?kind=model")
        if a["entity_id"] == world["benchmark"]["reference_model_id"]
    )
    status, code, message = _error(_revoke(world["bench"], reference))
    assert (status, code) == (409, "invalid_transition")
    assert message.endswith("part of its definition; invalidate the benchmark instead")
    assert _revoke(world["vendor"], association).status_code == 200
    again = _revoke(world["vendor"], association)
    assert _error(again)[:2] == (409, "invalid_transition")
    assert "is revoked; it cannot become revoked" in _error(again)[2]


def test_a_decision_is_approve_or_reject_never_revoke(world: dict[str, Any]) -> None:
    association = _model_association(world)
    path = f"/associations/{association['id']}/decision"
    response = world["bench"].put(path, {"status": "revoked"})
    assert _error(response)[:2] == (422, "invalid_input")
    assert "revoking has its own route" in _error(response)[2]


def test_a_request_after_a_rejection_reopens_it_with_its_history(
    world: dict[str, Any], api: Api, clock: Clock
) -> None:
    vendor, bench, benchmark = world["vendor"], world["bench"], world["benchmark"]
    model = api.cube(vendor, "model")
    first = _request(vendor, benchmark, "model", model).json()
    clock.advance(minutes=5)
    bench.ok("put", f"/associations/{first['id']}/decision", {"status": "rejected"})
    clock.advance(minutes=5)
    again = _request(vendor, benchmark, "model", model)
    assert again.status_code == 201, again.text
    reopened = again.json()
    assert reopened["id"] == first["id"]
    assert (reopened["status"], reopened["decided_by"], reopened["decided_at"]) == (
        "pending",
        None,
        None,
    )
    assert [(e["status"], e["by"], e["at"]) for e in reopened["history"]] == [
        ("pending", "vendor", "2024-05-01T09:00:00Z"),
        ("rejected", "bench", "2024-05-01T09:05:00Z"),
        ("pending", "vendor", "2024-05-01T09:10:00Z"),
    ]
    # Still four eyes on the new request; the benchmark owner approves it this time.
    approved = bench.ok("put", f"/associations/{first['id']}/decision", {"status": "approved"})
    assert [e["status"] for e in approved["history"]][-1] == "approved"
    assert bench.ok("get", f"/associations/{first['id']}") == approved
    assert any(
        p["model_id"] == model["id"] for p in world["hospital"].ok("get", "/executions/pending")
    )


def test_a_request_after_a_revocation_reopens_it(world: dict[str, Any]) -> None:
    hospital, benchmark, dataset = world["hospital"], world["benchmark"], world["dataset"]
    association = _dataset_association(world)
    assert _revoke(world["bench"], association).status_code == 200
    reopened = _request(hospital, benchmark, "dataset", dataset)
    assert reopened.status_code == 201 and reopened.json()["status"] == "pending"
    assert [e["status"] for e in reopened.json()["history"]] == [
        "pending",
        "approved",
        "revoked",
        "pending",
    ]
    # Pending or approved: a new request is a conflict that names the association.
    status, code, message = _error(_request(hospital, benchmark, "dataset", dataset))
    assert (status, code) == (409, "conflict")
    assert message == (
        f"dataset {dataset['name']} is already pending on benchmark {benchmark['name']} "
        f"(association {association['id']})"
    )


def test_only_the_parties_see_an_association(world: dict[str, Any]) -> None:
    association = _dataset_association(world)
    for who in ("hospital", "bench", "root"):
        assert world[who].ok("get", f"/associations/{association['id']}")["id"] == association["id"]
    for who in ("vendor", "stranger"):
        response = world[who].get(f"/associations/{association['id']}")
        assert _error(response)[:2] == (404, "not_found")
