"""Pick a runner by name: ``local`` (bubblewrap), ``docker`` or ``podman``."""

from __future__ import annotations

from medval.core.errors import InvalidInput, SandboxError
from medval.runner.bubblewrap import BubblewrapRunner
from medval.runner.container import ContainerRunner
from medval.runner.docker import DockerRunner
from medval.runner.interface import Runner
from medval.runner.podman import PodmanRunner

RUNNER_KINDS: dict[str, type[Runner]] = {
    BubblewrapRunner.kind: BubblewrapRunner,
    DockerRunner.kind: DockerRunner,
    PodmanRunner.kind: PodmanRunner,
}


def runner_for(kind: str) -> Runner:
    """The runner called ``kind``, with its default settings."""
    try:
        runner_class = RUNNER_KINDS[kind]
    except KeyError:
        choices = ", ".join(sorted(RUNNER_KINDS))
        raise InvalidInput(f"unknown runner {kind!r}: choose one of {choices}") from None
    return runner_class()


def image_engine(kind: str, what: str) -> ContainerRunner:
    """The engine that saves or loads ``what``: runner ``kind`` if it is a container
    runner, else Docker when its daemon answers, else Podman."""
    runner = runner_for(kind)
    if isinstance(runner, ContainerRunner):
        runner.check_ready()
        return runner
    reasons = []
    for candidate in (DockerRunner(), PodmanRunner()):
        try:
            candidate.check_ready()
        except SandboxError as exc:
            reasons.append(exc.message)
            continue
        return candidate
    raise SandboxError(
        f"{what} needs docker or podman, and neither works here ({'; '.join(reasons)}); "
        "or pass --image-archive PATH"
    )
