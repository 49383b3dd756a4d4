"""Many virtual sites on one machine: a training cube on Flower's simulation engine.

One ``flower-superlink --simulation`` on a free loopback port (insecure: it listens on
127.0.0.1 only and lives as long as the simulation), run-time dependency installation off,
Ray's usage statistics off. The pinned app is submitted as every medval run is
(``training_run``: the directory unpacked from the pinned FAB, the plan's run config) with
Flower's federation config ``num-supernodes=N``: Flower makes N virtual SuperNodes, each
with the node config ``partition-id``/``num-partitions``, and the app takes its share of
the prepared dataset named by the run config's ``simulation-data-path``.

A round's seconds, as each round ends, are the time between Flower's ``[ROUND k/R]``
lines as ``flwr run --stream`` relays them (the last round ends at "Strategy execution
finished"): Flower uploads and relays its logs in batches (every 0.2 s and 0.5 s), so a
short round can show as 0 s. When the app's ServerApp times its rounds itself (its
``[tool.medval.training] metrics`` file gives ``rounds.<k>.seconds``), the outcome's rounds
carry those instead, and say so. Every process started here is stopped on the way out,
on Ctrl-C too. Imports ``medval.core`` and ``medval.training`` only.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from importlib.util import find_spec
from pathlib import Path

from medval.core.errors import InvalidInput, TrainingError
from medval.core.training_plan import TrainingPlan
from medval.training.app import read_fab_app
from medval.training.control import Control
from medval.training.flower_env import FlowerInstall
from medval.training.processes import free_port, start_process
from medval.training.progress import ProgressEvent, ProgressKind, RoundMetrics
from medval.training.superlink import CONNECTION_NAME, LOOPBACK, SuperLink
from medval.training.training_run import PinnedFab, TrainingOutcome, TrainingRun, prepare_run

SIMULATION_DATA_KEY = "simulation-data-path"
SIMULATION_HINT = "pip install 'medval[simulation]'"
# Each virtual site asks Ray for one CPU: as many run at once as the machine has cores.
CPUS_PER_SITE = 1


@dataclass(frozen=True)
class SimulatedRound:
    """One round as the strategy reported it, and how long it took."""

    metrics: RoundMetrics
    seconds: float


@dataclass(frozen=True)
class SimulationOutcome:
    run: TrainingOutcome
    rounds: list[SimulatedRound]
    clock: str  # what timed the rounds: SERVERAPP_CLOCK or RELAY_CLOCK


SERVERAPP_CLOCK = "serverapp"
RELAY_CLOCK = "log relay"


RoundCallback = Callable[[SimulatedRound, int], None]


def require_simulation_engine() -> None:
    """Flower's simulation engine needs Ray (``flwr[simulation]``); else one line."""
    if find_spec("ray") is None:
        raise InvalidInput(
            f"Flower's simulation engine needs Ray, which is not installed: {SIMULATION_HINT}"
        )


class SimulationSuperLink(SuperLink):
    """``flower-superlink --simulation``: insecure, on loopback only, state in memory."""

    @property
    def environment(self) -> dict[str, str]:
        return {**super().environment, "RAY_USAGE_STATS_ENABLED": "0"}

    def start(self, timeout_seconds: float = 60.0) -> SimulationSuperLink:
        layout = self.layout
        for directory in (layout.flwr_home, layout.serverapp_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port(LOOPBACK)
        (layout.flwr_home / "config.toml").write_text(
            f'[superlink]\ndefault = "{CONNECTION_NAME}"\n\n'
            f'[superlink.{CONNECTION_NAME}]\naddress = "{self.address}"\ninsecure = true\n'
        )
        argv = [
            self.flower.command("flower-superlink"),
            "--simulation",
            "--insecure",
            "--disable-runtime-dependency-installation",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
        ]
        self._log_start = layout.log.stat().st_size if layout.log.exists() else 0
        self._process = start_process(argv, self.environment, layout.serverapp_dir, layout.log)
        deadline = time.monotonic() + timeout_seconds
        while not (_answers(self.port) and self._started_superexec()):
            process = self._process
            if process is None or process.poll() is not None:
                self._process = None
                raise TrainingError(
                    f"the simulation's SuperLink exited while starting: {self.last_log_line()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TrainingError(
                    f"the simulation's SuperLink did not start within {timeout_seconds:.0f} "
                    f"s: {self.last_log_line()}"
                )
            time.sleep(0.2)
        return self


class RoundClock:
    """Times each round from the progress events, and tells ``on_round`` as each ends."""

    def __init__(self, on_round: RoundCallback | None) -> None:
        self.rounds: list[SimulatedRound] = []
        self._on_round = on_round
        self._started: tuple[int, float] | None = None
        self._total = 0
        self._by_round: dict[int, RoundMetrics] = {}

    def follow(self, by_round: dict[int, RoundMetrics]) -> Callable[[ProgressEvent], None]:
        self._by_round = by_round

        def on_progress(event: ProgressEvent) -> None:
            now = time.monotonic()
            if event.kind is ProgressKind.ROUND_STARTED:
                self._end_round(now)
                self._started, self._total = (event.round, now), event.rounds
            elif event.kind is ProgressKind.FINISHED:
                self._end_round(now)

        return on_progress

    def _end_round(self, now: float) -> None:
        if self._started is None:
            return
        number, began = self._started
        self._started = None
        done = SimulatedRound(self._by_round.get(number, RoundMetrics(number)), now - began)
        self.rounds.append(done)
        if self._on_round is not None:
            self._on_round(done, self._total)


def simulate(
    flower: FlowerInstall,
    fab: PinnedFab,
    plan: TrainingPlan,
    data: Path,
    sites: int,
    workdir: Path,
    on_round: RoundCallback | None = None,
    timeout_seconds: float | None = None,
) -> SimulationOutcome:
    """Run the pinned app over ``sites`` virtual sites sharing the prepared ``data``."""
    extra: Mapping[str, str] = {SIMULATION_DATA_KEY: str(data)}
    superlink = SimulationSuperLink(flower, workdir / "superlink")
    superlink.start()
    try:
        control = Control(flower, superlink.layout.flwr_home)
        app_dir = prepare_run(fab, plan, workdir / "run", superlink, extra)
        options = [
            "--federation-config",
            f"num-supernodes={sites} client-resources-num-cpus={CPUS_PER_SITE}",
        ]
        app = read_fab_app(fab.path)
        run = TrainingRun(superlink, control, app, plan.rounds, options)
        clock = RoundClock(on_round)
        outcome = run.follow(app_dir, fab, clock.follow(run.reader.by_round), timeout_seconds)
    finally:
        superlink.stop()
    metrics = superlink.layout.serverapp_dir / app.metrics if app.metrics else None
    timed = serverapp_seconds(metrics, outcome.final_model.parent, clock.rounds)
    if timed is None:
        return SimulationOutcome(outcome, clock.rounds, RELAY_CLOCK)
    return SimulationOutcome(outcome, timed, SERVERAPP_CLOCK)


def serverapp_seconds(
    metrics: Path | None, keep_in: Path, rounds: list[SimulatedRound]
) -> list[SimulatedRound] | None:
    """The rounds timed by the ServerApp's own clock, when its metrics file (``[tool.medval
    .training] metrics``) gives ``rounds.<k>.seconds`` for each; the file is kept beside
    the final model. None when it does not."""
    if metrics is None or not metrics.is_file():
        return None
    kept = keep_in / metrics.name
    shutil.move(metrics, kept)
    try:
        document = json.loads(kept.read_text(encoding="utf-8"))
        seconds = [float(document["rounds"][str(r.metrics.round)]["seconds"]) for r in rounds]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [replace(r, seconds=s) for r, s in zip(rounds, seconds, strict=True)]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=2):
            return True
    except OSError:
        return False
