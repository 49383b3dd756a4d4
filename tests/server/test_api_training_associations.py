"""Training associations through the API: a dataset joins an experiment with its node key;
the training owner decides; either side revokes; auto-approval and data policies apply as
for benchmarks; the aggregator's owner sees which node keys to admit and to remove."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api, Clock, User
from .training_factories import experiment, join, node_key, prepared_dataset


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


@pytest.fixture
def people(api: Api) -> dict[str, User]:
    root = api.admin("root")
    return {"root": root} | {n: api.user(n) for n in ("trainer", "hospital", "host", "other")}


@pytest.fixture
def approved(api: Api, people: dict[str, User]) -> Any:
    return experiment(api, people["trainer"], people["root"], aggregator_owner=people["host"])


def _ask(user: User, experiment: Any, dataset: Any, key: str = "") -> Any:
    body = {"experiment_id": experiment["id"], "dataset_id": dataset["id"]}
    return user.post("/training-associations", body | {"node_public_key": key or node_key()})


def test_a_data_owner_asks_with_a_node_key_and_the_training_owner_decides(
    api: Api, people: dict[str, User], approved: Any
) -> None:
    hospital, trainer = people["hospital"], people["trainer"]
    dataset = prepared_dataset(hospital, approved)
    key = node_key()
    asked = join(hospital, approved, dataset, key=key + "  ")
    assert (asked["status"], asked["dataset"], asked["dataset_owner"]) == (
        "pending",
        dataset["name"],
        "hospital",
    )
    assert asked["node_public_key"] == key  # normalized by the server
    path = f"/training-associations/{asked['id']}/decision"
    by_hospital = hospital.put(path, {"status": "approved"})
    assert _error(by_hospital)[:2] == (403, "permission_denied")
    assert people["other"].put(path, {"status": "approved"}).status_code == 404
    decided = trainer.ok("put", path, {"status": "approved"})
    assert (decided["status"], decided["decided_by"]) == ("approved", "trainer")
    assert [(e["status"], e["by"]) for e in decided["history"]] == [
        ("pending", "hospital"),
        ("approved", "trainer"),
    ]
    twice = _ask(hospital, approved, dataset)
    assert _error(twice) == (
        409,
        "conflict",
        f"dataset {dataset['name']} is already approved on training experiment "
        f"{approved['name']} (association {asked['id']})",
    )
    revoke = trainer.put(path, {"status": "revoked"})
    assert _error(revoke)[:2] == (422, "invalid_input")


def test_who_may_ask_and_for_what(api: Api, people: dict[str, User], approved: Any) -> None:
    hospital, trainer, root = people["hospital"], people["trainer"], people["root"]
    dataset = prepared_dataset(hospital, approved)
    assert _error(_ask(people["other"], approved, dataset))[:2] == (404, "not_found")
    by_admin = _ask(root, approved, dataset)
    assert _error(by_admin) == (
        403,
        "permission_denied",
        f"only the owner of dataset {dataset['name']} may ask for it to join a training experiment",
    )
    bad_key = _ask(hospital, approved, dataset, key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA")
    assert _error(bad_key)[:2] == (422, "invalid_input")
    not_ecdsa = _ask(hospital, approved, dataset, key="ecdsa-sha2-nistp256 AAAA")
    assert _error(not_ecdsa)[:2] == (422, "invalid_input")
    foreign = api.dataset(hospital, api.benchmark(trainer))  # another preparation cube
    response = _ask(hospital, approved, foreign)
    assert _error(response) == (
        422,
        "invalid_input",
        f"dataset {foreign['name']} was prepared with cube {foreign['data_preparator_id']}, "
        f"but training experiment {approved['name']} prepares data with cube "
        f"{approved['data_preparator_id']}",
    )
    pending = experiment(api, trainer)
    response = _ask(hospital, pending, prepared_dataset(hospital, pending))
    assert response.status_code == 404  # a pending experiment is its parties' only
    own = _ask(trainer, pending, prepared_dataset(trainer, pending))
    assert _error(own) == (
        409,
        "invalid_transition",
        f"training experiment {pending['name']} is pending; only an approved experiment "
        "takes sites",
    )


def test_one_node_key_is_one_site(api: Api, people: dict[str, User], approved: Any) -> None:
    hospital = people["hospital"]
    key = node_key()
    first = prepared_dataset(hospital, approved)
    join(hospital, approved, first, key=key)
    second = prepared_dataset(hospital, approved)
    response = _ask(hospital, approved, second, key=key)
    assert _error(response) == (
        409,
        "conflict",
        f"this node key is already dataset {first['name']}'s on training experiment "
        f"{approved['name']}; make a key for each dataset",
    )


def test_the_initiator_never_approves_their_own_request(api: Api, people: dict[str, User]) -> None:
    trainer, root = people["trainer"], people["root"]
    own = experiment(api, trainer, root)
    asked = join(trainer, own, prepared_dataset(trainer, own))
    response = trainer.put(f"/training-associations/{asked['id']}/decision", {"status": "approved"})
    assert _error(response) == (
        403,
        "permission_denied",
        f"you requested the association of dataset {asked['dataset']}; someone else must "
        "approve it",
    )
    decided = root.ok(
        "put", f"/training-associations/{asked['id']}/decision", {"status": "approved"}
    )
    assert decided["decided_by"] == "root"


def test_either_side_revokes_and_a_new_request_reopens_with_a_new_key(
    api: Api, people: dict[str, User], approved: Any
) -> None:
    hospital, trainer, host = people["hospital"], people["trainer"], people["host"]
    dataset = prepared_dataset(hospital, approved)
    asked = join(hospital, approved, dataset, decide_by=trainer)
    revoked = hospital.ok("post", f"/training-associations/{asked['id']}/revocation", {})
    assert revoked["status"] == "revoked"
    nodes = host.ok("get", f"/trainings/{approved['id']}/nodes")
    assert [(n["status"], n["admitted"], n["refusal"]) for n in nodes] == [
        ("revoked", False, "the association was revoked")
    ]
    again = hospital.post(f"/training-associations/{asked['id']}/revocation", {})
    assert _error(again) == (
        409,
        "invalid_transition",
        f"the association of dataset {dataset['name']} is revoked; it cannot become revoked",
    )
    new_key = node_key()
    reopened = join(hospital, approved, dataset, key=new_key)
    assert (reopened["id"], reopened["status"], reopened["node_public_key"]) == (
        asked["id"],
        "pending",
        new_key,
    )
    assert reopened["decided_by"] is None
    trainer.ok("put", f"/training-associations/{asked['id']}/decision", {"status": "approved"})
    by_trainer = trainer.ok("post", f"/training-associations/{asked['id']}/revocation", {})
    assert [e["status"] for e in by_trainer["history"]] == [
        "pending",
        "approved",
        "revoked",
        "pending",
        "approved",
        "revoked",
    ]


def test_the_nodes_to_admit_are_the_aggregator_owners_and_training_owners(
    api: Api, people: dict[str, User], approved: Any, clock: Clock
) -> None:
    hospital, trainer, host = people["hospital"], people["trainer"], people["host"]
    admitted = join(hospital, approved, prepared_dataset(hospital, approved), decide_by=trainer)
    join(hospital, approved, prepared_dataset(hospital, approved))  # pending: not listed
    path = f"/trainings/{approved['id']}/nodes"
    for who in (host, trainer, people["root"]):
        nodes = who.ok("get", path)
        assert [(n["association_id"], n["admitted"]) for n in nodes] == [(admitted["id"], True)], (
            who.name
        )
        assert nodes[0]["node_public_key"] == admitted["node_public_key"]
    response = hospital.get(path)
    assert _error(response) == (
        403,
        "permission_denied",
        f"only the training owner of {approved['name']} and its aggregator's owner (or an "
        "admin) may see its nodes",
    )
    # The data owner's policy expires (today, on the server's clock): the node is no
    # longer admitted, and says why.
    policy = {"expires_on": clock.now.date().isoformat()}
    hospital.ok("put", f"/training-associations/{admitted['id']}/policy", policy)
    (node,) = host.ok("get", path)
    assert (node["status"], node["admitted"], node["refusal"]) == (
        "approved",
        False,
        "policy: the association expired on 2024-05-01",
    )


def test_a_data_policy_is_the_sites_and_refuses_a_training_owner_not_on_it(
    api: Api, people: dict[str, User], approved: Any
) -> None:
    hospital, trainer, root = people["hospital"], people["trainer"], people["root"]
    asked = join(hospital, approved, prepared_dataset(hospital, approved))
    path = f"/training-associations/{asked['id']}/policy"
    for who in (trainer, root):
        response = who.put(path, {"model_owners": ["trainer"]})
        assert _error(response) == (
            403,
            "permission_denied",
            f"only the owner of dataset {asked['dataset']} may set its policy",
        ), who.name
    set_ = hospital.ok("put", path, {"model_owners": ["someone-else"]})
    assert set_["policy"]["model_owners"] == ["someone-else"]
    decision = f"/training-associations/{asked['id']}/decision"
    refused = trainer.put(decision, {"status": "approved"})
    assert _error(refused) == (
        403,
        "policy_refused",
        "policy: model owner 'trainer' is not on this dataset's allowlist",
    )
    hospital.ok("put", path, {"model_owners": ["trainer"]})
    assert trainer.ok("put", decision, {"status": "approved"})["status"] == "approved"


def test_max_runs_counts_the_training_cubes_earlier_experiments_on_the_dataset(
    api: Api, people: dict[str, User], approved: Any
) -> None:
    hospital, trainer, root = people["hospital"], people["trainer"], people["root"]
    dataset = prepared_dataset(hospital, approved)
    join(hospital, approved, dataset, decide_by=trainer)
    # Another experiment with the same cubes: the training cube would train here again.
    body = {k: approved[k] for k in ("data_preparator_id", "training_cube_id", "aggregator_id")}
    body |= {"name": "second-run", "plan": approved["plan"]}
    second = trainer.ok("post", "/trainings", body)
    root.ok("put", f"/trainings/{second['id']}/approval", {"status": "approved"})
    asked = join(hospital, second, dataset)
    hospital.ok("put", f"/training-associations/{asked['id']}/policy", {"max_runs": 1})
    refused = trainer.put(f"/training-associations/{asked['id']}/decision", {"status": "approved"})
    assert _error(refused) == (
        403,
        "policy_refused",
        f"policy: model {approved['training_cube_id']} has run 1 time on dataset "
        f"{dataset['id']}, the limit is 1",
    )


def test_auto_approval_approves_on_the_training_owners_behalf(
    api: Api, people: dict[str, User], approved: Any
) -> None:
    hospital, trainer, other = people["hospital"], people["trainer"], people["other"]
    rule = {"mode": "allowlist", "users": ["hospital"]}
    trainer.ok("put", f"/trainings/{approved['id']}/auto-approval", rule)
    auto = join(hospital, approved, prepared_dataset(hospital, approved))
    assert auto["status"] == "approved" and auto["decided_by"] == "trainer"
    assert [(e["status"], e["automatic"]) for e in auto["history"]] == [
        ("pending", False),
        ("approved", True),
    ]
    not_listed = join(other, approved, prepared_dataset(other, approved))
    assert not_listed["status"] == "pending"


def test_associations_are_seen_by_their_parties(
    api: Api, people: dict[str, User], approved: Any
) -> None:
    hospital, trainer, other, host = (people[n] for n in ("hospital", "trainer", "other", "host"))
    asked = join(hospital, approved, prepared_dataset(hospital, approved))
    theirs = join(other, approved, prepared_dataset(other, approved))
    query = f"/training-associations?experiment_id={approved['id']}"
    assert [a["id"] for a in trainer.ok("get", query)] == [asked["id"], theirs["id"]]
    assert [a["id"] for a in hospital.ok("get", query)] == [asked["id"]]
    assert host.ok("get", query) == []
    assert host.get(f"/training-associations/{asked['id']}").status_code == 404
    shown = trainer.ok("get", f"/training-associations/{asked['id']}")
    assert shown == asked
    pending_only = trainer.ok("get", query + "&status=approved")
    assert pending_only == []
