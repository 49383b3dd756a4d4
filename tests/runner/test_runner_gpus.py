"""GPUs in the sandbox: each runner gives a task the run's GPUs by its own means, and a
cube that declares no GPU gets none.

This machine has no GPU. The local runner is checked for real with fake device files
(regular files named like NVIDIA's, bound read-write where the device nodes would be):
exactly those appear in the sandbox's ``/dev``, writes reach the host's file, and
nothing else of ``/dev`` is added. Docker and Podman hand GPUs to NVIDIA's own runtime
hook or CDI specification, which fake files cannot stand in for: their options are
checked as the arguments each engine is given.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from medval.core.gpus import GpuDevices, GpuNeed, GpuRequest, find_gpus
from medval.runner import BubblewrapRunner, DockerRunner, Limits, PodmanRunner
from medval.runner.docker import docker_gpu_arguments
from medval.runner.identity import Identity
from medval.runner.invocation import plan_invocation
from medval.runner.podman import podman_gpu_arguments

from .cubes import Cube, CubeMaker

FAST = Limits(timeout_seconds=30, memory_bytes=1 << 30)

PROBE = """
def probe(path):
    if not os.path.exists(path):
        return "absent"
    try:
        with open(path, "r+b") as handle:
            handle.write(b"written by the task")
        return "read-write"
    except OSError as exc:
        return type(exc).__name__
names = ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm")
report({
    "devices": {name: probe("/dev/" + name) for name in names},
    "dev": sorted(os.listdir("/dev")),
})
"""


@pytest.fixture
def devices(tmp_path: Path) -> Path:
    root = tmp_path / "fake-dev"
    root.mkdir()
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "video0"):
        (root / name).write_bytes(b"")
        (root / name).chmod(0o666)  # as the driver makes them
    return root


def _local() -> BubblewrapRunner:
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is not installed: apt-get install bubblewrap")
    return BubblewrapRunner()


def _gpu_cube(make_cube: CubeMaker, need: GpuNeed) -> Cube:
    cube = make_cube(PROBE)
    cube.spec = dataclasses.replace(cube.spec, gpu=need)
    return cube


@pytest.mark.sandbox
def test_the_local_runner_binds_exactly_the_chosen_device_files_read_write(
    make_cube: CubeMaker, devices: Path
) -> None:
    runner = _local()
    baseline = _gpu_cube(make_cube, GpuNeed.CAN_USE)
    runner.run(baseline.folder, baseline.spec, "infer", baseline.mounts, FAST)
    cube = _gpu_cube(make_cube, GpuNeed.NEEDS)
    gpus = find_gpus(GpuRequest.parse("0"), devices)

    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST, gpus=gpus)

    seen = cube.report()
    assert seen["devices"] == {
        "nvidia0": "read-write",
        "nvidia1": "absent",  # not chosen
        "nvidiactl": "read-write",
        "nvidia-uvm": "read-write",
    }
    # Nothing else of /dev: what a task without GPUs sees, plus exactly these files.
    added = set(seen["dev"]) - set(baseline.report()["dev"])
    assert added == {"nvidia0", "nvidiactl", "nvidia-uvm"}
    assert "video0" not in seen["dev"]
    # Bound, not copied: the task wrote the host's file.
    assert (devices / "nvidia0").read_bytes() == b"written by the task"
    assert (devices / "nvidia1").read_bytes() == b""


@pytest.mark.sandbox
def test_a_cube_that_declares_no_gpu_gets_no_device_whatever_the_run_gives(
    make_cube: CubeMaker, devices: Path
) -> None:
    cube = _gpu_cube(make_cube, GpuNeed.NONE)
    gpus = find_gpus(GpuRequest.parse("all"), devices)

    _local().run(cube.folder, cube.spec, "infer", cube.mounts, FAST, gpus=gpus)

    assert set(cube.report()["devices"].values()) == {"absent"}
    assert all((devices / name).read_bytes() == b"" for name in ("nvidia0", "nvidiactl"))


# --- Docker and Podman: the options each engine is given ---------------------------------

SOME = GpuDevices((0, 2), False, (Path("/dev/nvidia0"), Path("/dev/nvidia2")))
EVERY = GpuDevices((0, 1), True, (Path("/dev/nvidia0"), Path("/dev/nvidia1")))


def test_docker_gets_its_own_gpus_option() -> None:
    assert docker_gpu_arguments(GpuDevices()) == []
    assert docker_gpu_arguments(EVERY) == ["--gpus", "all"]
    # One CSV field: the list of devices is quoted, as `--gpus '"device=0,2"'` in a shell.
    assert docker_gpu_arguments(SOME) == ["--gpus", '"device=0,2"']


def test_podman_gets_cdi_devices() -> None:
    assert podman_gpu_arguments(GpuDevices()) == []
    assert podman_gpu_arguments(EVERY) == ["--device", "nvidia.com/gpu=all"]
    assert podman_gpu_arguments(SOME) == [
        "--device", "nvidia.com/gpu=0", "--device", "nvidia.com/gpu=2",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("engine", "need", "expected"),
    [
        (DockerRunner(), GpuNeed.NEEDS, ["--gpus", '"device=0,2"']),
        (PodmanRunner(), GpuNeed.CAN_USE, ["--device", "nvidia.com/gpu=0", "--device",
                                           "nvidia.com/gpu=2"]),
        (DockerRunner(), GpuNeed.NONE, []),
    ],
)  # fmt: skip
def test_each_engines_container_gets_the_gpus_of_a_cube_that_uses_them(
    make_cube: CubeMaker,
    engine: DockerRunner | PodmanRunner,
    need: GpuNeed,
    expected: list[str],
    tmp_path: Path,
) -> None:
    cube = _gpu_cube(make_cube, need)
    invocation = plan_invocation(cube.folder, cube.spec, "infer", cube.mounts, gpus=SOME)
    args = engine.container_arguments(
        invocation, FAST, "medval-test", Identity.for_invoking_user(), tmp_path / "seccomp.json"
    )
    gpu_words = [w for w in args if w in ("--gpus", "--device") or "device=" in w or "gpu=" in w]
    assert gpu_words == expected
    assert "/dev/nvidia0" not in " ".join(args)  # the engine's hook adds the files, not medval
