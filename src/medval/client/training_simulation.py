"""Sizing a training experiment on one machine: the use case behind ``medval training
simulate``.

A committee runs a registered experiment's pinned training cube over N virtual sites made
from partitions of one prepared dataset, before asking hospitals to join: the experiment
and its plan come from the server (``--rounds`` may shorten or lengthen it), the cube is
fetched and its hash checked before it is unpacked, the data is a prepared dataset of this
workspace (its hash checked again, and prepared with the experiment's preparation cube) or
a prepared folder given as it is. The cube must declare ``simulation-data-path`` in its
``[tool.flwr.app.config]``: that key is how a virtual site finds the data it shares. The
run itself is :func:`medval.training.simulation.simulate`: Flower's simulation engine.
Nothing is sent to the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from medval.client.datasets import verify_prepared
from medval.client.execution import Executor
from medval.client.training_cubes import unpacked_training_cube
from medval.client.training_experiments import find_experiment
from medval.core.errors import HashMismatch, InvalidInput
from medval.core.training_plan import TrainingPlan, plan_from_document
from medval.training.app import build_fab
from medval.training.flower_env import find_flower
from medval.training.progress import MetricValue
from medval.training.simulation import (
    SIMULATION_DATA_KEY,
    SimulatedRound,
    require_simulation_engine,
    simulate,
)
from medval.training.training_run import PinnedFab

RoundSaid = Callable[[SimulatedRound, int], None]


@dataclass(frozen=True)
class SimulationRequest:
    """What to simulate: ``dataset`` (a prepared dataset's name here) or ``data`` (a
    prepared folder), exactly one; ``rounds`` None keeps the plan's."""

    experiment: str
    sites: int
    output: Path
    dataset: str | None = None
    data: Path | None = None
    rounds: int | None = None


class SimulationRound(BaseModel):
    round: int
    sites: int
    failures: int
    seconds: float
    train: dict[str, MetricValue]
    evaluate: dict[str, MetricValue]


class SimulationResult(BaseModel):
    experiment: str
    training_cube: str
    training_cube_sha256: str
    sites: int
    data: str
    rounds: list[SimulationRound]
    timed_by: str
    seconds: float
    final_model: str
    final_model_sha256: str


def check_request(request: SimulationRequest) -> None:
    """What can be refused before anything is fetched; one line each."""
    if request.sites < 1:
        raise InvalidInput(f"--sites must be at least 1, not {request.sites}")
    if request.rounds is not None and request.rounds < 1:
        raise InvalidInput(f"--rounds must be at least 1, not {request.rounds}")
    if (request.dataset is None) == (request.data is None):
        raise InvalidInput("give the data to split: --dataset NAME or --data FOLDER")
    if request.output.exists() and (not request.output.is_dir() or any(request.output.iterdir())):
        raise InvalidInput(f"--output {request.output} is not empty; give a new folder")


def simulate_experiment(
    executor: Executor, request: SimulationRequest, on_round: RoundSaid | None = None
) -> SimulationResult:
    check_request(request)
    require_simulation_engine()
    flower = find_flower()
    client = executor.client
    experiment = find_experiment(client, request.experiment)
    plan = _plan(experiment.plan, request.rounds)
    if request.sites < plan.min_sites:
        raise InvalidInput(
            f"training experiment {experiment.name} needs at least {plan.min_sites} sites per "
            f"round; simulate {plan.min_sites} or more"
        )
    data = _data(executor, request, experiment.data_preparator_id)
    cube = client.cube(experiment.training_cube_id)
    started = time.monotonic()
    with unpacked_training_cube(executor, cube) as (app_dir, app):
        if SIMULATION_DATA_KEY not in app.declared_keys:
            raise InvalidInput(
                f"training cube {cube.name} cannot be simulated: it declares no "
                f"{SIMULATION_DATA_KEY} in [tool.flwr.app.config]"
            )
        built = build_fab(app_dir, request.output / "fab", flower)
    fab = PinnedFab(built.path, built.sha256)
    done = simulate(flower, fab, plan, data, request.sites, request.output, on_round)
    return SimulationResult(
        experiment=experiment.name,
        training_cube=cube.name,
        training_cube_sha256=cube.archive_hash,
        sites=request.sites,
        data=str(data),
        rounds=[_round(r) for r in done.rounds],
        timed_by=done.clock,
        seconds=round(time.monotonic() - started, 3),
        final_model=str(done.run.final_model),
        final_model_sha256=done.run.final_model_sha256,
    )


def _plan(plan: TrainingPlan, rounds: int | None) -> TrainingPlan:
    if rounds is None:
        return plan
    return plan_from_document({**plan.model_dump(mode="json"), "rounds": rounds}, "--rounds")


def _data(executor: Executor, request: SimulationRequest, preparator_id: int) -> Path:
    """The prepared data the virtual sites split, checked."""
    if request.data is not None:
        folder = request.data.resolve()
        if not folder.is_dir():
            raise InvalidInput(f"--data {request.data} is not a folder")
        return folder
    assert request.dataset is not None
    local = executor.workspace.dataset(request.dataset)
    preparator = executor.client.cube(preparator_id)
    if preparator.archive_hash != local.data_preparator_hash:
        raise HashMismatch(
            f"dataset {local.name} was prepared with another preparation cube than the "
            f"experiment uses ({preparator.name})"
        )
    verify_prepared(executor, local)
    return executor.workspace.dataset_dir(local.name).resolve()


def _round(simulated: SimulatedRound) -> SimulationRound:
    metrics = simulated.metrics
    return SimulationRound(
        round=metrics.round,
        sites=metrics.train_replies,
        failures=metrics.train_failures,
        seconds=round(simulated.seconds, 3),
        train=metrics.train,
        evaluate=metrics.evaluate,
    )
