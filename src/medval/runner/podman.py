"""The Podman runner: each task in a locked-down, daemonless Podman container."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from medval.runner.container import ContainerRunner
from medval.runner.identity import Identity
from medval.runner.seccomp import without_new_namespaces


@dataclass
class PodmanRunner(ContainerRunner):
    """Runs cube tasks with ``podman run`` (see :mod:`medval.runner.container`)."""

    kind: ClassVar[str] = "podman"
    program: ClassVar[str] = "podman"
    package: ClassVar[str] = "podman"

    def engine_arguments(self, identity: Identity, seccomp_profile: Path | None) -> list[str]:
        assert seccomp_profile is not None
        args = [
            "--security-opt", f"seccomp={seccomp_profile}",
            # Podman adds ``container=podman`` and, with --read-only, writable tmpfs
            # at /run, /var/tmp and /dev/shm; a cube gets neither.
            "--unsetenv-all",
            "--read-only-tmpfs=false",
            # Its default process limit is above what an unprivileged host allows.
            "--ulimit", f"nproc={self.pids_limit * 8}:{self.pids_limit * 8}",
        ]  # fmt: skip
        if identity.owner_uid != 0:
            args += ["--userns", "keep-id"]  # Rootless: the user's uid inside is its own.
        return args

    def seccomp_profile(self) -> str | None:
        return without_new_namespaces()

    def remove_arguments(self) -> list[str]:
        return ["--time", "0"]  # Kill at once; a cube as PID 1 ignores SIGTERM.
