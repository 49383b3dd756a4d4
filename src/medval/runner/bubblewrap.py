"""The local runner: a bubblewrap (``bwrap``) sandbox around the current Python.

What the cube gets, and nothing more:

- an empty, read-only root with the system ``/usr`` (and the ``/bin``, ``/lib``...
  links to it) and the folders of the Python that runs medval (``sys.base_prefix`` and
  the virtual environment ``sys.prefix``), read-only at the same paths, so ``python``
  in an entrypoint is this very interpreter with its numpy, pandas and scikit-learn;
  for a cube with its own Python environment (:mod:`medval.runner.python_environments`),
  that environment's folder and the base installation only, and ``python`` is its own;
- the cube folder read-only at ``/cube`` (the working directory), inputs read-only and
  outputs writable at ``/mlcube_io/<name>``;
- a fresh ``/proc`` (its own PID namespace), a minimal ``/dev``, an empty ``/tmp``
  (a tmpfs no larger than the memory limit); the task's GPUs, if any, as their device
  files (``/dev/nvidiaN`` and the driver's control files) bound read-write at
  ``/dev/<name>``, nothing else of the host's ``/dev``. The driver's libraries are the
  host's, in the ``/usr`` every task sees (a cube in its own image brings its own);
- no network at all: a new network namespace with only its own loopback, so even a
  service on the host's 127.0.0.1 is out of reach;
- new IPC, UTS and cgroup namespaces, a new session (no terminal to inject into), an
  environment of a few fixed variables only; a PID namespace around ``bwrap`` too, so
  that no process of the task outlives the client (:mod:`medval.runner.task_namespace`);
- RLIMIT_AS (the memory limit) set before ``bwrap`` starts, inherited by the sandbox,
  and a wall-clock limit after which the whole process group is killed.

What "not root" means. The cube runs as uid/gid 65534 (nobody) in a new user namespace
with every capability dropped (``--cap-drop ALL``; CapEff is zero) and no way to gain
one (no_new_privs). When the client itself runs as root, that namespace maps 65534 to
host uid 0: the cube still cannot do anything privileged, see anything outside its
mounts or change its read-only mounts, but files it writes in its outputs are owned by
root on the host, and a kernel bug that let it out of its namespaces would leave it as
root. So run the medval client as an ordinary, unprivileged user: then the cube is that
user on the host, and nothing more.

A cube with its own container image runs in that image instead of the host's ``/usr``
and Python, with no container engine: the client unpacks the image's root filesystem
from its verified archive (:mod:`medval.runner.image_rootfs`) and every top-level entry
of it is bound read-only into the sandbox's root (:mod:`medval.runner.image_mounts`),
everything else as above. The environment is the image's ``Env``, then the cube's
declared variables, then the fixed ones (:mod:`medval.core.task_environment`); the
working directory is the image's ``WORKDIR`` for a container format's task, else
``/cube``, as in the container runners; the command is the task's entrypoint, or the
image's ``Entrypoint`` (else its ``Cmd``) followed by the task's words, as engines run it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from medval.core.errors import SandboxError
from medval.core.scratch import make_scratch
from medval.core.task_environment import task_environment
from medval.runner import cgroups, syscall_policy
from medval.runner.child_setup import ChildSetup, Staging
from medval.runner.identity import NOBODY, Identity, check_readable, outputs_lent
from medval.runner.image_mounts import image_mounts
from medval.runner.image_rootfs import ImageStore, UnpackedImage
from medval.runner.interface import Limits, Runner, TaskRun
from medval.runner.invocation import CUBE_DIR, TaskInvocation
from medval.runner.local_limits import end_sandbox, process_limit, task_group_or_none
from medval.runner.outputs import OutputCap
from medval.runner.python_environments import EnvironmentStore
from medval.runner.python_runtime import PythonRuntime
from medval.runner.sealed_images import SealedImageUses
from medval.runner.supervisor import supervise
from medval.runner.task_namespace import TaskNamespaces
from medval.runner.verdict import judge, judge_group

# Top-level names that merged-/usr systems make links into /usr, older ones real folders.
_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# --disable-userns (no user namespaces inside the sandbox) appeared in bubblewrap 0.8.
_DISABLE_USERNS_SINCE = (0, 8)
_HIDDEN_PROC_FILES = ("/proc/keys", "/proc/key-users")


@dataclass
class BubblewrapRunner(Runner):
    """Runs cube tasks under bubblewrap on this machine (see the module docstring)."""

    kind: ClassVar[str] = "local"

    bwrap: str = "bwrap"
    runtime: PythonRuntime = field(default_factory=PythonRuntime.current)
    # Where cubes' own images are unpacked (the client's workspace gives its own).
    image_store: ImageStore | None = None
    environment_store: EnvironmentStore | None = None
    _version: tuple[int, ...] | None = field(default=None, init=False, repr=False)
    namespaces: TaskNamespaces = field(default_factory=TaskNamespaces, repr=False)  # unshare
    # Private models' images, unpacked each into a private folder while runs hold them.
    _sealed: dict[str, ImageStore] = field(default_factory=dict, init=False, repr=False)
    _sealed_uses: SealedImageUses = field(default_factory=SealedImageUses, init=False, repr=False)

    def execute(self, invocation: TaskInvocation, limits: Limits, log_path: Path | None) -> TaskRun:
        bwrap = self._find_bwrap()
        image = self.unpacked_image(invocation)
        identity = Identity.for_invoking_user()
        check_readable(invocation, identity)
        runtime = self.runtime.for_environment(invocation.python_environment)
        for root in runtime.bind_roots() if image is None else []:
            if not root.exists():  # Said here, as bwrap run by a root client cannot say it.
                raise SandboxError(f"the sandbox could not start: {root} does not exist")
        support = cgroups.find_support()
        filter_fd, sync_read, sync_write = open_fds = [syscall_policy.filter_file(), *os.pipe()]
        staging = None
        try:
            if identity.uid != identity.owner_uid:
                staging = Staging(make_scratch(None, "medval-stage-"))
            with outputs_lent(invocation, identity), task_group_or_none(support, limits) as group:
                argv = [*self.namespaces.holding_command(identity), bwrap]
                argv += self.sandbox_arguments(invocation, limits, bwrap, image, staging)
                argv += ["--sync-fd", str(sync_write), "--seccomp", str(filter_fd)]
                argv += ["--", *self._command(invocation, image)]
                setup = ChildSetup(
                    cgroup_files=group.join_files() if group else [],
                    address_space_bytes=None if group else limits.memory_bytes,
                    process_limit=None if group else process_limit(limits, identity),
                    keyctl_number=syscall_policy.number("keyctl"),
                    staging=staging,
                    die_with_client=True,
                )
                outcome = supervise(
                    argv,
                    timeout_seconds=limits.timeout_seconds,
                    address_space_bytes=None,
                    log_path=log_path,
                    env={},
                    prepare_child=setup,
                    pass_fds=[filter_fd, sync_write],
                    outputs=OutputCap.of(invocation, limits, limit_file_size=True),
                )
                open_fds.remove(sync_write)  # The sandbox's own now: closed as it ends.
                os.close(sync_write)
                if outcome.cut_short:
                    end_sandbox(sync_read)
                if group is not None:
                    judge_group(invocation, outcome, limits, group)
        finally:
            for fd in open_fds:
                os.close(fd)
            if staging is not None:
                staging.folder.rmdir()
        if outcome.returncode != 0 and _bwrap_refused(outcome.log_tail):
            # No user namespaces allowed, a mount it could not make, ...
            raise SandboxError(f"the sandbox could not start: {outcome.log_tail[0]}")
        return judge(invocation, outcome, limits, log_path)

    def caveats(self, limits: Limits) -> list[str]:
        support = cgroups.find_support()
        if isinstance(support, cgroups.Support):
            return []
        return [
            f"the local runner cannot hold one memory and process limit for a whole task "
            f"here ({support}): each process may use {limits.describe_memory()}, /tmp and "
            f"/dev/shm {limits.describe_memory()} each, and the task {limits.max_processes} "
            "processes more than its account already runs"
        ]

    def _command(self, invocation: TaskInvocation, image: UnpackedImage | None) -> list[str]:
        if image is None:
            runtime = self.runtime.for_environment(invocation.python_environment)
            return invocation.command(str(runtime.executable))
        command = image.config.command(*invocation.image_command())
        if not command:
            raise SandboxError(f"{invocation.label}: its image has no command to run")
        return command

    def check_ready(self) -> None:
        self._find_bwrap()

    def found_bwrap(self) -> tuple[str, str]:
        """Where bubblewrap is and its version (``0.8``), as the runner finds them; one
        line (SandboxError) naming the package when it is absent."""
        bwrap = self._find_bwrap()
        return bwrap, ".".join(str(part) for part in self._bwrap_version(bwrap))

    def with_image_cache(self, folder: Path) -> BubblewrapRunner:
        """Unpack cubes' own images under ``folder``, unless a store was given already."""
        if self.image_store is not None:
            return self
        return dataclasses.replace(self, image_store=ImageStore(folder))

    def holds_image(self, image_id: str) -> bool:
        return self.image_store is not None and self.image_store.find(image_id) is not None

    def prepare_image(
        self, archive: Path, image_id: str, what: str, say: Callable[[str], None] | None = None
    ) -> None:
        """Unpack the image's root filesystem once per ID (checked against its layers)."""
        if self.image_store is None:
            raise SandboxError(f"{what}: this runner has no place to unpack its image")
        if self.image_store.find(image_id) is None:
            if say is not None:
                say(f"unpacking the image of {what}")
            self.image_store.unpack(archive, image_id, what)

    @contextmanager
    def sealed_image(
        self,
        archive: Path,
        image_id: str,
        what: str,
        private_folder: Callable[[], Path],
        say: Callable[[str], None] | None = None,
    ) -> Iterator[None]:
        """Unpacked into a private folder of its own (never the image cache) while runs
        hold it, removed after; an image unpacked here in clear already is used as it is."""

        def make() -> bool:
            if self.image_store is not None and self.image_store.find(image_id) is not None:
                return False
            if say is not None:
                say(f"unpacking the image of {what} (private, removed after its runs)")
            store = ImageStore(private_folder())
            try:
                store.unpack(archive, image_id, what)
            except BaseException:
                shutil.rmtree(store.root, ignore_errors=True)
                raise
            self._sealed[image_id] = store
            return True

        def remove() -> None:
            store = self._sealed.pop(image_id)
            shutil.rmtree(store.root, ignore_errors=True)

        with self._sealed_uses.held(image_id, make, remove):
            yield

    def unpacked_image(self, invocation: TaskInvocation) -> UnpackedImage | None:
        """The cube's own image, unpacked; None for a cube run on this Python."""
        if invocation.image is None:
            return None
        sealed = self._sealed.get(invocation.image)
        if sealed is not None:
            return sealed.find(invocation.image)
        found = self.image_store.find(invocation.image) if self.image_store else None
        if found is None:
            raise SandboxError(
                f"the image {invocation.image[:19]}… of cube {invocation.cube} is not unpacked "
                "here: run it through the medval client, which unpacks its verified archive"
            )
        return found

    def sandbox_arguments(
        self,
        invocation: TaskInvocation,
        limits: Limits,
        bwrap: str,
        image: UnpackedImage | None = None,
        staging: Staging | None = None,
    ) -> list[str]:
        """Every ``bwrap`` option for this task, in the order bubblewrap applies them.

        With ``staging`` (a root client), every bound host path is named by its place
        in the staging folder instead, which the unprivileged ``bwrap`` can reach.
        """

        def source(path: Path) -> str:
            return str(staging.place(path) if staging is not None else path)

        args = [
            "--unshare-all",
            "--unshare-user",
            "--uid", str(NOBODY),
            "--gid", str(NOBODY),
            "--hostname", "medval-sandbox",
            "--cap-drop", "ALL",
            "--die-with-parent",
            "--new-session",
        ]  # fmt: skip
        if self._bwrap_version(bwrap) >= _DISABLE_USERNS_SINCE:
            args.append("--disable-userns")
        args.append("--clearenv")
        image_env = image.config.env if image is not None else None
        runtime = self.runtime.for_environment(invocation.python_environment)
        environment = invocation.task_environment(image_env, self.runner_path(runtime))
        for name, value in environment.items():
            args += ["--setenv", name, value]
        if image is None:
            args += self._system_mounts(source)
        else:
            args += image_mounts(image, invocation, source)
        # A fresh /proc of its own, all of it read-only (/proc/sys included); /dev with the
        # usual few devices, and /tmp and /dev/shm as tmpfs no larger than the memory limit.
        # /proc/keys and /proc/key-users would list the keys of the task's host uid (the
        # client's, for an ordinary user): an empty file stands in for each.
        args += ["--proc", "/proc"]
        for hidden in _HIDDEN_PROC_FILES:
            args += ["--ro-bind", source(Path("/dev/null")), hidden]
        args += ["--remount-ro", "/proc", "--dev", "/dev"]
        for device in invocation.gpus.files:
            # --dev-bind: a device node stays usable (a plain --bind would be mounted nodev).
            args += ["--dev-bind", source(device), str(invocation.gpus.sandbox_path(device))]
        memory = str(limits.memory_bytes)
        args += ["--perms", "1777", "--size", memory, "--tmpfs", "/tmp"]
        args += ["--perms", "1777", "--size", memory, "--tmpfs", "/dev/shm"]
        for root in runtime.bind_roots() if image is None else []:
            args += ["--ro-bind", source(root), str(root)]
        args += ["--ro-bind", source(invocation.cube_folder), str(CUBE_DIR)]
        for mount in invocation.mounts:
            args += [
                "--bind" if mount.writable else "--ro-bind",
                source(mount.host_path),
                str(mount.sandbox_path),
            ]
        workdir = invocation.working_directory(image.config.working_dir if image else "")
        args += ["--remount-ro", "/", "--chdir", workdir]
        return args

    def runner_path(self, runtime: PythonRuntime | None = None) -> str:
        """``PATH`` for a cube run on this Python (or ``runtime``): its folder first."""
        return f"{(runtime or self.runtime).bin_dir}:/usr/local/bin:/usr/bin:/bin"

    def environment(self) -> dict[str, str]:
        """The whole environment a cube without an image sees; nothing from the host."""
        return task_environment((), None, self.runner_path())

    def _system_mounts(self, source: Callable[[Path], str]) -> list[str]:
        args = ["--ro-bind", source(Path("/usr")), "/usr"]
        for name in _SYSTEM_LINKS:
            path = Path("/") / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", source(path), str(path)]
        return args

    def _find_bwrap(self) -> str:
        found = shutil.which(self.bwrap)
        if found is None:
            raise SandboxError(
                f"bubblewrap is not installed ({self.bwrap!r} not found): "
                "install the Debian package bubblewrap"
            )
        return found

    def _bwrap_version(self, bwrap: str) -> tuple[int, ...]:
        if self._version is None:
            try:
                answer = subprocess.run(
                    [bwrap, "--version"], capture_output=True, text=True, timeout=10, env={}
                ).stdout
            except (OSError, subprocess.TimeoutExpired):
                answer = ""
            match = re.search(r"(\d+)\.(\d+)", answer)
            self._version = tuple(int(part) for part in match.groups()) if match else (0, 0)
        return self._version


def _bwrap_refused(log_tail: tuple[str, ...]) -> bool:
    """bubblewrap (or unshare) says why it could not set up as its only line: the cube
    never ran (a cube that printed such a line would only mislabel its own failure)."""
    return len(log_tail) == 1 and log_tail[0].startswith(("bwrap: ", "unshare: "))
