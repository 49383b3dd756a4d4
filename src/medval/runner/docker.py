"""The Docker runner: each task in a locked-down container of a Docker daemon."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from medval.core.gpus import GpuDevices
from medval.runner.container import ContainerRunner


def docker_gpu_arguments(gpus: GpuDevices) -> list[str]:
    """``--gpus`` for the task's GPUs (none: no option): Docker's NVIDIA runtime hook then
    adds the devices and the driver's libraries. A list of devices is one CSV field, so
    it is quoted, as Docker's documentation writes ``--gpus '"device=0,1"'``."""
    if not gpus.ids:
        return []
    if gpus.every:
        return ["--gpus", "all"]
    return ["--gpus", '"device=' + ",".join(str(number) for number in gpus.ids) + '"']


@dataclass
class DockerRunner(ContainerRunner):
    """Runs cube tasks with ``docker run`` (see :mod:`medval.runner.container`)."""

    kind: ClassVar[str] = "docker"
    program: ClassVar[str] = "docker"
    package: ClassVar[str] = "docker.io"

    def gpu_arguments(self, gpus: GpuDevices) -> list[str]:
        return docker_gpu_arguments(gpus)
