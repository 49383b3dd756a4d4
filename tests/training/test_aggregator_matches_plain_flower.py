"""The demo's training cube through medval's aggregator (TLS, SuperNode authentication, the
fleet gate, the pinned FAB, the plan as run configuration) trains the model plain Flower
trains: the same final weights within 1e-6 (issue 11). Its privacy settings work through
it too: SecAgg+ keeps the mean, and differential privacy reports the epsilon the data owner
was shown before joining."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

from medval.core.training_plan import TrainingPlan, plan_from_document
from medval.demo.federated import (
    central_final_model,
    final_weights,
)
from medval.training.aggregator import Aggregator
from medval.training.app import build_fab
from medval.training.flower_env import FlowerInstall
from medval.training.privacy import epsilon
from medval.training.progress import ProgressEvent, ProgressKind
from medval.training.training_run import PinnedFab, TrainingOutcome
from tests.training.plain_flower import TRAINING_METRICS, run_plain_flower

from .flower_sites import Experiment, new_site, supernode

pytestmark = pytest.mark.flower


@pytest.fixture(scope="module")
def cube_fab(
    cube: Path, flower: FlowerInstall, tmp_path_factory: pytest.TempPathFactory
) -> PinnedFab:
    built = build_fab(cube, tmp_path_factory.mktemp("fab"), flower)
    return PinnedFab(built.path, built.sha256)


@pytest.fixture
def fresh_aggregator(
    experiment: Experiment, flower: FlowerInstall, tmp_path: Path
) -> Iterator[Aggregator]:
    """An aggregator of its own per test: a site that left in an earlier test is not
    still counted online (Flower sees a gone SuperNode offline only after its heartbeat
    times out)."""
    with Aggregator(experiment.settings(tmp_path / "aggregator"), flower) as started:
        yield started


def _train(
    aggregator: Aggregator,
    experiment: Experiment,
    flower: FlowerInstall,
    fab: PinnedFab,
    plan: TrainingPlan,
    data: list[Path],
    directory: Path,
) -> tuple[TrainingOutcome, list[ProgressEvent], dict[str, object]]:
    directory.mkdir(parents=True)
    sites = [new_site(directory, f"site-{index}") for index in range(len(data))]
    synced = aggregator.sync_nodes({site.name: site.public_key for site in sites})
    assert len(synced.registered) == len(sites)
    events: list[ProgressEvent] = []
    with ExitStack() as running:
        for site, folder in zip(sites, data, strict=True):
            running.enter_context(supernode(flower, experiment, site, 0, directory, folder))
        outcome = aggregator.run(plan, fab, events.append, timeout_seconds=400)
    written = aggregator.superlink.layout.serverapp_dir / TRAINING_METRICS
    return outcome, events, json.loads(written.read_text())


def test_medval_s_aggregator_trains_the_model_plain_flower_trains(
    fresh_aggregator: Aggregator,
    experiment: Experiment,
    flower: FlowerInstall,
    cube: Path,
    cube_fab: PinnedFab,
    prepared: list[Path],
    tmp_path: Path,
) -> None:
    plan = TrainingPlan(rounds=2, min_sites=2, local_epochs=2, seed=11)
    outcome, events, _ = _train(
        fresh_aggregator, experiment, flower, cube_fab, plan, prepared[:2], tmp_path / "medval"
    )
    assert [round_.round for round_ in outcome.rounds] == [1, 2]
    assert all(round_.train_replies == 2 for round_ in outcome.rounds)
    assert events[-1].kind is ProgressKind.FINISHED
    plain = run_plain_flower(cube, prepared[:2], tmp_path / "plain", plan.run_config())
    under_medval = final_weights(outcome.final_model)
    gap = float(np.max(np.abs(under_medval - plain.weights)))
    print(f"medval's aggregator against plain Flower: largest weight difference {gap:.3g}")
    assert gap < 1e-6, (under_medval, plain.weights)
    assert np.max(np.abs(under_medval)) > 1e-3  # it did move from zero


def test_secure_aggregation_through_medval_s_aggregator_keeps_the_mean(
    fresh_aggregator: Aggregator,
    experiment: Experiment,
    flower: FlowerInstall,
    cube: Path,
    cube_fab: PinnedFab,
    prepared: list[Path],
    tmp_path: Path,
) -> None:
    plan = plan_from_document(
        {
            "rounds": 1,
            "min_sites": 3,
            "secure_aggregation": {"num_shares": 3, "reconstruction_threshold": 2},
        },
        "plan.yaml",
    )
    outcome, events, metrics = _train(
        fresh_aggregator, experiment, flower, cube_fab, plan, prepared, tmp_path / "medval"
    )
    assert metrics["secure_aggregation"] is True
    # Flower's SecAgg+ workflow logs its rounds its own way: progress still follows them.
    assert [round_.round for round_ in outcome.rounds] == [1]
    assert (outcome.rounds[0].train_replies, outcome.rounds[0].train_failures) == (3, 0)
    assert "train-loss" in outcome.rounds[0].train  # from the History at the end
    assert [event.kind for event in events].count(ProgressKind.TRAIN_AGGREGATED) == 1
    central = final_weights(central_final_model(cube, prepared, tmp_path / "central.npz", 1))
    gap = np.max(np.abs(final_weights(outcome.final_model) - central))
    assert 0 < gap < 1e-5  # SecAgg+ quantises each update: close, not exact


def test_differential_privacy_through_medval_s_aggregator_spends_the_epsilon_shown(
    fresh_aggregator: Aggregator,
    experiment: Experiment,
    flower: FlowerInstall,
    cube_fab: PinnedFab,
    prepared: list[Path],
    tmp_path: Path,
) -> None:
    plan = plan_from_document(
        {
            "rounds": 2,
            "min_sites": 2,
            "differential_privacy": {"noise_multiplier": 1.2, "clipping_norm": 0.01, "delta": 1e-6},
        },
        "plan.yaml",
    )
    outcome, _, metrics = _train(
        fresh_aggregator, experiment, flower, cube_fab, plan, prepared[:2], tmp_path / "medval"
    )
    assert [round_.round for round_ in outcome.rounds] == [1, 2]
    privacy = metrics["privacy"]
    assert isinstance(privacy, dict)
    assert (privacy["differential_privacy"], privacy["rounds_released"]) == (True, 2)
    assert privacy["delta"] == 1e-6  # the plan's delta reached the app
    shown = epsilon(plan)
    assert shown is not None
    assert abs(privacy["epsilon"] - shown) <= 1e-9 * shown, (privacy["epsilon"], shown)
