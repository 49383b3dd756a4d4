"""Test data for federated training, made through the HTTP API like ``conftest.Api``'s:
an aggregator, a training experiment (with fresh cubes), a dataset that joins it."""

from __future__ import annotations

from itertools import count
from typing import Any

from medval.training.ca import new_node_key

from .conftest import Api, User

PLAN = {"rounds": 3, "min_sites": 2, "strategy": "FedAvg"}
_ids = count()


def node_key() -> str:
    """A fresh node public key (OpenSSH text), as ``medval training join`` makes one."""
    return new_node_key()[1]


def aggregator(owner: User, address: str = "agg.example.org", port: int = 9092) -> Any:
    body = {"name": f"aggregator-{next(_ids)}", "address": address, "port": port}
    return owner.ok("post", "/aggregators", body)


def experiment(
    api: Api,
    owner: User,
    approve_by: User | None = None,
    aggregator_owner: User | None = None,
    prep: Any = None,
    **extra: Any,
) -> Any:
    """An experiment with a fresh training cube (and preparation cube, unless given) and
    an aggregator of ``aggregator_owner`` (the owner's own by default); approved when
    ``approve_by`` (an admin) is given."""
    prep = prep or api.cube(owner, "data_preparator")
    body = {
        "name": f"training-{next(_ids)}",
        "data_preparator_id": prep["id"],
        "training_cube_id": api.cube(owner, "training")["id"],
        "plan": PLAN,
        "aggregator_id": aggregator(aggregator_owner or owner)["id"],
    } | extra
    registered = owner.ok("post", "/trainings", body)
    if approve_by is not None:
        path = f"/trainings/{registered['id']}/approval"
        registered = approve_by.ok("put", path, {"status": "approved"})
    return registered


def prepared_dataset(owner: User, experiment: Any) -> Any:
    """A dataset of ``owner``'s prepared with the experiment's preparation cube."""
    body = {
        "name": f"site-{next(_ids)}",
        "data_preparator_id": experiment["data_preparator_id"],
        "data_hash": f"{next(_ids):064x}",
        "statistics": {"n_cases": 100, "values": {}},
    }
    return owner.ok("post", "/datasets", body)


def join(
    requester: User, experiment: Any, dataset: Any, decide_by: User | None = None, key: str = ""
) -> Any:
    """Ask for ``dataset`` to join; approved when ``decide_by`` is given."""
    body = {
        "experiment_id": experiment["id"],
        "dataset_id": dataset["id"],
        "node_public_key": key or node_key(),
    }
    association = requester.ok("post", "/training-associations", body)
    if decide_by is not None:
        path = f"/training-associations/{association['id']}/decision"
        association = decide_by.ok("put", path, {"status": "approved"})
    return association
