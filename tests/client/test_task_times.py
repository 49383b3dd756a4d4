"""Each cube task's time in its sandbox, by the runner's clock, is kept beside its log
(``client.task_times``); ``medval demo`` adds them up."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.task_times import TaskTime, read_task_times, task_time_paths
from medval.client.workspace import Workspace
from medval.core.cube_spec import CubeSpec
from medval.core.errors import InvalidInput
from medval.core.gpus import GpuDevices
from medval.core.hashing import pack_directory, sha256_bytes
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage
from medval.runner import Limits, Runner, TaskInvocation, TaskRun

MODEL = """\
container_type: DockerImage
image: example/model:0.1
tasks:
  infer:
    input_volumes:
      data_path: {mount_path: /volumes/data, type: directory}
    output_volumes:
      output_path: {mount_path: /volumes/predictions, type: directory}
"""


class TimedRunner(Runner):
    """Runs nothing; says each task took ``seconds`` by its clock."""

    kind = "timed"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def run(
        self,
        cube_folder: Path,
        spec: CubeSpec,
        task: str,
        mounts: Mapping[str, Path],
        limits: Limits | None = None,
        log_path: Path | None = None,
        image: str | None = None,
        gpus: GpuDevices | None = None,
    ) -> TaskRun:
        return TaskRun(spec.name, task, 0, self.seconds, (), log_path)

    def execute(self, invocation: TaskInvocation, limits: Limits, log_path: Path | None) -> TaskRun:
        raise AssertionError("run is replaced")


def _executor(tmp_path: Path, seconds: float) -> tuple[Executor, CubePublic, Workspace]:
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / "container_config.yaml").write_text(MODEL)
    archive = pack_directory(folder)
    workspace = Workspace(tmp_path / "home")
    workspace.cubes_dir.mkdir(parents=True)
    workspace.cube_archive(sha256_bytes(archive)).write_bytes(archive)
    cube = CubePublic(
        id=7, name="model-a", kind=CubeKind.MODEL, archive_hash=sha256_bytes(archive),
        owner_id=1, owner="vendor", stage=Stage.OPERATION, created_at=datetime.now(UTC),
    )  # fmt: skip
    client = MedvalClient("http://127.0.0.1:9")  # never asked: the archive is cached
    return Executor(client, workspace, TimedRunner(seconds), Limits()), cube, workspace


def test_a_task_run_keeps_the_runners_time_beside_its_log(tmp_path: Path) -> None:
    executor, cube, workspace = _executor(tmp_path, 1.25)
    mounts = {"data_path": tmp_path / "data", "output_path": tmp_path / "out"}
    executor.run_task(cube, "infer", mounts)
    executor.run_task(cube, "infer", mounts)
    paths = task_time_paths(workspace)
    assert read_task_times(paths) == [TaskTime(cube_id=7, task="infer", seconds=1.25)] * 2
    logs = sorted(workspace.logs_dir.glob("*.log"))
    assert [path.with_suffix(".json") for path in logs] == paths


def test_a_workspace_without_logs_has_no_task_times(tmp_path: Path) -> None:
    assert task_time_paths(Workspace(tmp_path)) == []


def test_a_damaged_task_time_is_one_line_naming_it(tmp_path: Path) -> None:
    damaged = tmp_path / "20250101-000000-7-infer-x.json"
    damaged.write_text('{"cube_id": 7, "task": "infer"}')
    with pytest.raises(InvalidInput) as caught:
        read_task_times([damaged])
    assert str(caught.value) == (f"{damaged} is damaged (ValidationError); remove it to start over")
