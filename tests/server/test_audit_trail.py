"""The server's audit trail: every change through the API is in the chained log.

The table below has one entry per state-changing route (POST, PUT, PATCH, DELETE): a
successful call of it, made ready in the ``world`` fixture. A route missing from the
table fails the first test, so a route added later must say how it is audited.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.server.audit_change import Case, Change
from tests.server.committee_audit_cases import COMMITTEE_CASES
from tests.server.conftest import PASSWORD, Api
from tests.server.model_key_audit_cases import MODEL_KEY_CASES
from tests.server.phase_audit_cases import PHASE_CASES
from tests.server.phase_world import held_result
from tests.server.preparation_report_bodies import report_body
from tests.server.quota_audit_cases import QUOTA_CASES
from tests.server.training_audit_cases import TRAINING_CASES

from medval.core import api as routes
from medval.core.api import PREFIX
from medval.core.result_schemas import ResultCreate
from medval.core.schemas import AuditEntryPublic
from medval.server.settings import ServerSettings
from medval.server.store.sql import SqlStore
from medval.trust.audit_chain import ChainHead, recomputed_hash, verify_chain

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _log_in(api: Api, w: dict[str, Any]) -> Change:
    return Change("hospital", "user", lambda: api.login("hospital"))


def _log_out(api: Api, w: dict[str, Any]) -> Change:
    headers = w["hospital"].headers
    return Change(
        "hospital", "user", lambda: api.client.delete(PREFIX + routes.TOKEN, headers=headers)
    )


def _create_user(api: Api, w: dict[str, Any]) -> Change:
    body = {"username": "newcomer", "password": PASSWORD}
    return Change("root", "user", lambda: w["root"].post(routes.USERS, body))


def _put_blob(api: Api, w: dict[str, Any]) -> Change:
    data = b"a new archive"
    path = f"/blobs/{hashlib.sha256(data).hexdigest()}"
    return Change("vendor", "blob", lambda: w["vendor"].put(path, content=data))


def _register_cube(api: Api, w: dict[str, Any]) -> Change:
    body = {"name": "new-model", "kind": "model", "archive_hash": api.blob(w["vendor"])}
    return Change("vendor", "cube", lambda: w["vendor"].post(routes.CUBES, body))


def _cube_stage(api: Api, w: dict[str, Any]) -> Change:
    cube = api.cube(w["vendor"], "model", stage="development")
    path = f"/cubes/{cube['id']}/stage"
    return Change("vendor", "cube", lambda: w["vendor"].put(path, {"stage": "operation"}))


def _invalidate_cube(api: Api, w: dict[str, Any]) -> Change:
    path = f"/cubes/{w['model']['id']}/invalidation"
    return Change("vendor", "cube", lambda: w["vendor"].post(path, None))


def _register_benchmark(api: Api, w: dict[str, Any]) -> Change:
    bench = w["bench"]
    body = {
        "name": "another-benchmark",
        "data_preparator_id": api.cube(bench, "data_preparator")["id"],
        "reference_model_id": api.cube(bench, "model")["id"],
        "evaluator_id": api.cube(bench, "evaluator")["id"],
        "demo_data_hash": api.blob(bench),
    }
    return Change("bench", "benchmark", lambda: bench.post(routes.BENCHMARKS, body))


def _benchmark_stage(api: Api, w: dict[str, Any]) -> Change:
    benchmark = api.benchmark(w["bench"], stage="development")
    path = f"/benchmarks/{benchmark['id']}/stage"
    return Change("bench", "benchmark", lambda: w["bench"].put(path, {"stage": "operation"}))


def _approve_benchmark(api: Api, w: dict[str, Any]) -> Change:
    path = f"/benchmarks/{api.benchmark(w['bench'])['id']}/approval"
    return Change("root", "benchmark", lambda: w["root"].put(path, {"status": "approved"}))


def _invalidate_benchmark(api: Api, w: dict[str, Any]) -> Change:
    path = f"/benchmarks/{w['benchmark']['id']}/invalidation"
    return Change("bench", "benchmark", lambda: w["bench"].post(path, None))


def _register_dataset(api: Api, w: dict[str, Any]) -> Change:
    body = {
        "name": "another-site",
        "data_preparator_id": w["benchmark"]["data_preparator_id"],
        "data_hash": "c" * 64,
        "statistics": {"n_cases": 100, "values": {}},
    }
    return Change("hospital", "dataset", lambda: w["hospital"].post(routes.DATASETS, body))


def _dataset_stage(api: Api, w: dict[str, Any]) -> Change:
    dataset = api.dataset(w["hospital"], w["benchmark"], stage="development")
    path = f"/datasets/{dataset['id']}/stage"
    return Change("hospital", "dataset", lambda: w["hospital"].put(path, {"stage": "operation"}))


def _invalidate_dataset(api: Api, w: dict[str, Any]) -> Change:
    path = f"/datasets/{w['dataset']['id']}/invalidation"
    return Change("hospital", "dataset", lambda: w["hospital"].post(path, None))


def _request_association(api: Api, w: dict[str, Any]) -> Change:
    dataset = api.dataset(w["hospital"], w["benchmark"])
    body = {"benchmark_id": w["benchmark"]["id"], "kind": "dataset", "entity_id": dataset["id"]}
    return Change("hospital", "association", lambda: w["hospital"].post(routes.ASSOCIATIONS, body))


def _decide_association(api: Api, w: dict[str, Any]) -> Change:
    dataset = api.dataset(w["hospital"], w["benchmark"])
    association = api.associate(w["hospital"], w["benchmark"], "dataset", dataset, None)
    path = f"/associations/{association['id']}/decision"
    return Change("bench", "association", lambda: w["bench"].put(path, {"status": "approved"}))


def _revoke_association(api: Api, w: dict[str, Any]) -> Change:
    found = w["vendor"].ok("get", f"/associations?benchmark_id={w['benchmark']['id']}&kind=model")
    ours = next(a for a in found if a["entity_id"] == w["model"]["id"])
    path = f"/associations/{ours['id']}/revocation"
    return Change("vendor", "association", lambda: w["vendor"].post(path, None))


_AGREEMENT = "Each member keeps its data at home.\n"


def _agreement_path(w: dict[str, Any]) -> str:
    return f"/benchmarks/{w['benchmark']['id']}/agreement"


def _set_agreement(api: Api, w: dict[str, Any]) -> Change:
    body = {"text": _AGREEMENT, "sha256": hashlib.sha256(_AGREEMENT.encode()).hexdigest()}
    return Change("bench", "benchmark", lambda: w["bench"].put(_agreement_path(w), body))


def _accept_agreement(api: Api, w: dict[str, Any]) -> Change:
    sha256 = hashlib.sha256(_AGREEMENT.encode()).hexdigest()
    w["bench"].ok("put", _agreement_path(w), {"text": _AGREEMENT, "sha256": sha256})
    path = _agreement_path(w) + "/acceptances"
    return Change(
        "hospital", "agreement_acceptance", lambda: w["hospital"].post(path, {"sha256": sha256})
    )


def _set_auto_approval(api: Api, w: dict[str, Any]) -> Change:
    path = f"/benchmarks/{w['benchmark']['id']}/auto-approval"
    return Change("bench", "benchmark", lambda: w["bench"].put(path, {"mode": "always"}))


def _set_data_policy(api: Api, w: dict[str, Any]) -> Change:
    found = w["hospital"].ok(
        "get", f"/associations?benchmark_id={w['benchmark']['id']}&kind=dataset"
    )
    ours = next(a for a in found if a["entity_id"] == w["dataset"]["id"])
    path = f"/associations/{ours['id']}/policy"
    return Change("hospital", "association", lambda: w["hospital"].put(path, {"max_runs": 3}))


def _change_password(api: Api, w: dict[str, Any]) -> Change:
    path = f"/users/{w['stranger'].id}/password"
    body = {"new_password": "a-new-long-password"}
    return Change("root", "user", lambda: w["root"].put(path, body))


def _disable_user(api: Api, w: dict[str, Any]) -> Change:
    path = f"/users/{w['stranger'].id}/status"
    return Change("root", "user", lambda: w["root"].put(path, {"disabled": True}))


def _revoke_tokens(api: Api, w: dict[str, Any]) -> Change:
    path = PREFIX + f"/users/{w['stranger'].id}/tokens"
    headers = w["root"].headers
    return Change("root", "user", lambda: api.client.delete(path, headers=headers))


def _register_signing_key(api: Api, w: dict[str, Any]) -> Change:
    from medval.trust.keys import SigningKey

    body = {"public_key": SigningKey.generate().public_key}
    return Change(
        "stranger", "signing_key", lambda: w["stranger"].post(routes.MY_SIGNING_KEYS, body)
    )


def _send_preparation_report(api: Api, w: dict[str, Any]) -> Change:
    body = report_body(w["benchmark"]["id"])
    return Change(
        "hospital",
        "preparation_report",
        lambda: w["hospital"].post(routes.PREPARATION_REPORTS, body),
    )


def _upload_result(api: Api, w: dict[str, Any]) -> Change:
    body = api.result_body(w["benchmark"], w["dataset"], w["model"])
    return Change("hospital", "result", lambda: w["hospital"].post(routes.RESULTS, body))


def _publish_result(api: Api, w: dict[str, Any]) -> Change:
    _, _, result = held_result(api, w["bench"], w["root"], w["hospital"], w["vendor"])
    path = routes.RESULT_PUBLICATION.format(result_id=result["id"])
    return Change("bench", "result", lambda: w["bench"].post(path, {}))


def _withhold_result(api: Api, w: dict[str, Any]) -> Change:
    _, _, result = held_result(api, w["bench"], w["root"], w["hospital"], w["vendor"])
    path = routes.RESULT_WITHHOLDING.format(result_id=result["id"])
    return Change("bench", "result", lambda: w["bench"].post(path, {"reason": "wrong cohort"}))


CASES: dict[tuple[str, str], Case] = {
    ("POST", routes.TOKEN): _log_in,
    ("DELETE", routes.TOKEN): _log_out,
    ("POST", routes.USERS): _create_user,
    ("PUT", routes.BLOB): _put_blob,
    ("POST", routes.CUBES): _register_cube,
    ("PUT", routes.CUBE_STAGE): _cube_stage,
    ("POST", routes.CUBE_INVALIDATION): _invalidate_cube,
    ("POST", routes.BENCHMARKS): _register_benchmark,
    ("PUT", routes.BENCHMARK_STAGE): _benchmark_stage,
    ("PUT", routes.BENCHMARK_APPROVAL): _approve_benchmark,
    ("POST", routes.BENCHMARK_INVALIDATION): _invalidate_benchmark,
    ("POST", routes.DATASETS): _register_dataset,
    ("PUT", routes.DATASET_STAGE): _dataset_stage,
    ("POST", routes.DATASET_INVALIDATION): _invalidate_dataset,
    ("POST", routes.ASSOCIATIONS): _request_association,
    ("PUT", routes.ASSOCIATION_DECISION): _decide_association,
    ("POST", routes.ASSOCIATION_REVOCATION): _revoke_association,
    ("POST", routes.RESULTS): _upload_result,
    ("PUT", routes.BENCHMARK_AGREEMENT): _set_agreement,
    ("POST", routes.AGREEMENT_ACCEPTANCES): _accept_agreement,
    ("PUT", routes.BENCHMARK_AUTO_APPROVAL): _set_auto_approval,
    ("PUT", routes.ASSOCIATION_POLICY): _set_data_policy,
    ("PUT", routes.USER_PASSWORD): _change_password,
    ("PUT", routes.USER_STATUS): _disable_user,
    ("DELETE", routes.USER_TOKENS): _revoke_tokens,
    ("POST", routes.MY_SIGNING_KEYS): _register_signing_key,
    ("POST", routes.PREPARATION_REPORTS): _send_preparation_report,
    ("POST", routes.RESULT_PUBLICATION): _publish_result,
    ("POST", routes.RESULT_WITHHOLDING): _withhold_result,
    **TRAINING_CASES,
    **MODEL_KEY_CASES,
    **COMMITTEE_CASES,
    **QUOTA_CASES,
    **PHASE_CASES,
}


def _log(settings: ServerSettings) -> tuple[list[AuditEntryPublic], ChainHead]:
    store = SqlStore.from_url(settings.database_url)
    try:
        with store.transaction() as tx:
            return tx.list_audit_entries(), tx.audit_head()
    finally:
        store.close()


def test_every_state_changing_route_is_in_the_table(client: TestClient) -> None:
    # The app's route table as FastAPI publishes it (every route, however it is mounted;
    # FastAPI 0.165 keeps included routers behind private objects). A route hidden from the
    # schema (include_in_schema=False) would not be seen: medval hides none.
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    changing = {
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in paths.items()
        for method in operations
        if method.upper() in CHANGING
    }
    missing = sorted(changing - set(CASES))
    assert not missing, f"state-changing routes with no entry in this test's table: {missing}"
    assert not sorted(set(CASES) - changing), "entries in this test's table with no route"


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
def test_a_successful_change_appends_an_entry_by_its_caller(
    route: tuple[str, str], api: Api, world: dict[str, Any], settings: ServerSettings
) -> None:
    change = CASES[route](api, world)
    before, _ = _log(settings)
    response = change.call()
    assert response.is_success, response.text
    entries, head = _log(settings)
    new = entries[len(before) :]
    assert new, f"{route[0]} {route[1]} succeeded and appended no audit entry"
    assert {e.actor for e in new} == {change.actor}
    assert change.entity_kind in {e.entity_kind for e in new}
    assert verify_chain(entries, head) is None


def test_a_refused_change_appends_nothing(
    api: Api, world: dict[str, Any], settings: ServerSettings
) -> None:
    before, _ = _log(settings)
    path = f"/cubes/{world['model']['id']}/invalidation"
    assert world["stranger"].post(path, None).status_code == 403
    assert _log(settings)[0] == before


def test_an_entry_holds_the_entity_hash_before_and_after(
    api: Api, world: dict[str, Any], settings: ServerSettings
) -> None:
    from medval.core.schemas import CubePublic
    from medval.trust.audit_chain import public_hash

    cube = api.cube(world["vendor"], "model", stage="development")
    added = _log(settings)[0][-1]
    assert (added.action, added.entity_kind, added.entity_id) == (
        "cube.add",
        "cube",
        str(cube["id"]),
    )
    assert added.before_hash is None
    assert added.after_hash == public_hash(CubePublic.model_validate(cube))
    moved = world["vendor"].ok("put", f"/cubes/{cube['id']}/stage", {"stage": "operation"})
    last = _log(settings)[0][-1]
    assert (last.action, last.actor) == ("cube.stage", "vendor")
    assert last.before_hash == added.after_hash
    assert last.after_hash == public_hash(CubePublic.model_validate(moved))
    assert last.at == api.client.app.state.context.clock()  # type: ignore[attr-defined]


def test_an_admin_sees_every_entry_and_others_what_concerns_them(
    api: Api, world: dict[str, Any], settings: ServerSettings
) -> None:
    result = world["hospital"].ok(
        "post", "/results", api.result_body(world["benchmark"], world["dataset"], world["model"])
    )
    everything, _ = _log(settings)
    assert len(world["root"].ok("get", routes.AUDIT)) == len(everything)

    about_result = {"entity_kind": "result", "entity_id": [str(result["id"])]}
    for who in ("hospital", "vendor", "bench", "root"):
        seen = world[who].get(routes.AUDIT, params=about_result).json()
        assert [(e["action"], e["actor"]) for e in seen] == [("result.add", "hospital")], who
    assert world["stranger"].get(routes.AUDIT, params=about_result).json() == []

    stranger_sees = world["stranger"].ok("get", routes.AUDIT)
    assert stranger_sees and all(
        e["actor"] == "stranger"
        or (e["entity_kind"], e["entity_id"]) == ("user", str(world["stranger"].id))
        for e in stranger_sees
    )
    vendor_sees = world["vendor"].ok("get", routes.AUDIT)
    datasets = {e["entity_id"] for e in vendor_sees if e["entity_kind"] == "dataset"}
    assert datasets == set()  # the hospital's dataset is not the vendor's to see


def test_the_audit_log_needs_a_login(client: TestClient) -> None:
    response = client.get(PREFIX + routes.AUDIT)
    assert response.status_code == 401


def test_the_client_fetches_the_entries_about_given_results(
    api: Api, world: dict[str, Any]
) -> None:
    from medval.client.http import MedvalClient

    def through_the_app(request: httpx.Request) -> httpx.Response:
        # Starlette's test client answers with httpx2's Response when httpx2 is installed
        # (huggingface_hub brings it): the client's transport wants httpx's own.
        answer = api.client.request(
            request.method, str(request.url), headers=request.headers, content=request.content
        )
        return httpx.Response(
            answer.status_code, headers=list(answer.headers.multi_items()), content=answer.content
        )

    token = world["hospital"].headers["Authorization"].removeprefix("Bearer ")
    client = MedvalClient(
        "http://testserver", token, transport=httpx.MockTransport(through_the_app)
    )
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    result = client.upload_result(ResultCreate.model_validate(api.signed("hospital", body)))
    entries = client.audit_entries("result", [result.id])
    assert [(e.action, e.actor, e.entity_id) for e in entries] == [
        ("result.add", "hospital", str(result.id))
    ]
    # A slice of the log, not the whole chain: each entry's own hash still checks out.
    assert recomputed_hash(entries[0]) == entries[0].entry_hash
    assert client.audit_entries("result", []) == []
