"""The runner interface: run one task of an untrusted cube in a sandbox.

Every sandbox (local bubblewrap, Docker, Podman) gives a task the same
world, checked by one contract suite in ``tests/runner``:

- the cube folder, read-only, at ``/cube``, which is also the working directory (a
  container format's task in its own image starts in the image's ``WORKDIR``);
- one directory per declared mount at ``/mlcube_io/<name>`` (or where a container format
  declares it, any path :mod:`medval.core.formats.mount_paths` allows): inputs
  read-only, outputs the only writable places (created on the host when absent);
- a fresh, empty ``/tmp``; no network; not root; no environment from the host, only the
  image's, the cube's declared variables and medval's own
  (:mod:`medval.core.task_environment`);
- the entrypoint called as ``ENTRYPOINT --NAME=/mlcube_io/NAME ...`` plus
  ``--parameters_file=/cube/parameters.yaml`` when the cube has one; a first word
  ``python`` means "the sandbox's Python" (the cube's own Python environment when it
  declares one, built first: :mod:`medval.runner.python_environments`);
- a native cube's declared additional files, read-only, at ``/mlcube_io/additional_files``
  (passed as ``--additional_files=...`` after the inputs);
- a time limit and a memory limit; a cap on what its outputs and log hold together;
- the GPUs the run chose (``gpus``), only for a cube that declares it needs or can use
  one (:mod:`medval.core.gpus`), each runner by its own means; no other device;
- afterwards, whatever happened, no set-user-ID or set-group-ID bit left in its outputs.

The client calls::

    runner = runner_for("local")
    run = runner.run(cube_folder, spec, "infer",
                     {"data_path": data_dir, "output_path": predictions_dir},
                     Limits(timeout_seconds=600, memory_bytes=4 * GIB),
                     log_path=workspace / "logs" / "infer.log")

and gets a :class:`TaskRun`, or :class:`~medval.core.errors.InvalidInput` for a wrong
task or wrong mount names, or :class:`~medval.core.errors.SandboxError` (one line) when
the task could not run, failed, timed out or ran out of memory.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from medval.core.cube_spec import CubeSpec
from medval.core.errors import InvalidInput, SandboxError
from medval.core.gpus import GpuDevices
from medval.runner.invocation import TaskInvocation, plan_invocation
from medval.runner.outputs import strip_set_id_bits
from medval.runner.python_environments import EnvironmentStore

MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """What one whole task may use, all its processes together.

    ``memory_bytes`` counts its processes and its in-memory file systems (``/tmp``,
    ``/dev/shm``); ``max_processes`` counts processes and threads alive at once;
    ``output_bytes`` counts what it writes to its outputs and its log together.
    """

    timeout_seconds: float = 3600.0
    memory_bytes: int = 8 * GIB
    max_processes: int = 512
    output_bytes: int = 4 * GIB

    def __post_init__(self) -> None:
        if not self.timeout_seconds > 0:
            raise InvalidInput(f"timeout must be positive, not {self.timeout_seconds}")
        if self.memory_bytes < 64 * MIB:
            raise InvalidInput(f"memory limit must be at least 64 MiB, not {self.memory_bytes} B")
        if self.max_processes < 8:
            raise InvalidInput(f"process limit must be at least 8, not {self.max_processes}")
        if self.output_bytes < MIB:
            raise InvalidInput(f"output limit must be at least 1 MiB, not {self.output_bytes} B")

    def describe_memory(self) -> str:
        return f"{self.memory_bytes / MIB:g} MiB"

    def describe_output(self) -> str:
        return f"{self.output_bytes / MIB:g} MiB"


@dataclass(frozen=True)
class TaskRun:
    """A task that ran to the end and exited with status 0."""

    cube: str
    task: str
    exit_code: int
    duration_seconds: float
    log_tail: tuple[str, ...]
    log_path: Path | None


class TaskFailed(SandboxError):
    """The cube's own code exited with an error; ``log_tail`` holds its last lines."""

    def __init__(self, message: str, log_tail: tuple[str, ...], verdict: str | None = None) -> None:
        super().__init__(message, verdict)
        self.log_tail = log_tail


class Runner(ABC):
    """Runs one cube task in a sandbox. Subclasses only say how to execute a plan."""

    kind: ClassVar[str]
    # Where cubes' own Python environments are built (the client's workspace gives one).
    environment_store: EnvironmentStore | None = None

    def run(
        self,
        cube_folder: Path,
        spec: CubeSpec,
        task: str,
        mounts: Mapping[str, Path],
        limits: Limits | None = None,
        log_path: Path | None = None,
        image: str | None = None,
        gpus: GpuDevices | None = None,
    ) -> TaskRun:
        """Run ``task`` of the cube in ``cube_folder`` with exactly the declared mounts.

        ``mounts`` maps every input and output name of the task to a host directory.
        The cube's output goes to ``log_path`` as it is produced, when given. ``image``
        is the ID of the cube's own container image (already in the engine), if it has one.
        ``gpus`` (found on this machine: :func:`medval.core.gpus.find_gpus`) are given to
        the task only if the cube declares it needs or can use a GPU.
        Whatever happens, no set-user-ID or set-group-ID bit stays in the outputs after.
        """
        environment = self.python_environment(cube_folder, spec)
        invocation = plan_invocation(cube_folder, spec, task, mounts, image, environment, gpus)
        outputs = tuple(mount.folder for mount in invocation.mounts if mount.writable)
        try:
            return self.execute(invocation, limits or Limits(), log_path)
        finally:
            strip_set_id_bits(outputs)

    def check_ready(self) -> None:
        """Raise SandboxError (one line naming what to install) if this runner cannot run."""
        return None

    def caveats(self, limits: Limits) -> list[str]:
        """Limits this runner cannot hold on this machine as they are meant, one line each
        (said before a task runs, never silently)."""
        return []

    def with_image_cache(self, folder: Path) -> Runner:
        """This runner, keeping what it makes of cubes' own images under ``folder`` if it
        needs a place for them (the local runner unpacks them; engines keep their own)."""
        return self

    def with_environment_cache(self, folder: Path) -> Runner:
        """This runner, building cubes' own Python environments under ``folder``, unless
        it was given a place already."""
        if self.environment_store is not None:
            return self
        runner = copy.copy(self)
        runner.environment_store = EnvironmentStore(folder)
        return runner

    def python_environment(self, cube_folder: Path, spec: CubeSpec) -> Path | None:
        """The folder of the cube's own Python environment, built now if it is not yet
        (None for a cube without one); a wheel the lock does not pin is refused."""
        if spec.python_environment is None:
            return None
        if self.environment_store is None:
            raise SandboxError(
                f"cube {spec.name!r} declares a Python environment and runner {self.kind} "
                "has no place to build it: run it through the medval client"
            )
        return self.environment_store.environment_for(
            cube_folder, spec.python_environment, spec.name
        )

    def with_python_packages(self, *distributions: str) -> Runner:
        """This runner, with ``distributions`` (installed here, with what they require)
        importable by a task that runs on the client's Python, beside medval's own. The
        local runner runs the client's Python as it is; the engines add them to the
        Python image they build (a ClientApp needs Flower, an optional extra)."""
        return self

    def holds_image(self, image_id: str) -> bool:
        """Whether the image of this ID is runnable here already (loaded in the engine, or
        unpacked and checked): then its archive need not be fetched. An image's ID is the
        digest of its configuration, which names every layer's content, so an image held
        by that ID is the one the cube pins."""
        return False

    def prepare_image(
        self, archive: Path, image_id: str, what: str, say: Callable[[str], None] | None = None
    ) -> None:
        """Make a cube's own image runnable from its archive, whose hash the caller has
        checked, or refuse ``what``; ``say`` reports long work (a load, an unpacking)."""
        raise SandboxError(f"{what} has its own image: runner {self.kind} runs none")

    def sealed_image(
        self,
        archive: Path,
        image_id: str,
        what: str,
        private_folder: Callable[[], Path],
        say: Callable[[str], None] | None = None,
    ) -> AbstractContextManager[None]:
        """A private model's image, unsealed into ``archive`` (whose hash the caller has
        checked), runnable inside the block only: loaded or unpacked (into a folder made
        by ``private_folder``) unless this runner holds it already, and what was made
        removed after the last block that holds it (``runner.sealed_images``)."""
        raise SandboxError(f"{what} has its own image: runner {self.kind} runs none")

    @abstractmethod
    def execute(self, invocation: TaskInvocation, limits: Limits, log_path: Path | None) -> TaskRun:
        """Run a validated invocation; raise SandboxError with one line on any failure."""
