"""Associations: who may ask, who may decide, and the four-eyes rule."""

from __future__ import annotations

from typing import Any

from .conftest import Api, User


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _request(user: User, benchmark: Any, kind: str, entity: Any) -> Any:
    body = {"benchmark_id": benchmark["id"], "kind": kind, "entity_id": entity["id"]}
    return user.post("/associations", body)


def test_only_an_approved_benchmark_takes_associations(api: Api) -> None:
    bench, vendor = api.user("bench"), api.user("vendor")
    benchmark = api.benchmark(bench)
    model = api.cube(vendor, "model")
    assert _error(_request(vendor, benchmark, "model", model)) == (404, "not_found")
    response = _request(User("root", 1, api), benchmark, "model", model)
    assert _error(response) == (409, "invalid_transition")
    assert "only an approved benchmark" in response.json()["error"]["message"]


def test_only_entity_owners_request_and_entities_must_be_in_operation(
    world: dict[str, Any], api: Api
) -> None:
    benchmark, vendor, hospital = world["benchmark"], world["vendor"], world["hospital"]
    other_model = api.cube(vendor, "model")
    assert _error(_request(hospital, benchmark, "model", other_model)) == (403, "permission_denied")
    other_dataset = api.dataset(hospital, benchmark)
    assert _error(_request(vendor, benchmark, "dataset", other_dataset)) == (404, "not_found")
    draft = api.cube(vendor, "model", stage="development")
    assert _error(_request(vendor, benchmark, "model", draft)) == (409, "invalid_transition")
    draft_dataset = api.dataset(hospital, benchmark, stage="development")
    response = _request(hospital, benchmark, "dataset", draft_dataset)
    assert _error(response) == (409, "invalid_transition")
    assert _error(_request(vendor, benchmark, "model", {"id": 9999})) == (404, "not_found")


def test_kinds_and_preparation_cube_must_match(world: dict[str, Any], api: Api) -> None:
    benchmark, vendor, hospital = world["benchmark"], world["vendor"], world["hospital"]
    evaluator = api.cube(vendor, "evaluator")
    assert _error(_request(vendor, benchmark, "model", evaluator)) == (422, "invalid_input")
    other_benchmark = api.benchmark(world["bench"], approve_by=world["root"])
    foreign = api.dataset(hospital, other_benchmark)  # prepared with another cube
    response = _request(hospital, benchmark, "dataset", foreign)
    assert _error(response) == (422, "invalid_input")
    assert "was prepared with cube" in response.json()["error"]["message"]


def test_a_second_request_for_the_same_pair_is_a_conflict(world: dict[str, Any]) -> None:
    response = _request(world["vendor"], world["benchmark"], "model", world["model"])
    assert _error(response) == (409, "conflict")


def test_only_the_benchmark_owner_or_an_admin_decides(world: dict[str, Any], api: Api) -> None:
    vendor, bench, root = world["vendor"], world["bench"], world["root"]
    first = _request(vendor, world["benchmark"], "model", api.cube(vendor, "model")).json()
    second = _request(vendor, world["benchmark"], "model", api.cube(vendor, "model")).json()
    for outsider in (vendor, world["hospital"]):
        path = f"/associations/{first['id']}/decision"
        assert outsider.put(path, {"status": "approved"}).status_code in (403, 404)
    decided = bench.ok("put", f"/associations/{first['id']}/decision", {"status": "rejected"})
    assert decided["status"] == "rejected" and decided["decided_by"] == "bench"
    again = bench.put(f"/associations/{first['id']}/decision", {"status": "approved"})
    assert _error(again) == (409, "invalid_transition")
    by_admin = root.ok("put", f"/associations/{second['id']}/decision", {"status": "approved"})
    assert by_admin["decided_by"] == "root"
    unknown = bench.put("/associations/9999/decision", {"status": "approved"})
    assert _error(unknown) == (404, "not_found")


def test_the_initiator_can_never_approve_not_even_an_admin(world: dict[str, Any], api: Api) -> None:
    root, bench = world["root"], world["bench"]
    own_model = api.cube(root, "model")
    association = _request(root, world["benchmark"], "model", own_model).json()
    path = f"/associations/{association['id']}/decision"
    response = root.put(path, {"status": "approved"})
    assert _error(response) == (403, "permission_denied")
    assert "someone else must approve it" in response.json()["error"]["message"]
    assert bench.ok("put", path, {"status": "approved"})["status"] == "approved"
    # The benchmark owner asking for its own model needs someone else too.
    bench_model = api.cube(bench, "model")
    own = _request(bench, world["benchmark"], "model", bench_model).json()
    path = f"/associations/{own['id']}/decision"
    assert _error(bench.put(path, {"status": "approved"})) == (403, "permission_denied")
    assert root.ok("put", path, {"status": "approved"})["status"] == "approved"


def test_listing_shows_only_associations_the_caller_is_party_to(world: dict[str, Any]) -> None:
    bid = world["benchmark"]["id"]
    everything = world["bench"].ok("get", f"/associations?benchmark_id={bid}")
    assert len(everything) == 3  # reference model, dataset, vendor's model
    assert [a["kind"] for a in world["hospital"].ok("get", "/associations")] == ["dataset"]
    vendor_sees = world["vendor"].ok("get", "/associations?kind=model&status=approved")
    assert [a["entity_name"] for a in vendor_sees] == [world["model"]["name"]]
    assert world["stranger"].ok("get", "/associations") == []
    assert len(world["root"].ok("get", "/associations?status=approved")) == 3


def test_an_admin_cannot_request_an_association_for_an_entity_it_does_not_own(
    world: dict[str, Any], api: Api
) -> None:
    benchmark, root = world["benchmark"], world["root"]
    dataset = api.dataset(world["hospital"], benchmark)
    response = _request(root, benchmark, "dataset", dataset)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": f"only the owner of dataset {dataset['name']} may request its association "
        "with a benchmark",
    }
    model = api.cube(world["vendor"], "model")
    response = _request(root, benchmark, "model", model)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        f"only the owner of model {model['name']} may request its association with a benchmark"
    )
    assert _request(world["hospital"], benchmark, "dataset", dataset).status_code == 201
