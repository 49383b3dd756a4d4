"""Fixtures for the training tests: Flower as installed, the tiny app's FAB, an
experiment's certificates, and a running aggregator.

Tests marked ``flower`` start real Flower processes on loopback. Flower missing fails
them with the reason (``pip install 'medval[training]'``), never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medval.core.errors import InvalidInput
from medval.demo.federated import build_training_cube, write_prepared_site
from medval.training.aggregator import Aggregator
from medval.training.app import build_fab
from medval.training.flower_env import FlowerInstall, find_flower
from medval.training.training_run import PinnedFab

from .flower_sites import Experiment, new_experiment

LINAPP = Path(__file__).parent / "apps" / "linapp"


@pytest.fixture(scope="session")
def flower() -> FlowerInstall:
    try:
        return find_flower()
    except InvalidInput as reason:
        pytest.fail(str(reason))


@pytest.fixture(scope="session")
def linapp_fab(flower: FlowerInstall, tmp_path_factory: pytest.TempPathFactory) -> PinnedFab:
    built = build_fab(LINAPP, tmp_path_factory.mktemp("fab"), flower)
    return PinnedFab(built.path, built.sha256)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Experiment:
    return new_experiment(tmp_path_factory.mktemp("experiment"))


@pytest.fixture(scope="module")
def aggregator(
    experiment: Experiment, flower: FlowerInstall, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Aggregator]:
    workdir = tmp_path_factory.mktemp("aggregator")
    with Aggregator(experiment.settings(workdir), flower) as started:
        yield started


# The demo's training cube and three hospitals' prepared data, as the tests comparing
# medval's aggregator with plain Flower (and plain Flower with central training) use them.
THREE_SITES = ("rotterdam-1986-87", "gbsg", "rotterdam-1988-89")


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_training_cube(tmp_path_factory.mktemp("cubes"))


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("prepared")
    return [write_prepared_site(name, root / name) for name in THREE_SITES]
