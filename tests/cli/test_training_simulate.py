"""``medval training simulate`` against a real server: the demo's training cube over two
virtual sites on Flower's simulation engine gives FedAvg's weights computed by hand on
the same partitions; each refusal is one line with its exit code."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

import medval
from medval.client.workspace import LocalDataset, Workspace
from medval.core.hashing import tree_hash
from medval.core.schemas import DatasetStatistics
from medval.demo.data import SITES
from medval.demo.federated import APP_PACKAGE, build_training_cube, final_weights
from medval.demo.federated import write_pooled_sites as pooled_sites
from medval.training.processes import descendant_groups, live_members
from tests.cli.test_training_commands import APP_CONFIG, PREP_SPEC, Medval, _json, flower_app
from tests.conftest import LiveServer

PLAN = "rounds: 3\nmin_sites: 1\nstrategy: FedAvg\nlocal_epochs: 5\nseed: 7\n"


def _experiment(
    people: dict[str, Medval], tmp_path: Path, app: Path
) -> tuple[dict[str, str], dict[str, str]]:
    """Experiment ``exp`` of ``trainer`` with the training cube ``app``, pending approval
    (a committee sizes it before anyone approves it); its preparation and training cubes."""
    trainer, host = people["trainer"], people["host"]
    prep = tmp_path / "prep"
    prep.mkdir()
    (prep / "medval-cube.yaml").write_text(PREP_SPEC)
    preparation = _json(trainer("cube", "register", str(prep), "--format", "json"))
    prep_id = preparation["id"]
    cube = _json(trainer("cube", "register", str(app), "--format", "json"))
    assert (
        host("aggregator", "register", "agg", "--address", "127.0.0.1", "--port", "9092").code == 0
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    register = ("training", "register", "exp", "--prep", str(prep_id), "--plan", str(plan))
    done = trainer(*register, "--training-cube", str(cube["id"]), "--aggregator", "agg")
    assert done.code == 0, done.stderr
    return preparation, cube


def _prepared_dataset(home: Path, name: str, source: Path, preparation_hash: str) -> Path:
    """A dataset prepared in the workspace at ``home`` (medval's layout: ``data/`` and
    ``labels/``) from the prepared folder ``source``, as ``medval dataset prepare`` keeps one."""
    workspace = Workspace(home)
    folder = workspace.dataset_dir(name)
    (folder / "data").mkdir(parents=True)
    (folder / "labels").mkdir()
    shutil.copyfile(source / "cases.csv", folder / "data" / "cases.csv")
    shutil.copyfile(source / "labels.csv", folder / "labels" / "labels.csv")
    workspace.save_dataset(
        LocalDataset(
            name=name,
            benchmark_id=1,
            data_preparator_id=1,
            data_preparator_hash=preparation_hash,
            raw_data_path="/raw/data",
            raw_labels_path="/raw/labels",
            data_hash=tree_hash(folder / "data", folder / "labels"),
            statistics=DatasetStatistics(n_cases=2684, values={}),
            prepared_at=datetime(2026, 12, 1, tzinfo=UTC),
        )
    )
    return folder


@pytest.fixture
def app_modules(tmp_path: Path) -> Iterator[Path]:
    """The demo's training cube, and its own modules importable as Flower imports them."""
    cube = build_training_cube(tmp_path / "cubes")
    sys.path.insert(0, str(cube))
    was = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield cube
    finally:
        sys.dont_write_bytecode = was
        sys.path.remove(str(cube))
        for name in [m for m in sys.modules if m.split(".")[0] == APP_PACKAGE]:
            del sys.modules[name]


def fedavg_by_hand(pooled: Path, sites: int, rounds: int, epochs: int, seed: int) -> np.ndarray:
    """FedAvg with the app's own model on the app's own partitions: each round every site
    takes ``epochs`` gradient steps from the global weights; the mean weighted by examples.
    (With one step it would equal gradient descent on the pooled data, whatever the
    partitions: more steps make the partitions matter.)"""
    model = importlib.import_module(f"{APP_PACKAGE}.model")
    site_data = importlib.import_module(f"{APP_PACKAGE}.site_data")
    data = site_data.read_prepared(pooled, pooled)
    shares = [site_data.partition(data, i, sites, seed) for i in range(sites)]
    weights = model.initial_weights(data.x.shape[1])
    for _ in range(rounds):
        trained = [model.local_training(weights, s.x, s.y, epochs, 0.5) for s in shares]
        sizes = np.array([len(s.y) for s in shares], dtype=np.float64)
        weights = sum(w * n for w, n in zip(trained, sizes, strict=True)) / sizes.sum()
    return np.asarray(weights)


@pytest.mark.flower
def test_two_virtual_sites_train_what_fedavg_by_hand_trains(
    people: dict[str, Medval],
    tmp_path: Path,
    app_modules: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDVAL_PROGRESS", "always")  # each round's line, in a pipe too
    preparation, _ = _experiment(people, tmp_path, app_modules)
    pooled = pooled_sites(list(SITES), tmp_path / "pooled")
    _prepared_dataset(tmp_path / "trainer", "pooled", pooled, preparation["archive_hash"])
    output = tmp_path / "simulation"
    done = people["trainer"](
        "training", "simulate", "exp", "--sites", "2", "--dataset", "pooled",
        "--rounds", "2", "--output", str(output), "--format", "json",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    result = json.loads(done.stdout)
    progress = [line for line in done.stderr.splitlines() if line.startswith("round ")]
    assert [line.split(",")[0] for line in progress] == ["round 1/2: 2 sites", "round 2/2: 2 sites"]
    assert [(r["round"], r["sites"], r["failures"]) for r in result["rounds"]] == [
        (1, 2, 0),
        (2, 2, 0),
    ]
    assert result["timed_by"] == "serverapp"
    assert all(r["seconds"] > 0 for r in result["rounds"])
    assert result["rounds"][1]["train"]["num-examples"] == 2684.0
    final_model = Path(result["final_model"])
    assert final_model.parent.parent.parent == output.resolve()
    expected = fedavg_by_hand(pooled, sites=2, rounds=2, epochs=5, seed=7)
    other_partitions = fedavg_by_hand(pooled, sites=2, rounds=2, epochs=5, seed=8)
    assert np.abs(other_partitions - expected).max() > 1e-4
    np.testing.assert_allclose(final_weights(final_model), expected, rtol=0, atol=1e-6)


def test_each_refusal_is_one_line_with_its_exit_code(
    people: dict[str, Medval], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = people["trainer"]
    data = tmp_path / "pooled"
    data.mkdir()
    simulate = ("training", "simulate", "exp", "--data", str(data), "--sites")
    config = APP_CONFIG + 'simulation-data-path = ""\n'
    preparation, cube = _experiment(people, tmp_path, flower_app(tmp_path / "app", config=config))

    unknown = trainer("training", "simulate", "nope", "--sites", "2", "--data", str(data))
    assert (unknown.code, unknown.stderr) == (
        4,
        "error: no training experiment named 'nope' that you can see",
    )
    none = trainer(*simulate, "0")
    assert (none.code, none.stderr) == (2, "error: --sites must be at least 1, not 0")
    with monkeypatch.context() as without_ray:
        without_ray.setitem(sys.modules, "ray", None)
        no_ray = trainer(*simulate, "2")
    assert (no_ray.code, no_ray.stderr) == (
        2,
        "error: Flower's simulation engine needs Ray, which is not installed: pip install "
        "'medval[simulation]'",
    )

    home = tmp_path / "trainer"
    by_dataset = ("training", "simulate", "exp", "--sites", "2", "--dataset")
    (data / "cases.csv").write_text("case_id\n1\n")
    (data / "labels.csv").write_text("case_id,event_5y\n1,0\n")
    _prepared_dataset(home, "other-prep", data, "0" * 64)
    wrong = trainer(*by_dataset, "other-prep")
    assert (wrong.code, wrong.stderr) == (
        6,
        "error: dataset other-prep was prepared with another preparation cube than the "
        "experiment uses (prep)",
    )
    changed = _prepared_dataset(home, "changed", data, preparation["archive_hash"])
    (changed / "labels" / "labels.csv").write_text("case_id,event_5y\n1,1\n")
    moved = trainer(*by_dataset, "changed")
    assert moved.code == 6
    assert moved.stderr.startswith("error: the prepared data of changed has changed since")

    archive = Workspace(home).cube_archive(str(cube["archive_hash"]))
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(b"not the registered archive")
    tampered = trainer(*simulate, "2")
    assert tampered.code == 6
    assert tampered.stderr.startswith(f"error: cube fedapp (cached at {archive}): content hash")
    assert tampered.stderr.endswith(f"does not match the registered {cube['archive_hash'][:12]}…")
    assert len(tampered.stderr.splitlines()) == 1


def test_a_cube_that_declares_no_simulation_data_cannot_be_simulated(
    people: dict[str, Medval], tmp_path: Path
) -> None:
    data = tmp_path / "pooled"
    data.mkdir()
    _experiment(people, tmp_path, flower_app(tmp_path / "app"))
    refused = people["trainer"]("training", "simulate", "exp", "--sites", "2", "--data", str(data))
    assert (refused.code, refused.stderr) == (
        2,
        "error: training cube fedapp cannot be simulated: it declares no simulation-data-path "
        "in [tool.flwr.app.config]",
    )


def _groups_below(pid: int) -> set[int]:
    """The process groups of every live process below ``pid`` (as medval stops them)."""
    return descendant_groups(pid) - {os.getpgrp()}


@pytest.mark.flower
def test_ctrl_c_stops_every_flower_and_ray_process(
    people: dict[str, Medval], live_server: LiveServer, tmp_path: Path, app_modules: Path
) -> None:
    _experiment(people, tmp_path, app_modules)
    pooled = pooled_sites(list(SITES), tmp_path / "pooled")
    env = {
        **os.environ,
        "MEDVAL_HOME": str(tmp_path / "trainer"),
        "MEDVAL_SERVER": live_server.url,
        "MEDVAL_PROGRESS": "always",  # each round's line, in this file too
        "PYTHONPATH": str(Path(medval.__file__).parents[1]),
    }
    argv = [sys.executable, "-m", "medval", "training", "simulate", "exp", "--sites", "2"]
    said = tmp_path / "said.txt"
    with said.open("w") as stderr:
        simulation = subprocess.Popen(
            [*argv, "--data", str(pooled), "--rounds", "50"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            # As a terminal starts it: a background job (make's lane) has SIGINT ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        deadline = time.monotonic() + 240
        while "round 1/50: 2 sites, " not in said.read_text():  # then Ray is up
            assert simulation.poll() is None and time.monotonic() < deadline, said.read_text()
            time.sleep(0.2)
        running = _groups_below(simulation.pid)
        assert len(running) >= 3  # the SuperLink, its SuperExec, the simulation and Ray's
        simulation.send_signal(signal.SIGINT)
        simulation.wait(timeout=60)
    finally:
        if simulation.poll() is None:
            simulation.kill()
    assert simulation.returncode == 130, said.read_text()
    assert said.read_text().splitlines()[-1] == "interrupted: the simulation was stopped"
    assert live_members(running) == set()  # zombies aside: see live_members
