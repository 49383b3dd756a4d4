"""The Podman runner: each task in a locked-down, daemonless Podman container.

Run by root, Podman puts each container in cgroups that hold its memory and process
limits, as Docker does. Run by an ordinary user (rootless), the cube keeps that user's
uid (``--userns keep-id``) in a user namespace of the container's own. On cgroup v2 the
user's delegated cgroups hold the limits the same way; on cgroup v1 a rootless Podman
can make no cgroup and would ignore every cgroup limit (printing so into the task's
log). There each process of the task is limited instead, its heap and anonymous memory
to the memory limit (RLIMIT_DATA), and the task's processes by RLIMIT_NPROC, which the
kernel counts per user namespace; :meth:`PodmanRunner.caveats` says so before a task.

GPUs go by the Container Device Interface (``--device nvidia.com/gpu=N``, or ``=all``),
the way NVIDIA documents for Podman: the CDI specification that ``nvidia-ctk cdi
generate`` writes names the device files and the driver's libraries to add. Device
files alone (``--device /dev/nvidia0``) would give a container without the driver's
libraries, which no CUDA program can use; without a CDI specification Podman refuses to
start the container, and medval says its reason in one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from medval.core.gpus import GpuDevices
from medval.runner.container import ContainerRunner
from medval.runner.identity import Identity
from medval.runner.interface import Limits
from medval.runner.seccomp import without_new_namespaces


def podman_gpu_arguments(gpus: GpuDevices) -> list[str]:
    """``--device nvidia.com/gpu=…`` (CDI) for each of the task's GPUs, or ``=all``."""
    if not gpus.ids:
        return []
    if gpus.every:
        return ["--device", "nvidia.com/gpu=all"]
    return [word for number in gpus.ids for word in ("--device", f"nvidia.com/gpu={number}")]


@dataclass
class PodmanRunner(ContainerRunner):
    """Runs cube tasks with ``podman run`` (see :mod:`medval.runner.container`)."""

    kind: ClassVar[str] = "podman"
    program: ClassVar[str] = "podman"
    package: ClassVar[str] = "podman"

    # Where cgroup v2 shows its ``cgroup.controllers`` (absent on cgroup v1).
    cgroup_root: Path = field(default=Path("/sys/fs/cgroup"))

    def engine_arguments(self, identity: Identity, seccomp_profile: Path | None) -> list[str]:
        assert seccomp_profile is not None
        args = [
            "--security-opt", f"seccomp={seccomp_profile}",
            # Podman adds ``container=podman`` and, with --read-only, writable tmpfs
            # at /run, /var/tmp and /dev/shm; a cube gets neither.
            "--unsetenv-all",
            "--read-only-tmpfs=false",
            # Podman mounts the cgroup tree at /sys/fs/cgroup over medval's empty /sys
            # (rootless: the host's whole tree); an empty read-only tmpfs takes its place.
            # The limits do not need it: they are set on the container's cgroup outside.
            "--mount", "type=tmpfs,destination=/sys/fs/cgroup,ro",
            # Podman's own warnings (rootless: "/" is not a shared mount) are not the
            # cube's output; its errors still end the task's log.
            "--log-level", "error",
        ]  # fmt: skip
        if identity.owner_uid != 0:
            args += ["--userns", "keep-id"]  # Rootless: the user's uid inside is its own.
        return args

    def gpu_arguments(self, gpus: GpuDevices) -> list[str]:
        return podman_gpu_arguments(gpus)

    def limit_arguments(self, limits: Limits) -> list[str]:
        if self.cgroups_hold_limits():
            # Its default process limit is above what an unprivileged host allows.
            nproc = self.pids_limit * 8
            return [*super().limit_arguments(limits), "--ulimit", f"nproc={nproc}:{nproc}"]
        # RLIMIT_AS, which the local runner sets, is unknown to Podman 4.3; RLIMIT_DATA
        # counts every private writable mapping (heap, anonymous memory) of a process.
        memory, processes = limits.memory_bytes, limits.max_processes
        return ["--ulimit", f"data={memory}:{memory}", "--ulimit", f"nproc={processes}:{processes}"]

    def caveats(self, limits: Limits) -> list[str]:
        if self.cgroups_hold_limits():
            return []
        return [
            "podman run by an ordinary user on cgroup v1 cannot hold one memory limit for a "
            f"whole task: each process may use {limits.describe_memory()} of heap, and "
            "/tmp and /dev/shm are not counted"
        ]

    def cgroups_hold_limits(self) -> bool:
        """Root's containers have cgroups; a rootless one only on cgroup v2."""
        return os.getuid() == 0 or (self.cgroup_root / "cgroup.controllers").exists()

    def seccomp_profile(self) -> str | None:
        return without_new_namespaces()

    def remove_arguments(self) -> list[str]:
        return ["--time", "0"]  # Kill at once; a cube as PID 1 ignores SIGTERM.
