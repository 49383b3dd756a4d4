"""Fixtures for the runner tests: throwaway cubes and the runners under contract.

Every runner kind in ``RUNNER_FACTORIES`` runs the whole contract suite: ``local``
(bubblewrap), ``docker`` and ``podman`` (marked ``container``). A runner whose tool is
absent or cannot work here fails its tests with the tool's own reason, never skips them.
The suite runs as whoever runs pytest; as root, ``make test`` runs it once more as an
unprivileged user (``tests/runner/as_user.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medval.client.http import MedvalClient
from medval.runner import BubblewrapRunner, DockerRunner, PodmanRunner, Runner
from tests.conftest import LiveServer

from .cubes import Cube, CubeMaker, write_cube
from .engines import ready_docker, ready_podman


def _local_runner(request: pytest.FixtureRequest) -> Runner:
    if shutil.which("bwrap") is None:
        pytest.fail(
            "bubblewrap is not installed: `make test` installs it (apt-get install bubblewrap)"
        )
    return BubblewrapRunner()


def _docker_runner(request: pytest.FixtureRequest) -> Runner:
    runner = request.getfixturevalue("docker_runner")
    assert isinstance(runner, Runner)
    return runner


def _podman_runner(request: pytest.FixtureRequest) -> Runner:
    runner = request.getfixturevalue("podman_runner")
    assert isinstance(runner, Runner)
    return runner


RUNNER_FACTORIES: dict[str, Callable[[pytest.FixtureRequest], Runner]] = {
    "local": _local_runner,
    "docker": _docker_runner,
    "podman": _podman_runner,
}
CONTAINER_KINDS = {"docker", "podman"}


@pytest.fixture(
    params=[
        pytest.param(kind, marks=[pytest.mark.container] if kind in CONTAINER_KINDS else [])
        for kind in sorted(RUNNER_FACTORIES)
    ]
)
def runner(request: pytest.FixtureRequest) -> Runner:
    return RUNNER_FACTORIES[request.param](request)


@pytest.fixture(scope="session")
def docker_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerRunner]:
    yield from ready_docker(tmp_path_factory.mktemp("dockerd"))


@pytest.fixture(scope="session")
def podman_runner() -> PodmanRunner:
    return ready_podman()


@pytest.fixture
def make_cube(tmp_path: Path) -> CubeMaker:
    """``make_cube(script, parameters=None, data_files=None)`` -> a fresh :class:`Cube`."""
    counter = iter(range(1000))

    def make(
        script: str, parameters: str | None = None, data_files: dict[str, str] | None = None
    ) -> Cube:
        return write_cube(tmp_path / f"cube-{next(counter)}", script, parameters, data_files)

    return make


@pytest.fixture
def author(live_server: LiveServer) -> Iterator[MedvalClient]:
    """A client logged in to a real server as an administrator who registers cubes."""
    live_server.make_admin("author", "author-password")
    with MedvalClient(live_server.url) as anonymous:
        token = anonymous.login("author", "author-password").token
    with MedvalClient(live_server.url, token) as client:
        yield client
