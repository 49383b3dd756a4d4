"""Run untrusted cube tasks in a sandbox: one interface, several sandboxes."""

from medval.runner.bubblewrap import BubblewrapRunner, PythonRuntime
from medval.runner.docker import DockerRunner
from medval.runner.interface import GIB, MIB, Limits, Runner, TaskFailed, TaskRun
from medval.runner.invocation import TaskInvocation
from medval.runner.podman import PodmanRunner
from medval.runner.registry import RUNNER_KINDS, runner_for

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
