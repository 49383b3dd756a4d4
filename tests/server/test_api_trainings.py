"""Training experiments and aggregators through the API: registration, visibility, the
admin's approval, the experiment's CA and its aggregator's certificate, the final model."""

from __future__ import annotations

from typing import Any

from cryptography import x509

from medval.core.errors import InvalidInput
from medval.training.ca import check_server_certificate, new_server_key_and_csr

from .conftest import Api, User
from .training_factories import PLAN, aggregator, experiment


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_anyone_registers_an_aggregator_by_a_unique_name(api: Api) -> None:
    trainer, other = api.user("trainer"), api.user("other")
    registered = aggregator(trainer, address="Agg.Example.ORG.", port=9092)
    assert (registered["owner"], registered["address"], registered["port"]) == (
        "trainer",
        "agg.example.org",
        9092,
    )
    ip = aggregator(other, address="10.0.0.7")
    assert ip["address"] == "10.0.0.7"
    twice = other.post("/aggregators", {"name": registered["name"], "address": "a.b", "port": 1})
    assert _error(twice) == (409, "conflict", f"an aggregator named {registered['name']!r} "
                             "already exists")  # fmt: skip
    bad = other.post("/aggregators", {"name": "x", "address": "not an address!", "port": 80})
    assert _error(bad)[:2] == (422, "invalid_input")
    assert "neither a host name nor an IP address" in _error(bad)[2]
    port = other.post("/aggregators", {"name": "y", "address": "a.b", "port": 70000})
    assert _error(port)[:2] == (422, "invalid_input")
    assert [a["name"] for a in other.ok("get", f"/aggregators?name={ip['name']}")] == [ip["name"]]
    assert other.ok("get", f"/aggregators/{registered['id']}")["owner"] == "trainer"
    assert _error(other.get("/aggregators/9999")) == (
        404,
        "not_found",
        "aggregator 9999 does not exist",
    )


def test_an_experiment_is_registered_pending_with_a_ca_of_its_own(api: Api) -> None:
    trainer = api.user("trainer")
    registered = experiment(api, trainer, description="breast cancer, four sites")
    assert registered["approval"] == "pending"
    assert registered["plan"] == {
        "rounds": 3,
        "strategy": "FedAvg",
        "settings": {},
        "min_sites": 2,
        "fraction_train": 1.0,
        "local_epochs": 1,
        "seed": 0,
        "differential_privacy": None,
        "secure_aggregation": None,
    }
    assert registered["aggregator_certificate_pem"] is None
    assert registered["final_model_id"] is None
    ca = x509.load_pem_x509_certificate(registered["ca_certificate_pem"].encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "ca_key_pem" not in registered
    served = trainer.ok("get", f"/trainings/{registered['id']}/ca")
    assert served == {
        "experiment_id": registered["id"],
        "experiment": registered["name"],
        "certificate_pem": registered["ca_certificate_pem"],
    }
    other = experiment(api, trainer)
    assert other["ca_certificate_pem"] != registered["ca_certificate_pem"]


def test_the_cubes_must_be_of_their_kinds_in_operation(api: Api) -> None:
    trainer = api.user("trainer")
    prep, training = api.cube(trainer, "data_preparator"), api.cube(trainer, "training")
    body = {
        "name": "exp",
        "data_preparator_id": prep["id"],
        "training_cube_id": training["id"],
        "plan": PLAN,
        "aggregator_id": aggregator(trainer)["id"],
    }
    swapped = trainer.post("/trainings", body | {"training_cube_id": prep["id"]})
    assert _error(swapped) == (
        422,
        "invalid_input",
        f"training_cube_id must be a cube of kind training; cube {prep['id']} "
        f"({prep['name']}) is a data_preparator",
    )
    draft = api.cube(trainer, "training", stage="development")
    response = trainer.post("/trainings", body | {"training_cube_id": draft["id"]})
    assert _error(response) == (
        409,
        "invalid_transition",
        f"training experiment exp cannot use cubes in development: {draft['name']}; move them "
        "to operation first",
    )
    no_aggregator = trainer.post("/trainings", body | {"aggregator_id": 9999})
    assert _error(no_aggregator) == (404, "not_found", "aggregator 9999 does not exist")
    unknown = trainer.post("/trainings", body | {"plan": {"rounds": 1, "min_sites": 1,
                                                           "strategy": "FedMagic"}})  # fmt: skip
    assert _error(unknown)[:2] == (422, "invalid_input")
    assert trainer.post("/trainings", body).status_code == 201
    again = trainer.post("/trainings", body)
    assert _error(again) == (409, "conflict", "a training experiment named 'exp' already exists")


def test_pending_experiments_are_seen_by_their_parties_only(api: Api) -> None:
    root = api.admin("root")
    trainer, host, stranger = api.user("trainer"), api.user("host"), api.user("stranger")
    pending = experiment(api, trainer, aggregator_owner=host)
    approved = experiment(api, trainer, approve_by=root)
    for who, seen in ((trainer, 2), (host, 2), (root, 2), (stranger, 1)):
        listed = {e["id"] for e in who.ok("get", "/trainings")}
        assert len(listed) == seen and approved["id"] in listed, who.name
    assert stranger.get(f"/trainings/{pending['id']}").status_code == 404
    assert stranger.get(f"/trainings/{pending['id']}/ca").status_code == 404
    assert (
        host.ok("get", f"/trainings/{pending['id']}")["aggregator_id"] == pending["aggregator_id"]
    )
    named = stranger.ok("get", f"/trainings?name={approved['name']}")
    assert [e["id"] for e in named] == [approved["id"]]


def test_only_an_admin_decides_and_only_once(api: Api) -> None:
    root, trainer = api.admin("root"), api.user("trainer")
    registered = experiment(api, trainer)
    path = f"/trainings/{registered['id']}/approval"
    by_owner = trainer.put(path, {"status": "approved"})
    assert _error(by_owner) == (403, "permission_denied", "only an admin may do this")
    assert root.ok("put", path, {"status": "rejected"})["approval"] == "rejected"
    again = root.put(path, {"status": "approved"})
    assert _error(again) == (
        409,
        "invalid_transition",
        f"training experiment {registered['name']} is already rejected; it cannot become approved",
    )


def test_an_invalidated_training_cube_stops_the_approval(api: Api) -> None:
    root, trainer = api.admin("root"), api.user("trainer")
    registered = experiment(api, trainer)
    cube = registered["training_cube_id"]
    trainer.ok("post", f"/cubes/{cube}/invalidation", {})
    response = root.put(f"/trainings/{registered['id']}/approval", {"status": "approved"})
    assert response.status_code == 409
    assert "nothing new runs against it" in _error(response)[2]


def _csr(address: str = "agg.example.org") -> str:
    return new_server_key_and_csr(address)[1].decode()


def test_the_aggregator_owner_gets_a_certificate_once_approved(api: Api) -> None:
    root, trainer, host = api.admin("root"), api.user("trainer"), api.user("host")
    registered = experiment(api, trainer, aggregator_owner=host)
    path = f"/trainings/{registered['id']}/aggregator-certificate"
    early = host.post(path, {"csr_pem": _csr()})
    assert _error(early) == (
        409,
        "invalid_transition",
        f"training experiment {registered['name']} is pending; its aggregator is certified "
        "once an admin approves it",
    )
    root.ok("put", f"/trainings/{registered['id']}/approval", {"status": "approved"})
    by_trainer = trainer.post(path, {"csr_pem": _csr()})
    assert _error(by_trainer)[:2] == (403, "permission_denied")
    bad = host.post(path, {"csr_pem": "-----BEGIN CERTIFICATE REQUEST-----\nnope\n"})
    assert _error(bad)[:2] == (422, "invalid_input")
    issued = host.ok("post", path, {"csr_pem": _csr()})
    assert (issued["address"], issued["port"]) == ("agg.example.org", 9092)
    assert issued["ca_certificate_pem"] == registered["ca_certificate_pem"]
    check_server_certificate(
        registered["ca_certificate_pem"].encode(),
        issued["certificate_pem"].encode(),
        "agg.example.org",
    )
    try:
        check_server_certificate(
            registered["ca_certificate_pem"].encode(),
            issued["certificate_pem"].encode(),
            "elsewhere.example.org",
        )
    except InvalidInput as exc:
        assert "does not match" in exc.message
    else:
        raise AssertionError("a certificate for another address was accepted")
    shown = trainer.ok("get", f"/trainings/{registered['id']}")
    assert shown["aggregator_certificate_pem"] == issued["certificate_pem"]


def test_the_final_model_is_a_model_of_the_training_owner_named_once(api: Api) -> None:
    root, trainer, vendor = api.admin("root"), api.user("trainer"), api.user("vendor")
    registered = experiment(api, trainer, approve_by=root)
    path = f"/trainings/{registered['id']}/final-model"
    theirs = api.cube(vendor, "model")
    response = trainer.put(path, {"model_id": theirs["id"]})
    assert _error(response) == (
        403,
        "permission_denied",
        f"only the owner of model {theirs['name']} may name it a final model",
    )
    by_vendor = vendor.put(path, {"model_id": theirs["id"]})
    assert _error(by_vendor)[:2] == (403, "permission_denied")
    evaluator = api.cube(trainer, "evaluator")
    assert _error(trainer.put(path, {"model_id": evaluator["id"]}))[:2] == (422, "invalid_input")
    model = api.cube(trainer, "model")
    named = trainer.ok("put", path, {"model_id": model["id"]})
    assert named["final_model_id"] == model["id"]
    again = trainer.put(path, {"model_id": api.cube(trainer, "model")["id"]})
    assert _error(again) == (
        409,
        "invalid_transition",
        f"training experiment {registered['name']} already has its final model "
        f"(cube {model['id']})",
    )


def test_auto_approval_is_the_training_owners_to_set(api: Api) -> None:
    trainer, other = api.user("trainer"), api.user("other")
    root = User("root", 1, api)
    registered = experiment(api, trainer, approve_by=root)
    path = f"/trainings/{registered['id']}/auto-approval"
    assert _error(other.put(path, {"mode": "always"}))[:2] == (403, "permission_denied")
    rule = {"mode": "allowlist", "users": ["hospital"]}
    assert trainer.ok("put", path, rule)["auto_approval"] == rule
