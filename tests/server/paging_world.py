"""A world with more rows of every listed kind than a small page holds, made through the
HTTP API, where each caller sees some rows and not others, interleaved: what
``test_api_paging`` walks every list route over."""

from __future__ import annotations

from typing import Any

from medval.core.membership_schemas import agreement_sha256
from medval.trust.key_wrapping import EncryptionKey
from medval.trust.keys import SigningKey

from .conftest import Api, User
from .preparation_report_bodies import report_body
from .training_factories import aggregator, experiment, join, prepared_dataset

AGREEMENT = "# Membership agreement\n\nPaging through it.\n"
# Whose dataset each one is, in the order they are registered: h2 has a run of three, so a
# page of h1's skips more rows than one read of a page holds.
DATASET_OWNERS = ("h1", "h2", "h2", "h2", "h1", "h2", "h1", "h1", "h2", "h1")
# Each list holds at least five items for each caller who walks it: three pages of two.


def paging_world(api: Api) -> dict[str, Any]:
    root = api.admin("root")
    people = {
        name: api.user(name) for name in ("bench", "h1", "h2", "vendor", "trainer", "host", "x")
    }
    bench, vendor = people["bench"], people["vendor"]
    benchmarks = []
    for n in range(7):  # two stay pending: only their owner and admins see them
        approver = None if n in (1, 4) else root
        benchmarks.append(api.benchmark(bench, approve_by=approver, policy="public", min_sites=1))
    board = benchmarks[0]
    agreement = {"text": AGREEMENT, "sha256": agreement_sha256(AGREEMENT)}
    bench.ok("put", f"/benchmarks/{board['id']}/agreement", agreement)
    for name in ("h1", "h2", "vendor", "x", "trainer"):
        accepted = f"/benchmarks/{board['id']}/agreement/acceptances"
        people[name].ok("post", accepted, {"sha256": agreement["sha256"]})
    # Models: the vendor's, with a draft of theirs between them (only they see drafts).
    models = []
    for n in range(6):
        cube = api.cube(vendor, "model", stage="development" if n == 2 else "operation")
        if n != 2:
            models.append(cube)
    for model in models:
        api.associate(vendor, board, "model", model, bench)
    datasets: dict[str, list[Any]] = {"h1": [], "h2": []}
    results: dict[str, list[Any]] = {"h1": [], "h2": []}
    for owner in DATASET_OWNERS:
        dataset = api.dataset(people[owner], board)
        api.associate(people[owner], board, "dataset", dataset, bench)
        datasets[owner].append(dataset)
        for model in models[:2]:
            body = api.result_body(board, dataset, model)
            results[owner].append(people[owner].ok("post", "/results", body))
    for _ in range(4):  # vendor rotates keys: one current, the rest retired
        key = SigningKey.generate()
        vendor.ok("post", "/users/me/signing-keys", {"public_key": key.public_key})
    for _ in range(5):  # and its encryption keys: one current, the rest retired
        public = EncryptionKey.generate().public_key
        vendor.ok("post", "/users/me/encryption-keys", {"public_key": public})
    training_datasets = _training(api, root, people)
    # Preparation reports to the board's committee: h1's and h2's, interleaved.
    for owner in ("h1", "h2", "h1", "h2", "h1"):
        people[owner].ok("post", "/preparation-reports", report_body(board["id"]))
    # Last, so that no association above is approved for being expected.
    for name in ("h1", "h2", "vendor", "trainer", "host", "x"):
        expected = {"kind": "user", "name": name}
        bench.ok("post", f"/benchmarks/{board['id']}/expected-sites", expected)
    return {
        "root": root,
        **people,
        "benchmarks": benchmarks,
        "board": board,
        "models": models,
        "datasets": datasets,
        "results": results,
        "training_datasets": training_datasets,
    }


def _training(api: Api, root: User, people: dict[str, User]) -> dict[str, list[Any]]:
    """Aggregators, experiments, one with rounds and sites that joined: their datasets."""
    trainer, host = people["trainer"], people["host"]
    for _ in range(2):
        aggregator(host)
    plan = {"rounds": 6, "min_sites": 2, "strategy": "FedAvg"}
    experiments = [
        experiment(api, trainer, root, aggregator_owner=host, plan=plan) for _ in range(5)
    ]
    first = experiments[0]
    path = f"/trainings/{first['id']}/rounds"
    for round_ in (2, 0, 3, 1, 5, 4):
        host.ok("post", path, {"round": round_, "metrics": {"loss": 1.0 / (round_ + 1)}})
    sites: list[tuple[User, Any]] = []
    datasets: dict[str, list[Any]] = {"h1": [], "h2": []}
    for owner in ("h2", "h1") * 5:
        dataset = prepared_dataset(people[owner], first)
        join(people[owner], first, dataset, decide_by=trainer)
        sites.append((people[owner], dataset))
        datasets[owner].append(dataset)
    path = f"/trainings/{first['id']}/site-rounds"
    for round_ in (2, 1, 3):
        for owner, dataset in sites:
            body = {"dataset_id": dataset["id"], "round": round_, "metrics": {"loss": 0.5}}
            owner.ok("post", path, body)
    return datasets
