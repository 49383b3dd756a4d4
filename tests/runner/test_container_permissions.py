"""As root, a container's cube runs as uid 65534: unreadable code or inputs are one line."""

from __future__ import annotations

import os

import pytest

from medval.core.errors import SandboxError
from medval.runner.interface import Limits
from tests.runner.conftest import RUNNER_FACTORIES, CubeMaker

pytestmark = [pytest.mark.sandbox, pytest.mark.container]


@pytest.mark.parametrize("kind", ["docker", "podman"])
def test_an_input_the_sandbox_user_cannot_read_is_named_before_the_run(
    kind: str, request: pytest.FixtureRequest, make_cube: CubeMaker
) -> None:
    if os.getuid() != 0:
        pytest.skip("only a root client runs cubes as another uid (65534); here it is not root")
    runner = RUNNER_FACTORIES[kind](request)
    cube = make_cube("report('ran')")
    cube.mounts["data_path"].chmod(0o700)
    with pytest.raises(SandboxError, match=r"cannot read input 'data_path'.*chmod -R o\+rX"):
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, Limits(timeout_seconds=60))
    cube.mounts["data_path"].chmod(0o755)
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, Limits(timeout_seconds=60))
    assert cube.report() == "ran"
