"""What the Docker and Podman runners share: one container per task, locked down.

Every task runs as ``<engine> run`` of an image named by its ID (a content digest,
``sha256:…``), never by a tag: the cube's own image (pinned at registration, loaded
from its verified archive by :mod:`medval.runner.image_archive`) with the task's
entrypoint, or else the medval Python image (:mod:`medval.runner.python_image`), with:

- ``--network none`` (only its own loopback), ``--ipc private``, its own PID namespace;
- a read-only root filesystem, a fresh tmpfs at ``/tmp`` (no larger than the memory
  limit), an empty read-only ``/sys``; the cube folder read-only at ``/cube`` (the
  working directory, but for a container format's task in its own image, which starts
  in the image's ``WORKDIR``), inputs read-only and outputs writable at
  ``/mlcube_io/<name>`` or where a container format declares them;
- every capability dropped, no-new-privileges, a non-root user (see below);
- memory (swap included), pids, CPU, open-file and file-size limits, and the wall clock:
  when time is up, or the outputs pass their cap, the engine client is killed and the
  container removed by name;
- no host environment: the image's ``Env``, the cube's declared variables and medval's
  fixed ones, all given explicitly (:mod:`medval.core.task_environment`), as the local
  runner gives them;
- ``--rm``, ``--pull never`` (no registry is ever asked), no log kept by the engine;
- the task's GPUs, if any, by the engine's own option (:meth:`gpu_arguments`).

Who the cube is. Run by root (the usual case for a Docker daemon's socket), the cube is
uid/gid 65534; its output folders are handed to 65534 for the run and given back to
the invoking user afterwards, so no file of the cube's stays owned by anyone else. Run
by an ordinary user, the cube is that user's uid and gid (which own the outputs already).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from medval.core.errors import EngineError, SandboxError
from medval.core.gpus import GpuDevices
from medval.runner.bubblewrap import BubblewrapRunner
from medval.runner.identity import Identity, check_readable, outputs_lent
from medval.runner.image_archive import load_pinned_image, loaded_for_runs
from medval.runner.image_rootfs import ImageConfig
from medval.runner.interface import Limits, Runner, TaskRun
from medval.runner.invocation import CUBE_DIR, TaskInvocation
from medval.runner.outputs import OutputCap
from medval.runner.python_environments import EnvironmentStore
from medval.runner.python_image import PythonImagePlan, build_python_image
from medval.runner.python_runtime import PythonRuntime
from medval.runner.supervisor import ProcessOutcome, supervise
from medval.runner.verdict import judge

# The engine's own exit status when it could not create or start the container; 126
# and 127 when the OCI runtime could not start the container's process.
ENGINE_REFUSED = 125
_RUNTIME_REFUSED = (126, 127)
# Where an engine's own error lines start (Docker's client, its daemon, Podman) ...
_ENGINE_PREFIXES = ("docker: ", "Error response from daemon", "Error: ")
# ... and what says that the OCI runtime refused (not a program the cube ran).
_RUNTIME_MARKERS = ("OCI runtime", "oci runtime", "crun: ", "runc: ", "runc create failed")
# What engines print after an error that is no part of it.
_ENGINE_HINTS = ("Run '", "See '")
# Variables the engine's client itself may need (where its daemon or storage is).
_CLIENT_VARIABLES = (
    "PATH",
    "HOME",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CONTEXT",
    "CONTAINER_HOST",
    "CONTAINERS_CONF",
    "CONTAINERS_STORAGE_CONF",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
)
# Executions side by side (``medval run --jobs N``) build the Python image once, not N times.
_BUILDING = threading.Lock()

_NO_SUCH_IMAGE = ("no such image", "image not known", "no such object")


@dataclass
class ContainerRunner(Runner):
    """Runs cube tasks in containers of one engine (see the module docstring)."""

    program: ClassVar[str]
    package: ClassVar[str]

    executable: str | None = None
    runtime: PythonRuntime = field(default_factory=PythonRuntime.current)
    cpus: float = field(default_factory=lambda: float(len(os.sched_getaffinity(0))))
    pids_limit: int = 512
    open_files_limit: int = 4096
    # Installed distributions the Python image holds beside medval's own closure.
    python_packages: tuple[str, ...] = ()
    environment_store: EnvironmentStore | None = None
    _python_image: str | None = field(default=None, init=False, repr=False)

    def execute(self, invocation: TaskInvocation, limits: Limits, log_path: Path | None) -> TaskRun:
        program = self.find_program()
        image = self.pinned_image(invocation)
        name = f"medval-{uuid.uuid4().hex[:16]}"
        identity = Identity.for_invoking_user()
        check_readable(invocation, identity)
        with (
            outputs_lent(invocation, identity),
            self._profile_file() as profile,
            # The engine's client runs in a folder of its own: Podman's container monitor
            # writes a file 'oom' into its current folder when the task runs out of
            # memory, which would otherwise be the user's.
            tempfile.TemporaryDirectory(prefix="medval-engine-") as client_folder,
        ):
            argv = [program, "run"]
            argv += self.container_arguments(invocation, limits, name, identity, profile)
            if invocation.image is None:
                runtime = self.runtime.for_environment(invocation.python_environment)
                argv += [image, *invocation.command(str(runtime.executable))]
            else:
                # The cube's own image: the task says whether its entrypoint replaces the
                # image's (medval's and MedPerf's) or is passed to it (MLCube's task name).
                entrypoint, words = invocation.image_command()
                if entrypoint is not None:
                    argv += ["--entrypoint", entrypoint]
                argv += [image, *words]
            finished = False
            try:
                outcome = supervise(
                    argv,
                    timeout_seconds=limits.timeout_seconds,
                    address_space_bytes=None,  # The container's cgroup limits memory.
                    log_path=log_path,
                    env=self.client_environment(),
                    # --ulimit fsize limits each file: the engine's client must not have it.
                    outputs=OutputCap.of(invocation, limits, limit_file_size=False),
                    cwd=Path(client_folder),
                )
                finished = not outcome.cut_short
            finally:
                if not finished:
                    self.remove_container(name)
        refusal = engine_refusal(self.program, outcome)
        if refusal is not None:
            raise EngineError(
                f"{self.program} could not start the container for {invocation.label}: {refusal}",
                f"{self.program} could not start the container for {invocation.label}",
            )
        return judge(invocation, outcome, limits, log_path)

    # --- what every container gets ------------------------------------------------------

    def container_arguments(
        self,
        invocation: TaskInvocation,
        limits: Limits,
        name: str,
        identity: Identity,
        seccomp_profile: Path | None = None,
    ) -> list[str]:
        """Every ``run`` option for this task (see the module docstring)."""
        memory = str(limits.memory_bytes)
        args = [
            "--rm",
            "--name", name,
            "--pull", "never",
            "--network", "none",
            "--ipc", "private",
            "--hostname", "medval-sandbox",
            "--read-only",
            "--tmpfs", f"/tmp:rw,nosuid,nodev,size={memory},mode=1777",
            "--mount", "type=tmpfs,destination=/sys,ro",
            "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges",
            "--user", f"{identity.uid}:{identity.gid}",
            "--ulimit", f"nofile={self.open_files_limit}:{self.open_files_limit}",
            "--ulimit", f"fsize={limits.output_bytes}:{limits.output_bytes}",
            "--log-driver", "none",
        ]  # fmt: skip
        args += self.limit_arguments(limits)
        args += self.engine_arguments(identity, seccomp_profile)
        args += self.gpu_arguments(invocation.gpus)
        # The whole environment, the image's own Env included: Podman's --unsetenv-all
        # drops the image's, so every engine is given all of it, as the local runner is.
        config = self.image_config(invocation.image) if invocation.image else ImageConfig()
        image_env = config.env if invocation.image is not None else None
        runtime = self.runtime.for_environment(invocation.python_environment)
        runner_path = BubblewrapRunner(runtime=runtime).runner_path()
        for variable, value in invocation.task_environment(image_env, runner_path).items():
            args += ["--env", f"{variable}={value}"]
        args += ["--workdir", invocation.working_directory(config.working_dir)]
        args += ["--mount", _bind(invocation.cube_folder, str(CUBE_DIR), writable=False)]
        # The task's fresh /tmp hides whatever the image holds there: a Python runtime that
        # lives under /tmp (a checkout in /tmp) is bound read-only from the host instead.
        # A cube's own Python environment is bound at the path it was built at, wherever
        # that is: the image holds the base interpreter it links to, at the host's paths.
        environment = invocation.python_environment
        for root in runtime.bind_roots():
            if root.is_relative_to("/tmp") or root == environment:
                args += ["--mount", _bind(root, str(root), writable=False)]
        for mount in invocation.mounts:
            args += ["--mount", _bind(mount.host_path, str(mount.sandbox_path), mount.writable)]
        return args

    def limit_arguments(self, limits: Limits) -> list[str]:
        """The container's cgroup limits: memory (swap included), pids and CPU."""
        memory = str(limits.memory_bytes)
        return [
            "--memory", memory,
            "--memory-swap", memory,
            "--pids-limit", str(limits.max_processes),
            "--cpus", f"{self.cpus:g}",
        ]  # fmt: skip

    def engine_arguments(self, identity: Identity, seccomp_profile: Path | None) -> list[str]:
        """Options only this engine needs."""
        return []

    def gpu_arguments(self, gpus: GpuDevices) -> list[str]:
        """This engine's options that give the task ``gpus`` (none: no option)."""
        if gpus.ids:
            raise SandboxError(f"{self.program}: medval does not give GPUs to its containers")
        return []

    def seccomp_profile(self) -> str | None:
        """A seccomp profile (JSON) to use instead of the engine's default, if any."""
        return None

    def remove_arguments(self) -> list[str]:
        """Extra options of ``rm --force`` for this engine."""
        return []

    @contextlib.contextmanager
    def _profile_file(self) -> Iterator[Path | None]:
        profile = self.seccomp_profile()
        if profile is None:
            yield None
            return
        with tempfile.NamedTemporaryFile("w", prefix="medval-seccomp-", suffix=".json") as file:
            file.write(profile)
            file.flush()
            yield Path(file.name)

    def client_environment(self) -> dict[str, str]:
        """The engine client's environment: where its daemon is, nothing else."""
        return {name: os.environ[name] for name in _CLIENT_VARIABLES if name in os.environ}

    # --- the engine ---------------------------------------------------------------------

    def check_ready(self) -> None:
        """The engine is installed and answers (its daemon runs, for Docker)."""
        answer = self.engine("version")
        if answer.returncode != 0:
            raise SandboxError(f"{self.program} cannot be used: {_last_line(answer.stderr)}")

    def find_program(self) -> str:
        wanted = self.executable or self.program
        found = shutil.which(wanted)
        if found is None:
            raise SandboxError(
                f"{self.program} is not installed ({wanted!r} not found): "
                f"install the Debian package {self.package}"
            )
        return found

    def engine(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``<engine> ARGS`` for its answer; failing to reach the engine is one line."""
        try:
            return subprocess.run(
                [self.find_program(), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self.client_environment(),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(f"{self.program} {args[0]} did not answer in {timeout:g} s") from exc

    def image_id(self, reference: str) -> str | None:
        """The ID (``sha256:…``, the digest of its configuration) of a local image."""
        answer = self.engine("image", "inspect", "--format", "{{.Id}}", reference)
        if answer.returncode != 0:
            error = _last_line(answer.stderr)
            if any(marker in error.lower() for marker in _NO_SUCH_IMAGE):
                return None
            raise SandboxError(f"{self.program} cannot be used: {error}")
        image_id = answer.stdout.strip()
        return image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"

    def image_config(self, image_id: str) -> ImageConfig:
        """How a local image says it runs (its ``Env``, ``WorkingDir``, ...)."""
        answer = self.engine("image", "inspect", "--format", "{{json .Config}}", image_id)
        if answer.returncode != 0:
            raise SandboxError(f"{self.program} cannot be used: {_last_line(answer.stderr)}")
        try:
            document = json.loads(answer.stdout)
        except ValueError as exc:
            raise SandboxError(f"{self.program} image inspect answered no JSON") from exc
        return ImageConfig.from_document({"config": document if isinstance(document, dict) else {}})

    def holds_image(self, image_id: str) -> bool:
        return self.image_id(image_id) == image_id

    def prepare_image(
        self, archive: Path, image_id: str, what: str, say: Callable[[str], None] | None = None
    ) -> None:
        """Load the archive into the engine, unless it already holds that ID; check the ID."""
        load_pinned_image(self, archive, image_id, what)

    def sealed_image(
        self,
        archive: Path,
        image_id: str,
        what: str,
        private_folder: Callable[[], Path],
        say: Callable[[str], None] | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        """Loaded into the engine while runs hold it, removed after (``loaded_for_runs``)."""
        return loaded_for_runs(self, archive, image_id, what, say)

    def pinned_image(self, invocation: TaskInvocation) -> str:
        """The ID to run: the cube's own image (which must be here), or the Python image."""
        if invocation.image is None:
            return self.python_image()
        if self.image_id(invocation.image) != invocation.image:
            raise SandboxError(
                f"{self.program} holds no image {invocation.image[:19]}… for cube "
                f"{invocation.cube}; load its verified image archive first"
            )
        return invocation.image

    def with_python_packages(self, *distributions: str) -> ContainerRunner:
        wanted = tuple(sorted({*self.python_packages, *distributions}))
        if wanted == self.python_packages:
            return self
        return dataclasses.replace(self, python_packages=wanted)

    def python_image(self) -> str:
        """The ID of the image with this client's Python, built here if absent."""
        with _BUILDING:
            if self._python_image is None:
                plan = PythonImagePlan.for_runtime(self.runtime, ("medval", *self.python_packages))
                image_id = self.image_id(plan.tag())
                if image_id is None:
                    build_python_image(self.find_program(), plan)
                    image_id = self.image_id(plan.tag())
                if image_id is None:
                    raise SandboxError(f"{self.program} built {plan.tag()} but cannot find it")
                self._python_image = image_id
            return self._python_image

    def remove_container(self, name: str) -> None:
        """Kill and remove a container that may still run (after a timeout, an interrupt)."""
        with contextlib.suppress(SandboxError):
            self.engine("rm", "--force", *self.remove_arguments(), name, timeout=60)


def _bind(source: Path, target: str, writable: bool) -> str:
    # --mount is comma-separated: a comma in a path would smuggle in another option.
    if "," in str(source):
        raise SandboxError(f"a folder mounted into a container cannot contain a comma: {source}")
    return f"type=bind,source={source},target={target}" + ("" if writable else ",readonly")


def engine_refusal(program: str, outcome: ProcessOutcome) -> str | None:
    """The engine's whole reason, on one line, when it refused to start the container;
    None when the container ran (and whatever failed is the cube's).

    Exit status 125 is the engine's own error. 126 and 127 are also what a container's
    process returns when it cannot run a program, so they count as the engine's only
    when the engine says its OCI runtime failed (Podman's mount errors, for instance).
    """
    if outcome.cut_short:
        return None
    lines = [line.strip() for line in outcome.error_tail if line.strip()]
    engine_lines = [line for line in lines if line.startswith(_ENGINE_PREFIXES)]
    if outcome.returncode in _RUNTIME_REFUSED:
        if not any(marker in line for line in engine_lines for marker in _RUNTIME_MARKERS):
            return None
    elif outcome.returncode != ENGINE_REFUSED:
        return None
    said = [line for line in lines if not line.startswith(_ENGINE_HINTS)]
    reason = " ".join(engine_lines or said)
    return reason or f"{program} exited with status {outcome.returncode} and no message"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"
