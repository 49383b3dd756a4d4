"""Pick a runner by name: ``local`` (bubblewrap), ``docker`` or ``podman``."""

from __future__ import annotations

from medval.core.errors import InvalidInput
from medval.runner.bubblewrap import BubblewrapRunner
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
