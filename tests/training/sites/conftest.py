"""Fixtures for the site's tests: a plain Flower aggregator, prepared datasets, sites.

Every site is killed (its process groups whole) at the end of its test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medval.runner import DockerRunner, PodmanRunner, Runner, runner_for
from medval.training.site import Site, SiteSetup
from tests.runner.engines import ready_docker, ready_podman

from .aggregator import PlainAggregator, started_aggregator
from .harness import CLIENTAPP_LIMITS, LINEAR, Progress, SiteUnderTest, fab_sha256, write_dataset
from .pki import ExperimentPki, make_pki


@pytest.fixture
def pki(tmp_path: Path) -> ExperimentPki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def aggregator(tmp_path: Path, pki: ExperimentPki) -> Iterator[PlainAggregator]:
    yield from started_aggregator(tmp_path / "aggregator", pki)


@pytest.fixture(scope="session")
def docker_for_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerRunner]:
    """Docker for a site's ClientApps: its Python image holds Flower."""
    yield from ready_docker(tmp_path_factory.mktemp("dockerd"), python_packages=("flwr",))


@pytest.fixture(scope="session")
def podman_for_sites() -> PodmanRunner:
    return ready_podman(python_packages=("flwr",))


@pytest.fixture(
    params=[
        "local",
        pytest.param("docker", marks=pytest.mark.container),
        pytest.param("podman", marks=pytest.mark.container),
    ]
)
def site_runner(request: pytest.FixtureRequest) -> Runner:
    """Each runner a site may hold its ClientApps in (the engines' images made first)."""
    if request.param == "docker":
        docker: Runner = request.getfixturevalue("docker_for_sites")
        return docker
    if request.param == "podman":
        podman: Runner = request.getfixturevalue("podman_for_sites")
        return podman
    return runner_for("local")


@pytest.fixture
def make_site(
    tmp_path: Path, pki: ExperimentPki, aggregator: PlainAggregator
) -> Iterator[Callable[..., SiteUnderTest]]:
    made: list[Site] = []

    def make(
        name: str, partition: int, app: Path = LINEAR, register: bool = True, **changes: object
    ) -> SiteUnderTest:
        key, public = pki.site_key(tmp_path, name)
        if register:
            aggregator.register(public)
        progress = Progress()
        setup = SiteSetup(
            workdir=tmp_path / "sites" / name,
            aggregator=aggregator.address,
            ca_certificate=pki.ca_certificate,
            node_private_key=key,
            dataset=write_dataset(tmp_path / "datasets" / name, partition),
            training_app_sha256=fab_sha256(app),
            runner=runner_for("local"),
            limits=CLIENTAPP_LIMITS,
        )
        site = Site(dataclasses.replace(setup, **changes), progress)
        made.append(site)
        return SiteUnderTest(site, progress, public)

    yield make
    for site in made:
        site.kill()
