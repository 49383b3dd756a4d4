"""Data policies through the API: the data owner's terms on an association, shown to the
benchmark owner, enforced on upload with one line naming the clause; the membership
agreement a benchmark requires; and the three modes of auto-approval."""

from __future__ import annotations

from typing import Any

from medval.core.membership_schemas import agreement_sha256

from .conftest import Api, Clock, User

AGREEMENT = "# Membership agreement\n\nUse the metrics for research only.\n"


def _error(response: Any) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def _dataset_association(world: dict[str, Any]) -> Any:
    found = world["bench"].ok(
        "get", f"/associations?kind=dataset&benchmark_id={world['benchmark']['id']}"
    )
    return found[0]


def _set_policy(user: User, association: Any, **policy: Any) -> Any:
    return user.put(f"/associations/{association['id']}/policy", policy)


def test_the_data_owner_sets_the_policy_and_both_sides_see_it(world: dict[str, Any]) -> None:
    association = _dataset_association(world)
    assert association["policy"] == {"model_owners": None, "max_runs": None, "expires_on": None}
    response = _set_policy(
        world["hospital"], association, model_owners=["vendor"], max_runs=2, expires_on="2027-01-01"
    )
    assert response.status_code == 200, response.text
    expected = {"model_owners": ["vendor"], "max_runs": 2, "expires_on": "2027-01-01"}
    assert response.json()["policy"] == expected
    for side in (world["hospital"], world["bench"]):
        assert side.ok("get", f"/associations/{association['id']}")["policy"] == expected
    # Set whole: what is left out goes back to its default.
    changed = _set_policy(world["hospital"], association, max_runs=3).json()["policy"]
    assert changed == {"model_owners": None, "max_runs": 3, "expires_on": None}


def test_only_the_data_owner_sets_it_and_only_on_a_dataset(world: dict[str, Any]) -> None:
    association = _dataset_association(world)
    status, code, message = _error(_set_policy(world["bench"], association, max_runs=1))
    assert (status, code) == (403, "permission_denied")
    assert message == f"only the owner of dataset {world['dataset']['name']} may set its policy"
    assert _error(_set_policy(world["root"], association, max_runs=1))[:2] == (
        403,
        "permission_denied",
    )
    assert _error(_set_policy(world["vendor"], association, max_runs=1))[:2] == (404, "not_found")
    assert _error(_set_policy(world["stranger"], association, max_runs=1))[:2] == (
        404,
        "not_found",
    )
    model_association = world["vendor"].ok("get", "/associations?kind=model")[0]
    status, code, message = _error(_set_policy(world["vendor"], model_association, max_runs=1))
    assert (status, code) == (422, "invalid_input")
    assert "data policies are set on a dataset's association" in message
    assert _error(_set_policy(world["hospital"], association, max_runs=0))[:2] == (
        422,
        "invalid_input",
    )


def test_each_party_sees_the_clauses_that_concern_it(api: Api, world: dict[str, Any]) -> None:
    association = _dataset_association(world)
    whole = {"model_owners": ["acme", "vendor"], "max_runs": 2, "expires_on": "2027-01-01"}
    _set_policy(world["hospital"], association, **whole)
    path = f"/benchmarks/{world['benchmark']['id']}/data-policies"
    for side in (world["bench"], world["hospital"], world["root"]):
        (terms,) = side.ok("get", path)
        assert terms == {
            "association_id": association["id"],
            "benchmark_id": world["benchmark"]["id"],
            "dataset_id": world["dataset"]["id"],
            "dataset": world["dataset"]["name"],
            "status": "approved",
            "policy": whole,
        }
    # The vendor sees itself on the allowlist, never the other names on it.
    (terms,) = world["vendor"].ok("get", path)
    assert terms["policy"] == whole | {"model_owners": ["vendor"]}
    # An owner with no model on the benchmark sees nothing.
    assert world["stranger"].ok("get", path) == []
    # A model owner off the list sees an allowlist that does not hold them.
    other = api.user("other-vendor")
    api.associate(other, world["benchmark"], "model", api.cube(other, "model"), None)
    (terms,) = other.ok("get", path)
    assert terms["policy"]["model_owners"] == []


def _upload(api: Api, world: dict[str, Any], **changes: Any) -> Any:
    body = api.result_body(world["benchmark"], world["dataset"], world["model"]) | changes
    return world["hospital"].post("/results", body)


FAILED = {"status": "failed", "document": None, "failure": "task 'infer' failed"}


def test_a_model_owner_off_the_allowlist_is_refused(api: Api, world: dict[str, Any]) -> None:
    _set_policy(world["hospital"], _dataset_association(world), model_owners=["acme"])
    assert _error(_upload(api, world)) == (
        403,
        "policy_refused",
        "policy: model owner 'vendor' is not on this dataset's allowlist",
    )
    _set_policy(world["hospital"], _dataset_association(world), model_owners=["acme", "vendor"])
    assert _upload(api, world).status_code == 201


def test_a_model_that_ran_the_limit_is_refused(api: Api, world: dict[str, Any]) -> None:
    _set_policy(world["hospital"], _dataset_association(world), max_runs=2)
    model, dataset = world["model"]["id"], world["dataset"]["id"]
    first = _upload(api, world, **FAILED)
    assert (first.status_code, first.json()["runs"]) == (201, 1)
    pending = world["hospital"].ok("get", "/executions/pending")
    row = next(p for p in pending if p["model_id"] == model)
    assert (row["runs"], row["policy"]["max_runs"]) == (1, 2)
    second = _upload(api, world, **FAILED)
    assert (second.status_code, second.json()["runs"]) == (201, 2)
    assert _error(_upload(api, world)) == (
        403,
        "policy_refused",
        f"policy: model {model} has run 2 times on dataset {dataset}, the limit is 2",
    )


def test_after_the_expiry_no_result_is_accepted(
    api: Api, world: dict[str, Any], clock: Clock
) -> None:
    _set_policy(world["hospital"], _dataset_association(world), expires_on="2024-05-02")
    assert _upload(api, world, **FAILED).status_code == 201  # 2024-05-01 09:00: it holds
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    clock.advance(hours=11)  # 2024-05-01 20:00: it still holds (the tokens too)
    assert _upload(api, world, **FAILED).status_code == 201
    clock.advance(hours=4)  # 2024-05-02 00:00 UTC
    api._as("hospital")  # logs in again: the first token expired at 21:00
    assert _error(world["hospital"].post("/results", body)) == (
        403,
        "policy_refused",
        "policy: the association expired on 2024-05-02",
    )


# --- the membership agreement -----------------------------------------------------------


def _benchmark_body(api: Api, owner: User, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"agreed-{owner.name}",
        "data_preparator_id": api.cube(owner, "data_preparator")["id"],
        "reference_model_id": api.cube(owner, "model")["id"],
        "evaluator_id": api.cube(owner, "evaluator")["id"],
        "demo_data_hash": api.blob(owner),
    } | extra


def _agreement(text: str = AGREEMENT) -> dict[str, str]:
    return {"text": text, "sha256": agreement_sha256(text)}


def _approved(owner: User, body: dict[str, Any]) -> Any:
    benchmark = owner.ok("post", "/benchmarks", body)
    return User("root", 1, owner.http).ok(
        "put", f"/benchmarks/{benchmark['id']}/approval", {"status": "approved"}
    )


def _ask(user: User, benchmark: Any, kind: str, entity: Any) -> Any:
    body = {"benchmark_id": benchmark["id"], "kind": kind, "entity_id": entity["id"]}
    return user.post("/associations", body)


def test_a_data_owner_accepts_the_agreement_before_any_association(api: Api) -> None:
    bench, hospital, other = api.user("bench"), api.user("hospital"), api.user("other")
    benchmark = _approved(bench, _benchmark_body(api, bench, agreement=_agreement()))
    assert benchmark["agreement"] == _agreement()
    assert hospital.ok("get", f"/benchmarks/{benchmark['id']}")["agreement"] == _agreement()
    dataset = api.dataset(hospital, benchmark)
    sha = agreement_sha256(AGREEMENT)
    assert _error(_ask(hospital, benchmark, "dataset", dataset)) == (
        409,
        "invalid_transition",
        f"benchmark {benchmark['name']} requires its membership agreement (sha256 {sha}); "
        f"accept it first: medval benchmark agreement accept {benchmark['id']}",
    )
    acceptances = f"/benchmarks/{benchmark['id']}/agreement/acceptances"
    status, code, message = _error(hospital.post(acceptances, {"sha256": "0" * 64}))
    assert (status, code) == (409, "conflict")
    assert message.endswith("read it again")
    accepted = hospital.post(acceptances, {"sha256": sha})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["username"] == "hospital"
    assert hospital.post(acceptances, {"sha256": sha}).json() == accepted.json()  # once
    assert _ask(hospital, benchmark, "dataset", dataset).status_code == 201
    # The owner sees every acceptance; anyone else only their own.
    assert [a["username"] for a in bench.ok("get", acceptances)] == ["hospital"]
    assert other.ok("get", acceptances) == []
    # A new agreement (another hash) must be accepted anew before another dataset joins.
    changed = bench.put(f"/benchmarks/{benchmark['id']}/agreement", _agreement("New terms.\n"))
    assert changed.status_code == 200, changed.text
    second = api.dataset(hospital, benchmark)
    assert _error(_ask(hospital, benchmark, "dataset", second))[:2] == (409, "invalid_transition")


def test_an_agreement_must_match_its_hash_and_only_the_owner_sets_it(api: Api) -> None:
    bench, hospital = api.user("bench"), api.user("hospital")
    wrong = {"text": AGREEMENT, "sha256": "0" * 64}
    status, code, message = _error(
        bench.post("/benchmarks", _benchmark_body(api, bench, agreement=wrong))
    )
    assert (status, code) == (422, "invalid_input")
    assert "sha256 does not match the agreement's text" in message
    benchmark = _approved(bench, _benchmark_body(api, bench))
    assert benchmark["agreement"] is None
    path = f"/benchmarks/{benchmark['id']}/agreement"
    assert _error(hospital.put(path, _agreement()))[:2] == (403, "permission_denied")
    status, code, message = _error(
        hospital.post(f"{path}/acceptances", {"sha256": agreement_sha256(AGREEMENT)})
    )
    assert (status, code) == (409, "invalid_transition")
    assert message == f"benchmark {benchmark['name']} requires no agreement"


# --- auto-approval ----------------------------------------------------------------------


def _with_rule(api: Api, rule: dict[str, Any] | None) -> tuple[Any, User, User, User]:
    bench, hospital, vendor = api.user("bench"), api.user("hospital"), api.user("vendor")
    extra = {} if rule is None else {"auto_approval": rule}
    return _approved(bench, _benchmark_body(api, bench, **extra)), bench, hospital, vendor


def test_never_is_the_default_the_owner_decides(api: Api) -> None:
    benchmark, bench, hospital, _ = _with_rule(api, None)
    assert benchmark["auto_approval"] == {"mode": "never", "users": []}
    asked = _ask(hospital, benchmark, "dataset", api.dataset(hospital, benchmark)).json()
    assert asked["status"] == "pending"
    decided = bench.ok("put", f"/associations/{asked['id']}/decision", {"status": "approved"})
    assert [(e["status"], e["by"], e["automatic"]) for e in decided["history"]] == [
        ("pending", "hospital", False),
        ("approved", "bench", False),
    ]


def test_always_approves_at_request_on_the_owners_behalf(api: Api, clock: Clock) -> None:
    benchmark, bench, hospital, vendor = _with_rule(api, {"mode": "always"})
    asked = _ask(hospital, benchmark, "dataset", api.dataset(hospital, benchmark))
    assert asked.status_code == 201
    association = asked.json()
    assert (association["status"], association["decided_by"]) == ("approved", "bench")
    at = clock.now.isoformat().replace("+00:00", "Z")
    assert association["history"] == [
        {"status": "pending", "by": "hospital", "at": at, "automatic": False},
        {"status": "approved", "by": "bench", "at": at, "automatic": True},
    ]
    # The benchmark owner sees it so in the history too.
    seen = bench.ok("get", f"/associations/{association['id']}")
    assert seen["history"][-1]["automatic"] is True
    model = _ask(vendor, benchmark, "model", api.cube(vendor, "model")).json()
    assert model["status"] == "approved"
    # Never the owner's own request: someone else must approve it (four eyes).
    own = _ask(bench, benchmark, "model", api.cube(bench, "model")).json()
    assert own["status"] == "pending"


def test_an_allowlist_approves_its_users_only(api: Api) -> None:
    benchmark, bench, hospital, vendor = _with_rule(api, {"mode": "allowlist", "users": ["vendor"]})
    model = _ask(vendor, benchmark, "model", api.cube(vendor, "model")).json()
    assert (model["status"], model["history"][-1]["automatic"]) == ("approved", True)
    dataset = _ask(hospital, benchmark, "dataset", api.dataset(hospital, benchmark)).json()
    assert dataset["status"] == "pending"
    # The owner changes the rule later; it applies to the next request.
    path = f"/benchmarks/{benchmark['id']}/auto-approval"
    changed = bench.put(path, {"mode": "allowlist", "users": ["vendor", "hospital"]})
    assert changed.json()["auto_approval"]["users"] == ["vendor", "hospital"]
    again = _ask(hospital, benchmark, "dataset", api.dataset(hospital, benchmark)).json()
    assert again["status"] == "approved"


def test_an_auto_approval_rule_is_set_by_the_owner_and_well_formed(api: Api) -> None:
    benchmark, bench, hospital, _ = _with_rule(api, None)
    path = f"/benchmarks/{benchmark['id']}/auto-approval"
    assert _error(hospital.put(path, {"mode": "always"}))[:2] == (403, "permission_denied")
    for bad, words in (
        ({"mode": "allowlist"}, "an allowlist names at least one user"),
        ({"mode": "always", "users": ["x"]}, "only an allowlist names users, not always"),
        ({"mode": "sometimes"}, "mode"),
    ):
        status, code, message = _error(bench.put(path, bad))
        assert (status, code) == (422, "invalid_input"), bad
        assert words in message, message
