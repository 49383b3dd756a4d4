"""Run untrusted cube tasks in a sandbox: one interface, several sandboxes.

The names below are imported when first asked for (PEP 562 ``__getattr__``), not with
the package: a command that only reads an image archive's ID (``runner.image_archive``)
or names a type starts without every runner's module (issue 14: start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medval.runner.bubblewrap import BubblewrapRunner
    from medval.runner.docker import DockerRunner
    from medval.runner.interface import GIB, MIB, Limits, Runner, TaskFailed, TaskRun
    from medval.runner.invocation import TaskInvocation
    from medval.runner.podman import PodmanRunner
    from medval.runner.python_runtime import PythonRuntime
    from medval.runner.registry import RUNNER_KINDS, runner_for

_HOMES = {
    "BubblewrapRunner": "bubblewrap",
    "PythonRuntime": "python_runtime",
    "DockerRunner": "docker",
    "GIB": "interface",
    "MIB": "interface",
    "Limits": "interface",
    "Runner": "interface",
    "TaskFailed": "interface",
    "TaskRun": "interface",
    "TaskInvocation": "invocation",
    "PodmanRunner": "podman",
    "RUNNER_KINDS": "registry",
    "runner_for": "registry",
}

__all__ = [
    "GIB",
    "MIB",
    "RUNNER_KINDS",
    "BubblewrapRunner",
    "DockerRunner",
    "Limits",
    "PodmanRunner",
    "PythonRuntime",
    "Runner",
    "TaskFailed",
    "TaskInvocation",
    "TaskRun",
    "runner_for",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
