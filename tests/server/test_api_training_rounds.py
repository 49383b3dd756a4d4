"""Round metrics through the API: the aggregator's owner reports aggregated ones, seen by
everyone who sees the experiment; each data owner reports their site's own, seen by them
and the training owner only."""

from __future__ import annotations

from typing import Any

from .conftest import Api
from .training_factories import experiment, join, prepared_dataset


def _error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_aggregated_rounds_are_reported_by_the_aggregators_owner(api: Api) -> None:
    root, trainer, host, other = (api.admin("root"), *map(api.user, ("trainer", "host", "x")))
    pending = experiment(api, trainer, aggregator_owner=host)
    path = f"/trainings/{pending['id']}/rounds"
    early = host.post(path, {"round": 1, "metrics": {"loss": 0.7}})
    assert _error(early) == (
        409,
        "invalid_transition",
        f"training experiment {pending['name']} is pending; it has no rounds",
    )
    root.ok("put", f"/trainings/{pending['id']}/approval", {"status": "approved"})
    by_trainer = trainer.post(path, {"round": 1, "metrics": {"loss": 0.7}})
    assert _error(by_trainer)[:2] == (403, "permission_denied")
    first = host.ok("post", path, {"round": 1, "metrics": {"loss": 0.7, "auroc": 0.61}})
    assert (first["round"], first["metrics"], first["uploaded_by"]) == (
        1,
        {"loss": 0.7, "auroc": 0.61},
        "host",
    )
    host.ok("post", path, {"round": 0, "metrics": {"loss": 0.9}})
    assert host.ok("post", path, {"round": 1, "metrics": {"loss": 0.7, "auroc": 0.61}}) == first
    changed = host.post(path, {"round": 1, "metrics": {"loss": 0.1}})
    assert _error(changed) == (
        409,
        "conflict",
        f"round 1 of training experiment {pending['name']} is already recorded, with other metrics",
    )
    past = host.post(path, {"round": 4, "metrics": {"loss": 0.1}})
    assert _error(past) == (
        422,
        "invalid_input",
        f"round 4 is past the plan of training experiment {pending['name']} (3 rounds)",
    )
    not_a_number = host.post(path, {"round": 2, "metrics": {"loss": "low"}})
    assert _error(not_a_number)[:2] == (422, "invalid_input")
    for who in (trainer, host, other):
        assert [r["round"] for r in who.ok("get", path)] == [0, 1], who.name


def test_a_sites_rounds_are_seen_by_that_site_and_the_training_owner(api: Api) -> None:
    root = api.admin("root")
    trainer, host, a, b = (api.user(n) for n in ("trainer", "host", "site-a", "site-b"))
    approved = experiment(api, trainer, root, aggregator_owner=host)
    path = f"/trainings/{approved['id']}/site-rounds"
    mine, theirs = prepared_dataset(a, approved), prepared_dataset(b, approved)
    never = a.post(path, {"dataset_id": mine["id"], "round": 1, "metrics": {"loss": 0.5}})
    assert _error(never) == (
        409,
        "invalid_transition",
        f"dataset {mine['name']} was never approved to join training experiment {approved['name']}",
    )
    join(a, approved, mine, decide_by=trainer)
    joined_b = join(b, approved, theirs, decide_by=trainer)
    a.ok("post", path, {"dataset_id": mine["id"], "round": 1, "metrics": {"loss": 0.5}})
    not_theirs = a.post(path, {"dataset_id": theirs["id"], "round": 1, "metrics": {"loss": 0.4}})
    assert not_theirs.status_code == 404
    b.ok("post", path, {"dataset_id": theirs["id"], "round": 1, "metrics": {"loss": 0.4}})
    # A site that left still reports the rounds it took part in.
    b.ok("post", f"/training-associations/{joined_b['id']}/revocation", {})
    b.ok("post", path, {"dataset_id": theirs["id"], "round": 2, "metrics": {"loss": 0.3}})

    def seen(who: Any) -> list[tuple[str, int]]:
        return [(r["dataset"], r["round"]) for r in who.ok("get", path)]

    everyone = [(mine["name"], 1), (theirs["name"], 1), (theirs["name"], 2)]
    assert seen(trainer) == everyone and seen(root) == everyone
    assert seen(a) == [(mine["name"], 1)]
    assert seen(b) == [(theirs["name"], 1), (theirs["name"], 2)]
    assert seen(host) == []  # the aggregator's owner sees the aggregate, not the sites


def test_one_sites_rounds_asked_by_anyone_else_are_refused(api: Api) -> None:
    root = api.admin("root")
    trainer, host, a, b, stranger = (
        api.user(n) for n in ("trainer", "host", "site-a", "site-b", "stranger")
    )
    approved = experiment(api, trainer, root, aggregator_owner=host)
    path = f"/trainings/{approved['id']}/site-rounds"
    mine, theirs = prepared_dataset(a, approved), prepared_dataset(b, approved)
    join(a, approved, mine, decide_by=trainer)
    join(b, approved, theirs, decide_by=trainer)
    metrics = {"train.train-loss": 0.25, "train.num-examples": 200}
    a.ok("post", path, {"dataset_id": mine["id"], "round": 1, "metrics": metrics})
    b.ok("post", path, {"dataset_id": theirs["id"], "round": 1, "metrics": {"train.x": 1}})
    one = f"{path}?dataset_id={mine['id']}"
    for who in (a, trainer, root):
        rows = who.ok("get", one)
        assert [(r["dataset"], r["round"], r["metrics"]) for r in rows] == [
            (mine["name"], 1, metrics)
        ], who.name
    # Refused as a dataset that does not exist is, so that ids leak nothing.
    refusal = (404, "not_found", f"dataset {mine['id']} does not exist")
    for who in (b, host, stranger):
        assert _error(who.get(one)) == refusal, who.name
    missing = stranger.get(f"{path}?dataset_id=99999")
    assert _error(missing) == (404, "not_found", "dataset 99999 does not exist")
    assert stranger.ok("get", path) == []  # Unasked for one dataset: none of them.
    assert [r["dataset"] for r in b.ok("get", path)] == [theirs["name"]]
