"""``medval aggregator ...`` and ``medval training ...`` (governance) against a real server:
a training cube (a Flower app folder) registered, an experiment registered against it,
approved, joined by a site with a node key kept owner-only, decided, revoked; its rounds.
Exact exit codes and one-line messages."""

from __future__ import annotations

import io
import json
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from medval.cli.main import main
from medval.client.http import MedvalClient
from medval.client.settings import ClientSettings, load_login
from medval.core.schemas import DatasetCreate
from medval.core.training_schemas import RoundMetricsCreate, SiteRoundMetricsCreate
from tests.conftest import LiveServer

PASSWORD = "training-password-1"
APP_CONFIG = """
num-server-rounds = 3
strategy = "FedAvg"
fraction-train = 1.0
min-nodes = 2
local-epochs = 1
seed = 0
"""
PLAN = "rounds: 2\nmin_sites: 1\nstrategy: FedAvg\n"
PREP_SPEC = """
name: prep
kind: data_preparator
tasks:
  prepare: {entrypoint: [python, prepare.py]}
  sanity_check: {entrypoint: [python, check.py]}
  statistics: {entrypoint: [python, statistics.py]}
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


Medval = Callable[..., Outcome]


def flower_app(folder: Path, config: str = APP_CONFIG, clientapp: bool = True) -> Path:
    """A Flower app folder as Flower's templates lay one out (never run here)."""
    (folder / "fedapp").mkdir(parents=True)
    (folder / "fedapp" / "__init__.py").write_text("")
    (folder / "fedapp" / "server_app.py").write_text("app = None\n")
    (folder / "fedapp" / "client_app.py").write_text("app = None\n")
    components = 'serverapp = "fedapp.server_app:app"\n'
    if clientapp:
        components += 'clientapp = "fedapp.client_app:app"\n'
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "fedapp"\nversion = "1.0.0"\n\n'
        '[tool.flwr.app]\npublisher = "medval-tests"\n\n'
        '[tool.medval.training]\nfinal-model = "final_model.npz"\n\n'
        f"[tool.flwr.app.components]\n{components}\n"
        f"[tool.flwr.app.config]\n{config}"
    )
    return folder


@pytest.fixture
def people(
    live_server: LiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[dict[str, Medval]]:
    """root (admin), trainer, hospital and host (the aggregator's), each logged in, in
    a client folder of their own."""
    monkeypatch.setenv("MEDVAL_SERVER", live_server.url)
    monkeypatch.setenv("COLUMNS", "200")
    for variable in ("MEDVAL_PASSWORD", "MEDVAL_DEBUG"):
        monkeypatch.delenv(variable, raising=False)

    def person(name: str) -> Medval:
        def run(*args: str, stdin: str = "") -> Outcome:
            monkeypatch.setenv("MEDVAL_HOME", str(tmp_path / name))
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            code = main(list(args))
            out = capsys.readouterr()
            return Outcome(code, out.out, out.err.strip())

        return run

    live_server.make_admin("root", PASSWORD)
    everyone = {name: person(name) for name in ("root", "trainer", "hospital", "host")}
    login = ("login", "--password-stdin", "-u")
    assert everyone["root"](*login, "root", stdin=PASSWORD + "\n").code == 0
    for name in ("trainer", "hospital", "host"):
        created = everyone["root"]("users", "create", name, "--password-stdin", stdin=PASSWORD)
        assert created.code == 0, created.stderr
        assert everyone[name](*login, name, stdin=PASSWORD + "\n").code == 0
    yield everyone


def _client(live_server: LiveServer, home: Path) -> MedvalClient:
    login = load_login(ClientSettings(home=home))
    assert login is not None
    return MedvalClient(live_server.url, login.token)


def _json(outcome: Outcome) -> Any:
    assert outcome.code == 0, outcome.stderr
    return json.loads(outcome.stdout)


def _cubes(people: dict[str, Medval], tmp_path: Path) -> tuple[int, int]:
    prep = tmp_path / "prep"
    prep.mkdir()
    (prep / "medval-cube.yaml").write_text(PREP_SPEC)
    trainer = people["trainer"]
    prep_id = _json(trainer("cube", "register", str(prep), "--format", "json"))["id"]
    cube = _json(trainer("cube", "register", str(flower_app(tmp_path / "app")), "-f", "json"))
    assert (cube["kind"], cube["name"]) == ("training", "fedapp")
    return prep_id, cube["id"]


def test_a_training_cube_is_a_flower_app_with_both_apps(
    people: dict[str, Medval], tmp_path: Path
) -> None:
    trainer = people["trainer"]
    half = flower_app(tmp_path / "half", clientapp=False)
    refused = trainer("cube", "register", str(half))
    assert (refused.code, refused.stderr) == (
        2,
        f"error: {half}/pyproject.toml: [tool.flwr.app.components] names no clientapp; a "
        "training cube needs a ClientApp",
    )
    missing = flower_app(tmp_path / "missing")
    (missing / "fedapp" / "client_app.py").unlink()
    refused = trainer("cube", "register", str(missing))
    assert (refused.code, refused.stderr) == (
        2,
        f"error: {missing}/pyproject.toml: clientapp 'fedapp.client_app:app' names module "
        "fedapp/client_app.py, which is not in the app's folder",
    )
    assert _json(trainer("cube", "list", "--format", "json")) == []
    registered = trainer("cube", "register", str(flower_app(tmp_path / "good")), "--name", "fl-1")
    assert registered.code == 0, registered.stderr
    shown = trainer("cube", "show", "1")
    assert shown.code == 0 and "training" in shown.stdout


def test_an_experiment_is_registered_approved_joined_and_decided(
    people: dict[str, Medval], live_server: LiveServer, tmp_path: Path
) -> None:
    root, trainer, hospital, host = (people[n] for n in ("root", "trainer", "hospital", "host"))
    prep, cube = _cubes(people, tmp_path)
    added = host("aggregator", "register", "agg", "--address", "127.0.0.1", "--port", "9092")
    assert (added.code, added.stderr) == (0, "aggregator 1 (agg) registered at 127.0.0.1:9092")
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    register = ("training", "register", "exp", "--prep", str(prep), "--training-cube", str(cube))
    done = trainer(*register, "--plan", str(plan), "--aggregator", "agg")
    assert done.code == 0, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "training experiment 1 (exp) submitted; an admin approves it"
    )
    shown = hospital("training", "show", "exp")
    assert (shown.code, shown.stderr) == (
        4,
        "error: no training experiment named 'exp' that you can see",
    )
    approved = root("training", "approve", "--yes", "exp")
    assert (approved.code, approved.stderr) == (0, "training experiment 1 (exp) is approved")
    shown = hospital("training", "show", "exp")
    assert shown.code == 0
    assert "differential privacy: off (model updates leave without added noise)" in shown.stdout
    assert "model updates go to aggregator agg at 127.0.0.1:9092 (run by host)" in shown.stdout

    with _client(live_server, tmp_path / "hospital") as client:
        dataset = client.register_dataset(
            DatasetCreate.model_validate(
                {
                    "name": "site-a",
                    "data_preparator_id": prep,
                    "data_hash": "c" * 64,
                    "statistics": {"n_cases": 100, "values": {}},
                }
            )
        )
    joined = hospital("training", "join", "exp", "--dataset", str(dataset.id), "--yes")
    key = tmp_path / "hospital" / "keys" / "hospital" / "nodes" / "experiment-1-dataset-1.pem"
    assert (joined.code, joined.stderr.splitlines()) == (
        0,
        ["training association 1 requested: pending", f"node key made at {key} (never sent)"],
    )
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    public = key.with_suffix(".pub").read_text().strip()
    sites = _json(trainer("training", "sites", "exp", "--format", "json"))
    assert [(s["dataset"], s["status"], s["node_public_key"]) for s in sites] == [
        ("site-a", "pending", public)
    ]
    by_hospital = hospital("training", "approve-site", "exp", "--dataset", "site-a", "--yes")
    assert (by_hospital.code, by_hospital.stderr) == (
        3,
        "error: only the owner of training experiment exp (or an admin) may do this",
    )
    terms = ("training", "site-policy", "exp", "--dataset", "site-a")
    narrowed = hospital(*terms, "--model-owners", "someone-else")
    assert (narrowed.code, narrowed.stderr) == (
        0,
        "training association 1 (dataset site-a): model owners: someone-else; runs per "
        "model: unlimited; expires on: never",
    )
    refused = trainer("training", "approve-site", "exp", "--dataset", "site-a", "--yes")
    assert (refused.code, refused.stderr) == (
        11,
        "error: policy: model owner 'trainer' is not on this dataset's allowlist",
    )
    by_trainer = trainer(*terms, "--anyone")
    assert (by_trainer.code, by_trainer.stderr) == (
        3,
        "error: only the owner of dataset site-a may set its policy",
    )
    assert hospital(*terms, "--anyone").code == 0
    decided = trainer("training", "approve-site", "exp", "--dataset", "site-a", "--yes")
    assert (decided.code, decided.stderr) == (
        0,
        "training association 1 (dataset site-a) is approved",
    )

    with _client(live_server, tmp_path / "host") as client:
        client.training.report_round(1, RoundMetricsCreate(round=1, metrics={"loss": 0.5}))
    with _client(live_server, tmp_path / "hospital") as client:
        site_round = SiteRoundMetricsCreate(dataset_id=dataset.id, round=1, metrics={"loss": 0.4})
        client.training.report_site_round(1, site_round)
    rounds = _json(trainer("training", "rounds", "exp", "--format", "json"))
    assert [(r["round"], r["metrics"]) for r in rounds["rounds"]] == [(1, {"loss": 0.5})]
    assert [(r["dataset"], r["metrics"]) for r in rounds["sites"]] == [("site-a", {"loss": 0.4})]
    host_sees = _json(host("training", "rounds", "exp", "--format", "json"))
    assert (len(host_sees["rounds"]), host_sees["sites"]) == (1, [])
    table = hospital("training", "rounds", "exp")
    assert table.code == 0 and "each site's own" in table.stdout and "0.400" in table.stdout

    left = hospital("training", "revoke-site", "exp", "--dataset", str(dataset.id), "--yes")
    assert (left.code, left.stderr) == (0, "training association 1 (dataset site-a) is revoked")
    again = hospital("training", "join", "exp", "--dataset", str(dataset.id), "--yes")
    assert again.stderr.splitlines() == [
        "training association 1 requested again: pending",
        f"node key kept at {key} (never sent)",
    ]


def test_bad_plans_and_undeclared_keys_register_nothing(
    people: dict[str, Medval], tmp_path: Path
) -> None:
    trainer, host = people["trainer"], people["host"]
    prep, cube = _cubes(people, tmp_path)
    assert host("aggregator", "register", "agg", "--address", "agg.local", "--port", "1").code == 0
    register = ("training", "register", "exp", "--prep", str(prep), "--training-cube", str(cube))
    plan = tmp_path / "plan.yaml"
    plan.write_text("rounds: 2\nmin_sites: 1\nstrategy: FedMagic\n")
    unknown = trainer(*register, "--plan", str(plan), "--aggregator", "agg")
    assert (unknown.code, unknown.stderr) == (
        2,
        f"error: {plan}: strategy: unknown strategy; one of FedAvg, FedProx, FedAdam, FedYogi, "
        "FedAdagrad, FedAvgM, FedMedian, FedTrimmedAvg, Krum, MultiKrum, Bulyan",
    )
    missing_file = trainer(*register, "--plan", str(tmp_path / "nope.yaml"), "--aggregator", "agg")
    assert (missing_file.code, missing_file.stderr) == (
        2,
        f"error: plan file {tmp_path / 'nope.yaml'} does not exist",
    )
    plan.write_text("rounds: 2\nmin_sites: 1\nstrategy: FedProx\nsettings: {proximal-mu: 0.1}\n")
    undeclared = trainer(*register, "--plan", str(plan), "--aggregator", "agg")
    assert (undeclared.code, undeclared.stderr.splitlines()[-1]) == (
        2,
        "error: training cube fedapp does not declare proximal-mu in [tool.flwr.app.config] "
        "of its pyproject.toml; the plan sets it",
    )
    plan.write_text(PLAN)
    no_aggregator = trainer(*register, "--plan", str(plan), "--aggregator", "elsewhere")
    assert (no_aggregator.code, no_aggregator.stderr.splitlines()[-1]) == (
        4,
        "error: no aggregator named 'elsewhere'",
    )
    not_training = trainer(
        "training", "register", "exp", "--prep", str(prep), "--training-cube", str(prep),
        "--plan", str(plan), "--aggregator", "agg",
    )  # fmt: skip
    assert (not_training.code, not_training.stderr.splitlines()[-1]) == (
        2,
        "error: cube prep is a data_preparator cube, not a training cube",
    )
    assert _json(trainer("training", "list", "--format", "json")) == []
    bad_address = host("aggregator", "register", "x", "--address", "no way", "--port", "1")
    assert (bad_address.code, bad_address.stderr) == (
        2,
        "error: address: Value error, 'no way' is neither a host name nor an IP address",
    )
