"""The aggregator with real Flower processes on loopback: TLS and node authentication on,
only the approved sites admitted, only the Fleet API reachable from outside, and only
the pinned training cube run."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import ssl
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType

import httpx
import numpy as np
import pytest

from medval.core.errors import HashMismatch, InvalidInput
from medval.core.training_plan import TrainingPlan
from medval.training.aggregator import Aggregator
from medval.training.flower_env import FlowerInstall
from medval.training.progress import MetricValue, ProgressEvent, ProgressKind
from medval.training.training_run import PinnedFab

from .conftest import LINAPP
from .flower_sites import Experiment, new_site, supernode, supernode_log, wait_for

pytestmark = pytest.mark.flower


def _linapp_task() -> ModuleType:
    spec = importlib.util.spec_from_file_location("linapp_task", LINAPP / "linapp" / "task.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fedavg_by_hand(rounds: int, sites: int, epochs: int, lr: float, seed: int) -> np.ndarray:
    """The same training without Flower: each round, every site trains from the global
    weights and the new global is their mean weighted by examples (FedAvg)."""
    task = _linapp_task()
    weights = np.zeros(2)
    for _ in range(rounds):
        updates, sizes = [], []
        for partition in range(sites):
            x, y = task.load_partition(partition, seed)
            new, _ = task.train(weights, x, y, epochs, lr)
            updates.append(new)
            sizes.append(len(x))
        weights = np.average(np.array(updates), axis=0, weights=sizes)
    return weights


def test_two_approved_sites_train_two_rounds(
    aggregator: Aggregator,
    experiment: Experiment,
    flower: FlowerInstall,
    linapp_fab: PinnedFab,
    tmp_path: Path,
) -> None:
    sites = [new_site(tmp_path, "hospital-a"), new_site(tmp_path, "hospital-b")]
    synced = aggregator.sync_nodes({site.name: site.public_key for site in sites}, [])
    assert synced.registered == ["hospital-a", "hospital-b"]
    events: list[ProgressEvent] = []
    plan = TrainingPlan(rounds=2, min_sites=2, local_epochs=20, seed=0)
    with (
        supernode(flower, experiment, sites[0], 0, tmp_path),
        supernode(flower, experiment, sites[1], 1, tmp_path),
    ):
        outcome = aggregator.run(plan, linapp_fab, events.append, timeout_seconds=240)

    assert outcome.status == "finished:completed"
    assert outcome.fab_sha256 == linapp_fab.sha256
    assert [round_.round for round_ in outcome.rounds] == [1, 2]
    for round_ in outcome.rounds:
        assert (round_.train_replies, round_.train_failures) == (2, 0)
        assert (round_.evaluate_replies, round_.evaluate_failures) == (2, 0)
        assert set(round_.train) == {"train_loss"}
        assert set(round_.evaluate) == {"eval_loss"}
    first, second = outcome.rounds
    assert _scalar(second.train["train_loss"]) < _scalar(first.train["train_loss"])
    assert _scalar(second.evaluate["eval_loss"]) < _scalar(first.evaluate["eval_loss"])
    kinds = [(event.kind, event.round) for event in events]
    assert kinds == [
        (ProgressKind.RUN_STARTED, 0),
        (ProgressKind.ROUND_STARTED, 1),
        (ProgressKind.TRAIN_AGGREGATED, 1),
        (ProgressKind.EVALUATE_AGGREGATED, 1),
        (ProgressKind.ROUND_STARTED, 2),
        (ProgressKind.TRAIN_AGGREGATED, 2),
        (ProgressKind.EVALUATE_AGGREGATED, 2),
        (ProgressKind.FINISHED, 0),
    ]
    assert events[2].line().startswith("round 1/2: train aggregated from 2 sites (0 failures)")
    assert outcome.final_model.name == "final_model.npy"
    weights = np.load(outcome.final_model)
    expected = _fedavg_by_hand(rounds=2, sites=2, epochs=20, lr=0.1, seed=0)
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-9)


def test_a_site_whose_key_is_not_registered_is_refused(
    aggregator: Aggregator, experiment: Experiment, flower: FlowerInstall, tmp_path: Path
) -> None:
    stranger = new_site(tmp_path, "stranger")
    with supernode(flower, experiment, stranger, 0, tmp_path) as process:
        assert wait_for(lambda: process.poll() is not None, timeout_seconds=60)
    # Flower's exit code 305 (in its log; the process exits 1): activation refused.
    assert process.returncode == 1
    log = supernode_log(tmp_path, stranger).read_text()
    assert "Exit Code: 305" in log
    assert "[code: 2004] Failed to activate SuperNode." in log
    assert "No SuperNode found with the given public key" in aggregator.superlink.log_since_start()
    assert "online" not in aggregator.control.node_states().values()


def test_unregistering_a_site_makes_its_supernode_leave(
    aggregator: Aggregator, experiment: Experiment, flower: FlowerInstall, tmp_path: Path
) -> None:
    site = new_site(tmp_path, "hospital-c")
    synced = aggregator.sync_nodes({site.name: site.public_key})
    assert synced.registered == ["hospital-c"]
    node_id = aggregator.admitted_sites()["hospital-c"].node_id
    with supernode(flower, experiment, site, 0, tmp_path) as process:
        assert wait_for(
            lambda: f"Activated node_id={node_id}" in aggregator.superlink.log_since_start(),
            timeout_seconds=60,
        )
        revoked = aggregator.sync_nodes({}, revoked=["hospital-c"])
        assert revoked.unregistered == ["hospital-c"]
        assert wait_for(lambda: process.poll() is not None, timeout_seconds=30)
    with pytest.raises(InvalidInput) as error:
        aggregator.sync_nodes({site.name: site.public_key})
    assert str(error.value) == (
        "site hospital-c: its node key was revoked before and Flower never admits a key "
        "twice; the site needs a new node key"
    )


def test_the_public_port_answers_only_the_fleet_api(
    aggregator: Aggregator, experiment: Experiment, flower: FlowerInstall, tmp_path: Path
) -> None:
    public = f"https://{experiment.address}"
    trust = ssl.create_default_context(cafile=str(experiment.ca_file))
    with httpx.Client(verify=trust, timeout=10) as client:
        for method, path in [
            ("POST", "/v1/control/list-runs"),
            ("POST", "/v1/control/start-run"),
            ("POST", "/v1/runtime/pull-task-input"),
            ("GET", "/health"),
            ("GET", "/docs"),
            ("POST", "/v1/fleet/register-node?x=1"),
        ]:
            assert client.request(method, public + path).status_code == 404, path
        assert client.get(public + "/v1/fleet/get-run").status_code == 405
        # A Fleet call goes through to the SuperLink, which checks the node's signature.
        protobuf = {"content-type": "application/protobuf"}
        unsigned = client.post(public + "/v1/fleet/get-run", content=b"", headers=protobuf)
        assert unsigned.status_code == 401
    # Flower's own CLI pointed at the public port cannot reach the Control API.
    home = tmp_path / "outsider-flwr-home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[superlink]\ndefault = "outside"\n\n[superlink.outside]\n'
        f'address = "{experiment.address}"\nroot-certificates = "{experiment.ca_file}"\n'
    )
    listed = subprocess.run(
        [flower.command("flwr"), "ls", "--format", "json"],
        env=flower.environment(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert '"success": false' in listed.stdout, listed.stdout
    # And the SuperLink itself listens on loopback only.
    assert aggregator.superlink.address.startswith("127.0.0.1:")
    port = aggregator.superlink.port
    assert _listening_addresses(port) == {"127.0.0.1"}


def test_a_training_cube_with_one_byte_changed_is_refused_before_running(
    aggregator: Aggregator, linapp_fab: PinnedFab, tmp_path: Path
) -> None:
    tampered = tmp_path / linapp_fab.path.name
    data = bytearray(linapp_fab.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    runs = aggregator.workdir / "runs"
    before = sorted(runs.iterdir()) if runs.exists() else []
    with pytest.raises(HashMismatch) as error:
        aggregator.run(TrainingPlan(rounds=1, min_sites=1), PinnedFab(tampered, linapp_fab.sha256))
    assert str(error.value).startswith(
        f"training cube {tampered.name} does not match its registered hash (registered "
        f"sha256 {linapp_fab.sha256[:12]}..., found "
    )
    after = sorted(runs.iterdir()) if runs.exists() else []
    assert after == before


def _scalar(value: MetricValue) -> float:
    assert isinstance(value, float)
    return value


def _listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on ``port`` (from /proc/net/tcp)."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(_decode(address))
    return found


def _decode(hex_address: str) -> str:
    if len(hex_address) == 8:
        return ".".join(str(int(hex_address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return hex_address  # IPv6: shown raw; any such entry fails the loopback assertion


def test_a_fab_flower_would_not_build_so_is_refused_before_running(
    aggregator: Aggregator, linapp_fab: PinnedFab, tmp_path: Path
) -> None:
    # The same files zipped by hand (other dates): pinned as it is, but `flwr run` would
    # submit Flower's own build of them, which is another FAB.
    repacked = tmp_path / "repacked.fab"
    with zipfile.ZipFile(linapp_fab.path) as source, zipfile.ZipFile(repacked, "w") as target:
        for entry in source.infolist():
            target.writestr(
                zipfile.ZipInfo(entry.filename, (2030, 1, 1, 0, 0, 0)), source.read(entry)
            )
    pinned = PinnedFab(repacked, hashlib.sha256(repacked.read_bytes()).hexdigest())
    with pytest.raises(HashMismatch) as error:
        aggregator.run(TrainingPlan(rounds=1, min_sites=1), pinned)
    assert str(error.value) == (
        f"training cube repacked.fab does not rebuild to its registered hash (Flower builds "
        f"{linapp_fab.sha256[:12]}...; registered {pinned.sha256[:12]}...)"
    )


def test_an_interrupted_run_is_stopped_at_the_superlink(
    aggregator: Aggregator, linapp_fab: PinnedFab
) -> None:
    started: list[int] = []

    def interrupt(event: ProgressEvent) -> None:
        if event.kind is ProgressKind.RUN_STARTED:
            started.append(event.run_id)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        aggregator.run(TrainingPlan(rounds=1, min_sites=1), linapp_fab, interrupt)
    assert started
    assert wait_for(
        lambda: aggregator.control.run_status(started[0]).status.startswith("finished:"),
        timeout_seconds=120,
        every=2,
    )
    assert aggregator.control.run_status(started[0]).status == "finished:stopped"

    def run_processes() -> list[int]:
        return [
            pid
            for pid in _processes_below(os.getpid())
            if "flwr run" in _command_line(pid) or "flwr-serverapp" in _command_line(pid)
        ]

    # Flower's ServerApp sees its run stopped and exits (within a second or two here).
    assert wait_for(lambda: not run_processes(), timeout_seconds=30), run_processes()


def _processes_below(root: int) -> list[int]:
    below = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != root:
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) == root:
                below.append(int(entry.name))
                below.extend(_processes_below(int(entry.name)))
    return below


def _command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
