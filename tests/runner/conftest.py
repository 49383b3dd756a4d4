"""Fixtures for the runner tests: throwaway cubes and the runners under contract.

Every runner kind in ``RUNNER_FACTORIES`` runs the whole contract suite; a Docker or
Podman runner joins by adding one entry (and a skip when its tool is absent).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from medval.runner import BubblewrapRunner, Runner

from .cubes import Cube, CubeMaker, write_cube


def _local_runner() -> Runner:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    return BubblewrapRunner()


RUNNER_FACTORIES: dict[str, Callable[[], Runner]] = {
    "local": _local_runner,
}


@pytest.fixture(params=sorted(RUNNER_FACTORIES))
def runner(request: pytest.FixtureRequest) -> Runner:
    return RUNNER_FACTORIES[request.param]()


@pytest.fixture
def make_cube(tmp_path: Path) -> CubeMaker:
    """``make_cube(script, parameters=None, data_files=None)`` -> a fresh :class:`Cube`."""
    counter = iter(range(1000))

    def make(
        script: str, parameters: str | None = None, data_files: dict[str, str] | None = None
    ) -> Cube:
        return write_cube(tmp_path / f"cube-{next(counter)}", script, parameters, data_files)

    return make
