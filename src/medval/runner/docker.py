"""The Docker runner: each task in a locked-down container of a Docker daemon."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from medval.runner.container import ContainerRunner


@dataclass
class DockerRunner(ContainerRunner):
    """Runs cube tasks with ``docker run`` (see :mod:`medval.runner.container`)."""

    kind: ClassVar[str] = "docker"
    program: ClassVar[str] = "docker"
    package: ClassVar[str] = "docker.io"
