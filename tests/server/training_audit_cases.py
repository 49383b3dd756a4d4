"""The audit-trail cases of federated training's state-changing routes (see
``test_audit_trail``): each a successful call, made ready in the ``world`` fixture."""

from __future__ import annotations

from typing import Any

from tests.server.audit_change import Case, Change
from tests.server.conftest import Api
from tests.server.training_factories import (
    PLAN,
    aggregator,
    experiment,
    join,
    node_key,
    prepared_dataset,
)

from medval.core import api as routes
from medval.training.ca import new_server_key_and_csr


def _training(api: Api, w: dict[str, Any], approved: bool = True) -> Any:
    return experiment(api, w["bench"], w["root"] if approved else None)


def _register_aggregator(api: Api, w: dict[str, Any]) -> Change:
    body = {"name": "agg", "address": "agg.example.org", "port": 9092}
    return Change("bench", "aggregator", lambda: w["bench"].post(routes.AGGREGATORS, body))


def _register_training(api: Api, w: dict[str, Any]) -> Change:
    bench = w["bench"]
    body = {
        "name": "a-training",
        "data_preparator_id": api.cube(bench, "data_preparator")["id"],
        "training_cube_id": api.cube(bench, "training")["id"],
        "plan": PLAN,
        "aggregator_id": aggregator(bench)["id"],
    }
    return Change("bench", "training", lambda: bench.post(routes.TRAININGS, body))


def _approve_training(api: Api, w: dict[str, Any]) -> Change:
    path = f"/trainings/{_training(api, w, approved=False)['id']}/approval"
    return Change("root", "training", lambda: w["root"].put(path, {"status": "approved"}))


def _training_auto_approval(api: Api, w: dict[str, Any]) -> Change:
    path = f"/trainings/{_training(api, w)['id']}/auto-approval"
    return Change("bench", "training", lambda: w["bench"].put(path, {"mode": "always"}))


def _training_final_model(api: Api, w: dict[str, Any]) -> Change:
    path = f"/trainings/{_training(api, w)['id']}/final-model"
    body = {"model_id": api.cube(w["bench"], "model")["id"]}
    return Change("bench", "training", lambda: w["bench"].put(path, body))


def _certify_aggregator(api: Api, w: dict[str, Any]) -> Change:
    path = f"/trainings/{_training(api, w)['id']}/aggregator-certificate"
    body = {"csr_pem": new_server_key_and_csr("agg.example.org")[1].decode()}
    return Change("bench", "training", lambda: w["bench"].post(path, body))


def _report_round(api: Api, w: dict[str, Any]) -> Change:
    path = f"/trainings/{_training(api, w)['id']}/rounds"
    body = {"round": 1, "metrics": {"loss": 0.5}}
    return Change("bench", "training_round", lambda: w["bench"].post(path, body))


def _joined(api: Api, w: dict[str, Any], decide: bool) -> tuple[Any, Any, Any]:
    training = _training(api, w)
    dataset = prepared_dataset(w["hospital"], training)
    association = join(w["hospital"], training, dataset, w["bench"] if decide else None)
    return training, dataset, association


def _report_site_round(api: Api, w: dict[str, Any]) -> Change:
    training, dataset, _ = _joined(api, w, decide=True)
    path = f"/trainings/{training['id']}/site-rounds"
    body = {"dataset_id": dataset["id"], "round": 1, "metrics": {"loss": 0.5}}
    return Change("hospital", "site_training_round", lambda: w["hospital"].post(path, body))


def _join_training(api: Api, w: dict[str, Any]) -> Change:
    training = _training(api, w)
    body = {
        "experiment_id": training["id"],
        "dataset_id": prepared_dataset(w["hospital"], training)["id"],
        "node_public_key": node_key(),
    }
    return Change(
        "hospital",
        "training_association",
        lambda: w["hospital"].post(routes.TRAINING_ASSOCIATIONS, body),
    )


def _decide_training_association(api: Api, w: dict[str, Any]) -> Change:
    association = _joined(api, w, decide=False)[2]
    path = f"/training-associations/{association['id']}/decision"
    return Change(
        "bench", "training_association", lambda: w["bench"].put(path, {"status": "approved"})
    )


def _revoke_training_association(api: Api, w: dict[str, Any]) -> Change:
    association = _joined(api, w, decide=True)[2]
    path = f"/training-associations/{association['id']}/revocation"
    return Change("hospital", "training_association", lambda: w["hospital"].post(path, None))


def _training_policy(api: Api, w: dict[str, Any]) -> Change:
    association = _joined(api, w, decide=False)[2]
    path = f"/training-associations/{association['id']}/policy"
    return Change(
        "hospital", "training_association", lambda: w["hospital"].put(path, {"max_runs": 2})
    )


TRAINING_CASES: dict[tuple[str, str], Case] = {
    ("POST", routes.AGGREGATORS): _register_aggregator,
    ("POST", routes.TRAININGS): _register_training,
    ("PUT", routes.TRAINING_APPROVAL): _approve_training,
    ("PUT", routes.TRAINING_AUTO_APPROVAL): _training_auto_approval,
    ("PUT", routes.TRAINING_FINAL_MODEL): _training_final_model,
    ("POST", routes.TRAINING_AGGREGATOR_CERTIFICATE): _certify_aggregator,
    ("POST", routes.TRAINING_ROUNDS): _report_round,
    ("POST", routes.TRAINING_SITE_ROUNDS): _report_site_round,
    ("POST", routes.TRAINING_ASSOCIATIONS): _join_training,
    ("PUT", routes.TRAINING_ASSOCIATION_DECISION): _decide_training_association,
    ("POST", routes.TRAINING_ASSOCIATION_REVOCATION): _revoke_training_association,
    ("PUT", routes.TRAINING_ASSOCIATION_POLICY): _training_policy,
}
