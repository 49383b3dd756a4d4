"""Cubes, benchmarks and datasets: registration rules, stages, approval, visibility."""

from __future__ import annotations

from typing import Any

from medval.core.api import PREFIX

from .conftest import Api, User


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_cube_needs_its_archive_uploaded_first(api: Api) -> None:
    alice = api.user("alice")
    body = {"name": "model", "kind": "model", "archive_hash": "c" * 64}
    response = alice.post("/cubes", body)
    assert _error(response) == (422, "invalid_input")
    assert "has not been uploaded" in response.json()["error"]["message"]


def test_cubes_list_by_kind_and_owner_and_hide_drafts(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    model = api.cube(alice, "model")
    draft = api.cube(alice, "evaluator", stage="development")
    theirs = api.cube(bob, "model")
    assert [c["id"] for c in bob.ok("get", "/cubes?kind=model")] == [model["id"], theirs["id"]]
    assert [c["id"] for c in bob.ok("get", "/cubes?mine=true")] == [theirs["id"]]
    assert draft["id"] not in [c["id"] for c in bob.ok("get", "/cubes")]
    assert _error(bob.get(f"/cubes/{draft['id']}")) == (404, "not_found")
    assert alice.ok("get", f"/cubes/{draft['id']}")["stage"] == "development"
    assert _error(alice.get("/cubes/9999")) == (404, "not_found")


def test_cube_stage_moves_forward_once_by_its_owner(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    draft = api.cube(alice, "model", stage="development")
    path = f"/cubes/{draft['id']}/stage"
    assert _error(bob.put(path, {"stage": "operation"})) == (404, "not_found")
    assert alice.ok("put", path, {"stage": "operation"})["stage"] == "operation"
    assert _error(bob.put(path, {"stage": "operation"})) == (403, "permission_denied")
    back = alice.put(path, {"stage": "development"})
    assert _error(back) == (409, "invalid_transition")
    assert "cannot move to development" in back.json()["error"]["message"]


def test_benchmark_cubes_must_be_of_the_right_kind(api: Api) -> None:
    alice = api.user("alice")
    prep, model = api.cube(alice, "data_preparator"), api.cube(alice, "model")
    body = {
        "name": "bench",
        "data_preparator_id": prep["id"],
        "reference_model_id": model["id"],
        "evaluator_id": model["id"],  # a model is not an evaluator
        "demo_data_hash": api.blob(alice),
    }
    response = alice.post("/benchmarks", body)
    assert _error(response) == (422, "invalid_input")
    assert response.json()["error"]["message"].startswith(
        "evaluator_id must be a cube of kind evaluator"
    )
    assert _error(alice.post("/benchmarks", body | {"evaluator_id": 9999})) == (404, "not_found")
    no_demo = body | {
        "evaluator_id": api.cube(alice, "evaluator")["id"],
        "demo_data_hash": "d" * 64,
    }
    assert _error(alice.post("/benchmarks", no_demo)) == (422, "invalid_input")


def test_benchmark_in_operation_needs_cubes_in_operation(api: Api) -> None:
    alice = api.user("alice")
    body = {
        "name": "bench",
        "data_preparator_id": api.cube(alice, "data_preparator", stage="development")["id"],
        "reference_model_id": api.cube(alice, "model")["id"],
        "evaluator_id": api.cube(alice, "evaluator")["id"],
        "demo_data_hash": api.blob(alice),
    }
    assert _error(alice.post("/benchmarks", body)) == (409, "invalid_transition")
    draft = alice.ok("post", "/benchmarks", body | {"stage": "development"})
    moved = alice.put(f"/benchmarks/{draft['id']}/stage", {"stage": "operation"})
    assert _error(moved) == (409, "invalid_transition")


def test_benchmark_registration_approves_its_reference_model(api: Api) -> None:
    alice = api.user("alice")
    benchmark = api.benchmark(alice)
    assert benchmark["approval"] == "pending" and benchmark["owner"] == "alice"
    [association] = alice.ok("get", f"/associations?benchmark_id={benchmark['id']}")
    assert association["kind"] == "model"
    assert association["entity_id"] == benchmark["reference_model_id"]
    assert association["status"] == "approved"


def test_only_admins_approve_benchmarks_once(api: Api) -> None:
    alice = api.user("alice")
    root = User("root", 1, api)
    benchmark = api.benchmark(alice)
    path = f"/benchmarks/{benchmark['id']}/approval"
    assert _error(alice.put(path, {"status": "approved"})) == (403, "permission_denied")
    assert _error(root.put(path, {"status": "pending"})) == (409, "invalid_transition")
    assert root.ok("put", path, {"status": "rejected"})["approval"] == "rejected"
    assert _error(root.put(path, {"status": "approved"})) == (409, "invalid_transition")
    assert _error(root.put("/benchmarks/9999/approval", {"status": "approved"})) == (
        404,
        "not_found",
    )


def test_a_draft_benchmark_cannot_be_approved(api: Api) -> None:
    alice = api.user("alice")
    root = User("root", 1, api)
    draft = api.benchmark(alice, stage="development")
    response = root.put(f"/benchmarks/{draft['id']}/approval", {"status": "approved"})
    assert _error(response) == (409, "invalid_transition")


def test_benchmark_visibility_for_owner_others_and_anonymous(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    root = User("root", 1, api)
    pending = api.benchmark(alice)
    participants = api.benchmark(alice, approve_by=root)
    public = api.benchmark(alice, approve_by=root, policy="public")
    ids = {b["id"] for b in alice.ok("get", "/benchmarks")}
    assert ids == {pending["id"], participants["id"], public["id"]}
    assert {b["id"] for b in bob.ok("get", "/benchmarks")} == {participants["id"], public["id"]}
    assert _error(bob.get(f"/benchmarks/{pending['id']}")) == (404, "not_found")
    anonymous = api.client.get(PREFIX + "/benchmarks").json()
    assert [b["id"] for b in anonymous] == [public["id"]]
    assert api.client.get(f"{PREFIX}/benchmarks/{public['id']}").status_code == 401


def test_dataset_needs_a_data_preparator_and_is_shown_to_few(api: Api) -> None:
    alice, hospital, stranger = api.user("alice"), api.user("hospital"), api.user("stranger")
    root = User("root", 1, api)
    benchmark = api.benchmark(alice, approve_by=root)
    dataset = api.dataset(hospital, benchmark)
    assert dataset["statistics"] == {"n_cases": 100, "values": {"age": {"mean": 60.0}}}
    wrong = {
        "name": "x",
        "data_preparator_id": benchmark["evaluator_id"],
        "data_hash": "e" * 64,
        "statistics": {"n_cases": 1},
    }
    assert _error(hospital.post("/datasets", wrong)) == (422, "invalid_input")
    # Before it asks to join, only its owner and admins see it.
    assert _error(alice.get(f"/datasets/{dataset['id']}")) == (404, "not_found")
    api.associate(hospital, benchmark, "dataset", dataset, decide_by=None)
    assert alice.ok("get", f"/datasets/{dataset['id']}")["id"] == dataset["id"]
    assert _error(stranger.get(f"/datasets/{dataset['id']}")) == (404, "not_found")
    assert stranger.ok("get", "/datasets") == []
    assert [d["id"] for d in hospital.ok("get", "/datasets?mine=true")] == [dataset["id"]]
    assert root.ok("get", f"/datasets/{dataset['id']}")["owner"] == "hospital"


def test_dataset_statistics_are_strict(api: Api) -> None:
    alice = api.user("alice")
    benchmark = api.benchmark(alice)
    body = {
        "name": "leaky",
        "data_preparator_id": benchmark["data_preparator_id"],
        "data_hash": "e" * 64,
        "statistics": {"n_cases": 1, "rows": [["patient-1", 0.3]]},
    }
    response = alice.post("/datasets", body)
    assert _error(response) == (422, "invalid_input")
    assert response.json()["error"]["message"].startswith("body.statistics.rows: Extra inputs")


def test_dataset_stage_moves_once(api: Api) -> None:
    alice = api.user("alice")
    dataset = api.dataset(alice, api.benchmark(alice), stage="development")
    path = f"/datasets/{dataset['id']}/stage"
    assert alice.ok("put", path, {"stage": "operation"})["stage"] == "operation"
    assert _error(alice.put(path, {"stage": "operation"})) == (409, "invalid_transition")
