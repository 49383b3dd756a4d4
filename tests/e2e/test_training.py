"""A whole training experiment through the real CLI, a real server and real Flower (issue 11).

The committee (training owner) registers the demo's training cube (a Flower app) against the
benchmark's own preparation cube, with a plan; the admin approves; it runs the aggregator
on this machine (``medval aggregator start``, Flower's SuperLink behind the fleet gate).
Two hospitals reuse datasets prepared for the benchmark, ask to join with node keys made
on their machines, are approved, and train (``medval training run``): Flower's SuperNode,
each ClientApp in the bubblewrap sandbox. At the end the rounds' aggregated metrics are on
the server, and the final model is a model cube of the training owner's that joins the
benchmark and runs at a hospital like any other model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medval.demo.federated import build_training_cube
from tests.e2e.conftest import E2E_SITES, Assets, Benchmark
from tests.e2e.people import PASSWORD, Person, assert_clean_failure

pytestmark = [pytest.mark.e2e, pytest.mark.flower, pytest.mark.sandbox]

PLAN = "rounds: 2\nmin_sites: 2\nstrategy: FedAvg\nlocal_epochs: 5\nseed: 7\n"


def _background(person: Person, *args: str, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        MEDVAL_HOME=str(person.home),
        MEDVAL_SERVER=person.server_url,
        MEDVAL_PASSWORD=PASSWORD,
        COLUMNS="200",
    )
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "medval", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _finish(process: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
    return log.read_text()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C first (medval then stops every Flower process it started, some of which
    Flower puts in sessions of their own), then kill."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.mark.timeout(1200)
def test_two_hospitals_train_a_model_that_joins_the_benchmark(
    people: dict[str, Person], assets: Assets, benchmark: Benchmark, tmp_path: Path
) -> None:
    committee, admin = people["committee"], people["admin"]
    hospitals = [people["hospital-a"], people["hospital-b"]]
    bid = str(benchmark.id)
    # Datasets prepared for the benchmark, with its preparation cube: training reuses them.
    for person, name in zip(hospitals, E2E_SITES, strict=True):
        files = assets.sites[name].data_path.parent
        person.ok(
            "dataset", "prepare", "--benchmark", bid, "--name", name,
            "--data-path", str(files / "data"), "--labels-path", str(files / "labels"),
        )  # fmt: skip
        person.ok("dataset", "register", name, "--yes")

    cube = committee.json("cube", "register", str(build_training_cube(tmp_path / "cube")))
    assert cube["kind"] == "training"
    committee.ok("aggregator", "register", "agg", "--address", "127.0.0.1", "--port", "19443")
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    committee.ok(
        "training", "register", "rfs5-fl", "--prep", str(benchmark.prep_id),
        "--training-cube", str(cube["id"]), "--plan", str(plan), "--aggregator", "agg",
    )  # fmt: skip
    early = hospitals[0].medval("training", "run", "rfs5-fl", "--dataset", E2E_SITES[0], "--yes")
    assert_clean_failure(early, 4, "no training experiment named 'rfs5-fl'")
    admin.ok("training", "approve", "--yes", "rfs5-fl")

    for person, name in zip(hospitals, E2E_SITES, strict=True):
        person.ok("training", "join", "rfs5-fl", "--dataset", name, "--yes")
    pending = hospitals[0].medval("training", "run", "rfs5-fl", "--dataset", E2E_SITES[0], "--yes")
    assert_clean_failure(
        pending, 2, f"dataset {E2E_SITES[0]} is pending in training experiment rfs5-fl"
    )
    for name in E2E_SITES:
        committee.ok("training", "approve-site", "rfs5-fl", "--dataset", name, "--yes")

    logs = {name: tmp_path / f"{name}.log" for name in ("aggregator", *E2E_SITES)}
    aggregator = _background(committee, "aggregator", "start", "rfs5-fl", log=logs["aggregator"])
    # The sites may start first (they keep trying); here they start once it listens.
    deadline = time.monotonic() + 120
    while "aggregator listening" not in logs["aggregator"].read_text():
        assert aggregator.poll() is None and time.monotonic() < deadline, logs[
            "aggregator"
        ].read_text()
        time.sleep(0.5)
    sites = [
        _background(
            person, "training", "run", "rfs5-fl", "--dataset", name, "--yes", log=logs[name]
        )
        for person, name in zip(hospitals, E2E_SITES, strict=True)
    ]
    try:
        aggregator_log = _finish(aggregator, logs["aggregator"], 600)
        site_logs = [
            _finish(site, logs[name], 120) for site, name in zip(sites, E2E_SITES, strict=True)
        ]
    finally:
        for process in (aggregator, *sites):
            _stop(process)
    assert aggregator.returncode == 0, aggregator_log
    assert "round 2/2: train aggregated from 2 sites (0 failures)" in aggregator_log
    assert "final model registered as model cube rfs5-fl-final" in aggregator_log
    for site, log in zip(sites, site_logs, strict=True):
        assert site.returncode == 0, log
        assert "leaves: model updates (weights)" in log
        assert "training experiment rfs5-fl finished its 2 rounds" in log

    rounds = committee.json("training", "rounds", "rfs5-fl")["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    assert all(r["metrics"]["train.replies"] == 2 for r in rounds)
    # Each site's own rounds: read from its ClientApps' replies, shown value by value, sent;
    # seen by the training owner (every site) and each hospital (its own only).
    per_site = committee.json("training", "rounds", "rfs5-fl")["sites"]
    assert sorted((r["dataset"], r["round"]) for r in per_site) == [
        (name, n) for name in sorted(E2E_SITES) for n in (1, 2)
    ], "\n".join(site_logs)  # each site says what it sent, and what it could not
    for row in per_site:
        assert {"train.num-examples", "evaluate.num-examples"} <= set(row["metrics"]), row
        said = ", ".join(f"{k}={v!r}" for k, v in sorted(row["metrics"].items()))
        shown = f"sending round {row['round']}'s metrics of this site to medval's server: {said}"
        log = site_logs[E2E_SITES.index(row["dataset"])]
        assert shown in " ".join(log.split()), log  # Rich wraps long lines at spaces.
    for person, name in zip(hospitals, E2E_SITES, strict=True):
        own = person.json("training", "rounds", "rfs5-fl")["sites"]
        assert sorted((r["dataset"], r["round"]) for r in own) == [(name, 1), (name, 2)]
    shown = committee.json("training", "show", "rfs5-fl")
    model = committee.json("cube", "show", str(shown["final_model_id"]))
    assert (model["kind"], model["owner"]) == ("model", "committee")

    # The final model joins the benchmark and runs at a hospital like any model.
    committee.ok("model", "associate", str(model["id"]), "--benchmark", bid, "--yes")
