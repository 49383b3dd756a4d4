"""The access matrix's doors of federated training (see ``access_doors``).

In these the benchmark owner is also the training owner, the model owner runs the
experiments' aggregator (a third party), and the data owner's datasets join them.
"""

from __future__ import annotations

from typing import Any

import httpx

from medval.training.ca import new_server_key_and_csr

from .access_doors import ADMIN, Caller, Door, Send, World, _call, get, logged_in
from .training_factories import aggregator, experiment, join, node_key, prepared_dataset


def _training(w: World, approved: bool = True) -> Any:
    """A new experiment of the benchmark owner's on its benchmark's preparation cube,
    with an aggregator of the model owner's; approved by the admin unless asked not to."""
    prep = {"id": w.benchmark["data_preparator_id"]}
    by = w.people[ADMIN] if approved else None
    return experiment(w.api, w.bench, by, aggregator_owner=w.vendor, prep=prep)


def _joined(w: World, decide: bool) -> tuple[Any, Any, Any]:
    training = _training(w)
    dataset = prepared_dataset(w.hospital, training)
    return training, dataset, join(w.hospital, training, dataset, w.bench if decide else None)


def _on_training(method: str, suffix: str, body: Any = None, approved: bool = True) -> Send:
    return lambda w, c: _call(
        method, f"/trainings/{_training(w, approved)['id']}{suffix}", c, json=body
    )


def _on_association(method: str, suffix: str, decide: bool, body: Any = None) -> Send:
    return lambda w, c: _call(
        method, f"/training-associations/{_joined(w, decide)[2]['id']}{suffix}", c, json=body
    )


def _register(w: World, c: Caller) -> httpx.Response:
    body = {
        "name": w.name(),
        "data_preparator_id": w.benchmark["data_preparator_id"],
        "training_cube_id": w.api.cube(w.bench, "training")["id"],
        "plan": {"rounds": 2, "min_sites": 1},
        "aggregator_id": aggregator(w.vendor)["id"],
    }
    return _call("POST", "/trainings", c, json=body)


def _final_model(w: World, c: Caller) -> httpx.Response:
    body = {"model_id": w.api.cube(w.bench, "model")["id"]}
    return _call("PUT", f"/trainings/{_training(w)['id']}/final-model", c, json=body)


def _certify(w: World, c: Caller) -> httpx.Response:
    body = {"csr_pem": new_server_key_and_csr("agg.example.org")[1].decode()}
    return _call("POST", f"/trainings/{_training(w)['id']}/aggregator-certificate", c, json=body)


def _site_round(w: World, c: Caller) -> httpx.Response:
    training, dataset, _ = _joined(w, decide=True)
    body = {"dataset_id": dataset["id"], "round": 1, "metrics": {"loss": 0.5}}
    return _call("POST", f"/trainings/{training['id']}/site-rounds", c, json=body)


def _one_site_s_rounds(w: World, c: Caller) -> httpx.Response:
    training, dataset, _ = _joined(w, decide=True)
    return _call("GET", f"/trainings/{training['id']}/site-rounds?dataset_id={dataset['id']}", c)


def _join(w: World, c: Caller) -> httpx.Response:
    training = _training(w)
    body = {
        "experiment_id": training["id"],
        "dataset_id": prepared_dataset(w.hospital, training)["id"],
        "node_public_key": node_key(),
    }
    return _call("POST", "/training-associations", c, json=body)


def training_doors() -> list[Door]:
    parties = {"admin": 200, "bench": 200, "hospital": 200}
    trainings = "/api/v1/trainings/{experiment_id}"
    associations = "/api/v1/training-associations/{association_id}"

    def new_aggregator(w: World, c: Caller) -> httpx.Response:
        body = {"name": w.name(), "address": "agg.example.org", "port": 9092}
        return _call("POST", "/aggregators", c, json=body)

    return [
        Door("POST", "/api/v1/aggregators", "", new_aggregator, logged_in(201)),
        Door("GET", "/api/v1/aggregators", "", get(lambda w: "/aggregators"), logged_in(200)),
        Door(
            "GET",
            "/api/v1/aggregators/{aggregator_id}",
            "the model owner's",
            get(lambda w: f"/aggregators/{aggregator(w.vendor)['id']}"),
            logged_in(200),
        ),
        Door("POST", "/api/v1/trainings", "with released cubes", _register, logged_in(201)),
        Door("GET", "/api/v1/trainings", "", get(lambda w: "/trainings"), logged_in(200)),
        Door(
            "GET",
            trainings,
            "pending",
            _on_training("GET", "", approved=False),
            logged_in(404, admin=200, bench=200, vendor=200),
        ),
        Door("GET", trainings, "approved", _on_training("GET", ""), logged_in(200)),
        Door(
            "PUT",
            trainings + "/approval",
            "pending",
            _on_training("PUT", "/approval", {"status": "approved"}, approved=False),
            logged_in(403, admin=200),
        ),
        Door(
            "PUT",
            trainings + "/auto-approval",
            "approved",
            _on_training("PUT", "/auto-approval", {"mode": "always"}),
            logged_in(403, admin=200, bench=200),
        ),
        Door(
            "PUT",
            trainings + "/final-model",
            "approved, a model of the training owner's",
            _final_model,
            logged_in(403, bench=200),
        ),
        Door("GET", trainings + "/ca", "approved", _on_training("GET", "/ca"), logged_in(200)),
        Door(
            "POST",
            trainings + "/aggregator-certificate",
            "approved",
            _certify,
            logged_in(403, vendor=201),
        ),
        Door(
            "GET",
            trainings + "/nodes",
            "approved",
            _on_training("GET", "/nodes"),
            logged_in(403, admin=200, bench=200, vendor=200),
        ),
        Door(
            "POST",
            trainings + "/rounds",
            "approved",
            _on_training("POST", "/rounds", {"round": 1, "metrics": {"loss": 0.5}}),
            logged_in(403, vendor=201),
        ),
        Door(
            "GET", trainings + "/rounds", "approved", _on_training("GET", "/rounds"), logged_in(200)
        ),
        Door(
            "POST",
            trainings + "/site-rounds",
            "the data owner's approved site",
            _site_round,
            logged_in(404, admin=403, hospital=201),
        ),
        Door(
            "GET",
            trainings + "/site-rounds",
            "approved",
            _on_training("GET", "/site-rounds"),
            logged_in(200),
        ),
        Door(
            "GET",
            trainings + "/site-rounds",
            "one dataset's: the data owner's approved site",
            _one_site_s_rounds,
            logged_in(404, admin=200, bench=200, hospital=200),
        ),
        Door(
            "POST",
            "/api/v1/training-associations",
            "the data owner's dataset",
            _join,
            logged_in(404, admin=403, hospital=201),
        ),
        Door(
            "GET",
            "/api/v1/training-associations",
            "",
            get(lambda w: "/training-associations"),
            logged_in(200),
        ),
        Door(
            "GET",
            associations,
            "pending",
            _on_association("GET", "", decide=False),
            logged_in(404, **parties),
        ),
        Door(
            "PUT",
            associations + "/decision",
            "pending",
            _on_association("PUT", "/decision", False, {"status": "approved"}),
            logged_in(404, admin=200, bench=200, hospital=403),
        ),
        Door(
            "POST",
            associations + "/revocation",
            "approved",
            _on_association("POST", "/revocation", decide=True),
            logged_in(404, **parties),
        ),
        Door(
            "PUT",
            associations + "/policy",
            "pending",
            _on_association("PUT", "/policy", False, {"max_runs": 3}),
            logged_in(404, admin=403, bench=403, hospital=200),
        ),
    ]
