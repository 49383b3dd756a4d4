"""A phase's quotas, the entry that counts and the committee's priorities (issue 19),
through the API on SQLite and PostgreSQL: each rule, and bad input refused in one line
with nothing stored lost."""

from __future__ import annotations

from typing import Any

import httpx

from medval.server.settings import ServerSettings
from medval.server.store.sql import SqlStore

from .both_stores import postgres_url, settings
from .conftest import Api, Clock, User, make_world

__all__ = ["postgres_url", "settings"]  # fixtures: every test on both stores


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def _quotas(user: User, benchmark: Any, phase: str = "main", **quotas: Any) -> httpx.Response:
    return user.put(f"/benchmarks/{benchmark['id']}/phases/{phase}/quotas", quotas)


def _phase(user: User, benchmark: Any, name: str = "main") -> Any:
    """The phase as the store holds it (read through a quota change that sets nothing)."""
    response = _quotas(user, benchmark, name)
    assert response.status_code == 200, response.text
    return response.json()


def _ask(user: User, benchmark: Any, model: Any) -> httpx.Response:
    body = {"benchmark_id": benchmark["id"], "kind": "model", "entity_id": model["id"]}
    return user.post("/associations", body)


def _models_of(user: User, benchmark: Any) -> list[int]:
    found = user.ok("get", f"/associations?benchmark_id={benchmark['id']}&kind=model")
    return sorted(a["entity_id"] for a in found)


def test_the_committee_sets_quotas_and_a_quota_below_zero_is_refused(api: Api) -> None:
    w = make_world(api)
    bench, benchmark = w["bench"], w["benchmark"]
    set_ = _quotas(bench, benchmark, max_models_per_owner=2, max_executions_per_site_per_day=10)
    assert set_.status_code == 200, set_.text
    assert (
        set_.json()["max_models_per_owner"],
        set_.json()["max_executions_per_site_per_day"],
    ) == (
        2,
        10,
    )
    status, message = _error(_quotas(bench, benchmark, max_models_per_owner=-1))
    assert status == 422 and "max_models_per_owner" in message and "\n" not in message
    assert _error(_quotas(w["vendor"], benchmark, max_models_per_owner=5))[0] == 403
    assert _error(_quotas(bench, benchmark, "final", max_models_per_owner=5)) == (
        404,
        f"benchmark {benchmark['name']} has no phase 'final' (its phases: main)",
    )
    # Nothing stored was lost: the quotas set first stand.
    phase = _phase(bench, benchmark)
    assert (phase["max_models_per_owner"], phase["max_executions_per_site_per_day"]) == (2, 10)


def test_a_models_quota_is_enforced_at_request_and_at_approval(api: Api) -> None:
    w = make_world(api)  # the vendor has one model approved already
    bench, vendor, benchmark = w["bench"], w["vendor"], w["benchmark"]
    assert _quotas(bench, benchmark, max_models_per_owner=2).status_code == 200
    second, third = api.cube(vendor, "model"), api.cube(vendor, "model")
    assert _ask(vendor, benchmark, second).status_code == 201  # pending: two entries
    before = _models_of(bench, benchmark)
    status, message = _error(_ask(vendor, benchmark, third))
    assert status == 409
    assert message == (
        f"phase main of benchmark {benchmark['name']} takes 2 model(s) per owner, and this "
        f"owner has entered 2 ({', '.join(sorted([w['model']['name'], second['name']]))}): "
        "no other model of theirs may enter it"
    )
    assert _models_of(bench, benchmark) == before  # nothing stored
    # The committee lowers the quota: the waiting one is refused at approval.
    assert _quotas(bench, benchmark, max_models_per_owner=1).status_code == 200
    pending = next(
        a
        for a in bench.ok("get", f"/associations?benchmark_id={benchmark['id']}&kind=model")
        if a["entity_id"] == second["id"]
    )
    status, message = _error(
        bench.put(f"/associations/{pending['id']}/decision", {"status": "approved"})
    )
    assert status == 409 and "takes 1 model(s) per owner" in message
    assert bench.ok("get", f"/associations/{pending['id']}")["status"] == "pending"
    # No limit again: it is approved.
    assert _quotas(bench, benchmark, max_models_per_owner=None).status_code == 200
    decided = bench.put(f"/associations/{pending['id']}/decision", {"status": "approved"})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"


def test_a_daily_quota_is_enforced_at_upload_per_site_and_day(api: Api, clock: Clock) -> None:
    w = make_world(api)
    bench, hospital, benchmark = w["bench"], w["hospital"], w["benchmark"]
    assert _quotas(bench, benchmark, max_executions_per_site_per_day=1).status_code == 200
    reference = bench.ok("get", f"/cubes/{benchmark['reference_model_id']}")
    pending = hospital.ok("get", "/executions/pending")
    assert {p["quota_left"] for p in pending} == {1}
    first = api.result_body(benchmark, w["dataset"], w["model"])
    assert hospital.post("/results", first).status_code == 201
    assert {p["quota_left"] for p in hospital.ok("get", "/executions/pending")} == {0}
    second = api.result_body(benchmark, w["dataset"], reference)
    status, message = _error(hospital.post("/results", second))
    assert status == 409
    assert message == (
        f"phase main of benchmark {benchmark['name']} takes 1 result(s) per site a day, and "
        "hospital uploaded 1 today: upload again after 2024-05-02 00:00 UTC"
    )
    assert len(hospital.ok("get", f"/results?benchmark_id={benchmark['id']}")) == 1
    clock.advance(days=1)
    hospital = api._as("hospital")  # its token expired meanwhile
    assert {p["quota_left"] for p in hospital.ok("get", "/executions/pending")} == {1}
    assert hospital.post("/results", second).status_code == 201


def _board(user: User, benchmark: Any) -> list[tuple[str, int]]:
    board = user.ok("get", f"/benchmarks/{benchmark['id']}/leaderboard")
    return [(e["model"], e["n_entries"]) for e in board["entries"]]


def _two_entries(api: Api, clock: Clock) -> tuple[dict[str, Any], Any, Any]:
    """The world, with the vendor's second model approved an hour after its first."""
    w = make_world(api)
    clock.advance(hours=1)  # approved after the first
    second = api.cube(w["vendor"], "model")
    api.associate(w["vendor"], w["benchmark"], "model", second, w["bench"])
    return w, w["model"], second


def _upload(api: Api, w: dict[str, Any], *scores: tuple[Any, float]) -> None:
    for model, auroc in scores:
        body = api.result_body(w["benchmark"], w["dataset"], model, auroc)
        w["hospital"].ok("post", "/results", body)


def test_the_board_shows_each_owners_counting_entry_and_how_many_it_made(
    api: Api, clock: Clock
) -> None:
    w, first, second = _two_entries(api, clock)
    bench, vendor, benchmark = w["bench"], w["vendor"], w["benchmark"]
    reference = bench.ok("get", f"/cubes/{benchmark['reference_model_id']}")
    path = f"/benchmarks/{benchmark['id']}/counting-entry"
    assert _error(vendor.put(path, {"model_id": second["id"]})) == (
        409,
        f"phase main of benchmark {benchmark['name']} has no quota of models per owner: each "
        "of your models counts on its board",
    )
    assert _quotas(bench, benchmark, max_models_per_owner=3).status_code == 200
    # Chosen before any of the owner's entries has a result.
    chosen = vendor.put(path, {"model_id": second["id"]})
    assert chosen.status_code == 200, chosen.text
    assert (chosen.json()["model"], chosen.json()["phase"]) == (second["name"], "main")
    # Bad choices: one line each, and the choice made stands.
    unapproved = api.cube(vendor, "model")
    assert _error(vendor.put(path, {"model_id": unapproved["id"]})) == (
        422,
        f"model {unapproved['name']} ({unapproved['id']}) is not an entry of yours in phase "
        f"main of benchmark {benchmark['name']}: it needs its association approved first",
    )
    assert _error(vendor.put(path, {"model_id": 99999}))[0] == 404
    assert _error(vendor.put(path, {"model_id": reference["id"]}))[0] in (403, 404)
    assert _error(vendor.put(path, {"model_id": second["id"], "phase": "final"}))[0] == 404
    _upload(api, w, (first, 0.9), (second, 0.7))
    assert _board(vendor, benchmark) == [(second["name"], 2)]
    # Once an entry has a result, the choice stands: no picking the best variant after.
    assert _error(vendor.put(path, {"model_id": first["id"]})) == (
        409,
        f"the entry that counts in phase main of benchmark {benchmark['name']} is chosen "
        f"before any of your entries has a result: model {first['name']} already has 1; "
        f"model {second['name']} counts",
    )
    assert _board(bench, benchmark) == [(second["name"], 2)]
    # The subgroup breakdown pools the same entries as the board.
    subgroups = bench.ok("get", f"/benchmarks/{benchmark['id']}/subgroups")
    assert [m["model"] for m in subgroups["models"]] == [second["name"]]
    # The benchmark's page says so too.
    page = api.client.get(f"/benchmarks/{benchmark['id']}", headers=bench.headers)
    assert page.status_code == 200
    assert '<span class="meta">(1 of 2 entries)</span>' in page.text


def test_unchosen_the_entry_approved_first_counts_and_stands_once_results_are_in(
    api: Api, clock: Clock
) -> None:
    w, first, second = _two_entries(api, clock)
    bench, vendor, benchmark = w["bench"], w["vendor"], w["benchmark"]
    _upload(api, w, (second, 0.9), (first, 0.7))
    # No models quota: every model on the board, as before.
    assert sorted(_board(bench, benchmark)) == sorted([(first["name"], 1), (second["name"], 1)])
    subgroups = bench.ok("get", f"/benchmarks/{benchmark['id']}/subgroups")
    assert sorted(m["model"] for m in subgroups["models"]) == sorted(
        [first["name"], second["name"]]
    )
    assert _quotas(bench, benchmark, max_models_per_owner=3).status_code == 200
    assert _board(bench, benchmark) == [(first["name"], 2)]
    path = f"/benchmarks/{benchmark['id']}/counting-entry"
    assert _error(vendor.put(path, {"model_id": second["id"]})) == (
        409,
        f"the entry that counts in phase main of benchmark {benchmark['name']} is chosen "
        f"before any of your entries has a result: model {second['name']} already has 1; "
        f"model {first['name']} counts",
    )
    assert _board(bench, benchmark) == [(first["name"], 2)]


def test_the_committee_orders_the_phases_models_and_pending_work_carries_it(api: Api) -> None:
    w = make_world(api)
    bench, vendor, hospital, benchmark = w["bench"], w["vendor"], w["hospital"], w["benchmark"]
    second = api.cube(vendor, "model")
    api.associate(vendor, benchmark, "model", second, bench)
    path = f"/benchmarks/{benchmark['id']}/priorities"
    order = [second["id"], benchmark["reference_model_id"]]
    phase = bench.put(path, {"model_ids": order})
    assert phase.status_code == 200, phase.text
    assert phase.json()["model_priorities"] == order
    pending = {p["model_id"]: p["priority"] for p in hospital.ok("get", "/executions/pending")}
    assert pending == {second["id"]: 1, benchmark["reference_model_id"]: 2, w["model"]["id"]: None}
    # Bad input: one line, and the order set stands.
    waiting = api.cube(vendor, "model")
    api.associate(vendor, benchmark, "model", waiting, None)
    assert _error(bench.put(path, {"model_ids": [waiting["id"]]})) == (
        422,
        f"model {waiting['name']} ({waiting['id']}) is not in phase main of benchmark "
        f"{benchmark['name']}: only its approved models are ordered",
    )
    assert _error(bench.put(path, {"model_ids": [99999]})) == (404, "model 99999 does not exist")
    status, message = _error(bench.put(path, {"model_ids": [second["id"], second["id"]]}))
    assert status == 422 and f"model(s) {second['id']} named more than once" in message
    assert _error(vendor.put(path, {"model_ids": [second["id"]]}))[0] == 403
    assert _phase(bench, benchmark)["model_priorities"] == order


def test_a_closed_phase_is_frozen_for_quotas_priorities_and_choices(
    api: Api, settings: ServerSettings, clock: Clock
) -> None:
    w = make_world(api)
    bench, vendor, benchmark = w["bench"], w["vendor"], w["benchmark"]
    assert _quotas(bench, benchmark, max_models_per_owner=2).status_code == 200
    store = SqlStore.from_url(settings.database_url)
    try:
        with store.transaction() as tx:
            (main,) = tx.list_phases(benchmark["id"])
            tx.close_phase(main.id, clock.now, "{}", "0" * 64)
    finally:
        store.close()
    frozen = f"phase main of benchmark {benchmark['name']} is closed: it is frozen"
    assert _error(_quotas(bench, benchmark, max_models_per_owner=5)) == (409, frozen)
    priorities = f"/benchmarks/{benchmark['id']}/priorities"
    body = {"model_ids": [w["model"]["id"]], "phase": "main"}
    assert _error(bench.put(priorities, body)) == (409, frozen)
    # No phase named: the one open now, and none is.
    assert _error(bench.put(priorities, {"model_ids": []})) == (
        409,
        f"benchmark {benchmark['name']} has no phase open now: name one (--phase)",
    )
    choice = {"model_id": w["model"]["id"], "phase": "main"}
    assert _error(vendor.put(f"/benchmarks/{benchmark['id']}/counting-entry", choice)) == (
        409,
        frozen,
    )
    assert _phase_of(settings, benchmark)["max_models_per_owner"] == 2


def _phase_of(settings: ServerSettings, benchmark: Any) -> Any:
    store = SqlStore.from_url(settings.database_url)
    try:
        with store.transaction() as tx:
            (phase,) = tx.list_phases(benchmark["id"])
            return phase.model_dump()
    finally:
        store.close()
