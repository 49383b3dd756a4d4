"""Who may read a cube's inputs in a container: the cube's uid, checked before the run.

As root, a container's cube runs as uid 65534: code or inputs it cannot read are named in
one line before the run. As an ordinary user, the cube is that user, so a folder only its
owner may read is read all the same.
"""

from __future__ import annotations

import os

import pytest

from medval.core.errors import SandboxError
from medval.runner.interface import Limits
from tests.runner.conftest import RUNNER_FACTORIES, CubeMaker

pytestmark = [pytest.mark.sandbox, pytest.mark.container]


@pytest.mark.parametrize("kind", ["docker", "podman"])
def test_an_input_only_its_owner_may_read(
    kind: str, request: pytest.FixtureRequest, make_cube: CubeMaker
) -> None:
    runner = RUNNER_FACTORIES[kind](request)
    cube = make_cube("report(sorted(os.listdir(args['data_path'])))", data_files={"a.csv": "x"})
    cube.mounts["data_path"].chmod(0o700)
    if os.getuid() == 0:
        with pytest.raises(SandboxError, match=r"cannot read input 'data_path'.*chmod -R o\+rX"):
            runner.run(cube.folder, cube.spec, "infer", cube.mounts, Limits(timeout_seconds=60))
        assert not (cube.output / "report.json").exists()
        cube.mounts["data_path"].chmod(0o755)
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, Limits(timeout_seconds=60))
    assert cube.report() == ["a.csv"]
