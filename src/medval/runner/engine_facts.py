"""What a container engine says of itself: its version, whether it runs rootless, its
cgroup version and which of a task's limits its cgroups can hold.

Asked with ``<engine> info`` (no container is started), after the runner's own
:meth:`~medval.runner.container.ContainerRunner.check_ready` (installed, and answering).
``medval doctor`` shows these facts (:mod:`medval.client.doctor`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from medval.core.errors import SandboxError
from medval.runner.container import ContainerRunner

# The limits a container's cgroup holds: the names the doctor shows them by.
CGROUP_LIMITS = ("memory", "pids", "cpu")


@dataclass(frozen=True)
class EngineFacts:
    """One engine as its ``info`` describes it."""

    version: str
    rootless: bool
    cgroup_version: str
    # Each of CGROUP_LIMITS: whether the engine can hold it on this machine.
    limits: dict[str, bool]
    seccomp: bool


def engine_facts(runner: ContainerRunner) -> EngineFacts:
    """Ask the engine; one line (SandboxError) when it is missing or does not answer."""
    runner.check_ready()
    answer = runner.engine("info", "--format", "{{json .}}", timeout=30)
    if answer.returncode != 0:
        lines = [line for line in answer.stderr.splitlines() if line.strip()]
        raise SandboxError(
            f"{runner.program} info failed: {lines[-1] if lines else '(no message)'}"
        )
    try:
        document = json.loads(answer.stdout)
    except ValueError as exc:
        raise SandboxError(f"{runner.program} info answered no JSON") from exc
    if not isinstance(document, dict):
        raise SandboxError(f"{runner.program} info answered no JSON object")
    if "host" in document:
        return podman_facts(document)
    return docker_facts(document)


def docker_facts(info: dict[str, Any]) -> EngineFacts:
    """From ``docker info --format '{{json .}}'``."""
    options = [str(option) for option in info.get("SecurityOptions") or []]
    return EngineFacts(
        version=str(info.get("ServerVersion") or "unknown"),
        rootless=any("name=rootless" in option for option in options),
        cgroup_version=str(info.get("CgroupVersion") or "unknown"),
        limits={
            "memory": bool(info.get("MemoryLimit")) and bool(info.get("SwapLimit")),
            "pids": bool(info.get("PidsLimit")),
            "cpu": bool(info.get("CpuCfsQuota")),
        },
        seccomp=any("name=seccomp" in option for option in options),
    )


def podman_facts(info: dict[str, Any]) -> EngineFacts:
    """From ``podman info --format '{{json .}}'``."""
    host = info.get("host") or {}
    security = host.get("security") or {}
    controllers = set(host.get("cgroupControllers") or [])
    version = (info.get("version") or {}).get("Version") or "unknown"
    return EngineFacts(
        version=str(version),
        rootless=bool(security.get("rootless")),
        cgroup_version=str(host.get("cgroupVersion") or "unknown").removeprefix("v"),
        limits={name: name in controllers for name in CGROUP_LIMITS},
        seccomp=bool(security.get("seccompEnabled")),
    )
