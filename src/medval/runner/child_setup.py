"""What the local runner's first process does between fork and exec of ``bwrap``.

In this order, each step only if asked:

1. join the task's control groups (:mod:`medval.runner.cgroups`), so that every process
   of the task is counted (on cgroup v1 by moving its one thread, which is quick; see
   :meth:`~medval.runner.cgroups.TaskGroup.join_files`);
2. set the per-process fallbacks where there is no control group: RLIMIT_AS (memory)
   and RLIMIT_NPROC (processes);
3. join a fresh, empty session keyring, so that no key of the client's session is even
   addressable from the task (the system-call filter also refuses ``keyctl``);
4. when the client runs as root: in a private mount namespace, bind every folder the
   sandbox will show onto a neutral staging folder, then become uid/gid 65534 (nobody)
   with no supplementary groups before ``bwrap`` runs. bubblewrap then maps the task's
   uid 65534 to host uid 65534, never to root; the staging binds let it reach folders
   under, say, ``/root`` that nobody could not walk to;
5. tie its life to the client's: the parent-death signal (SIGKILL), set after the last
   change of uid (which clears it); a client already gone by then is noticed, and this
   process ends before it executes anything (:mod:`medval.runner.task_namespace` says
   why the local runner needs this);
6. move to ``/``, which every account may enter.

Python 3.11 has no ``os.unshare`` or ``mount``; the C library's are called through
ctypes, set up before the fork, as the kernel documents them (unshare(2), mount(2)).
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
from dataclasses import dataclass, field
from pathlib import Path

from medval.runner.identity import NOBODY

_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
_KEYCTL_JOIN_SESSION_KEYRING = 1
_PR_SET_PDEATHSIG = 1


@dataclass
class Staging:
    """Neutral names for the host paths a root client binds into the sandbox."""

    folder: Path
    sources: dict[Path, Path] = field(default_factory=dict)

    def place(self, source: Path) -> Path:
        """Where ``source`` will appear in the staging folder (same path for the same)."""
        if source not in self.sources:
            self.sources[source] = self.folder / str(len(self.sources))
        return self.sources[source]


@dataclass
class ChildSetup:
    """The steps above, as a ``preexec_fn``; every value is prepared before the fork."""

    # Each control group's join file, and what to write there (None: the PID).
    cgroup_files: list[tuple[bytes, bytes | None]] = field(default_factory=list)
    address_space_bytes: int | None = None
    process_limit: int | None = None
    keyctl_number: int | None = None
    staging: Staging | None = None
    die_with_client: bool = False

    def __post_init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._client = os.getpid()
        self._binds: list[tuple[bytes, bytes, bool]] = []
        if self.staging is not None:
            self._stage_folder = os.fsencode(self.staging.folder)
            for source, target in self.staging.sources.items():
                is_dir = source.is_dir()
                self._binds.append((os.fsencode(source), os.fsencode(target), is_dir))

    def __call__(self) -> None:
        for name, content in self.cgroup_files:
            fd = os.open(name, os.O_WRONLY)
            try:
                os.write(fd, content if content is not None else str(os.getpid()).encode())
            finally:
                os.close(fd)
        if self.address_space_bytes is not None:
            limit = self.address_space_bytes
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if self.process_limit is not None:
            limit = self.process_limit
            resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
        if self.keyctl_number is not None:
            joined = self._libc.syscall(self.keyctl_number, _KEYCTL_JOIN_SESSION_KEYRING, None)
            # A kernel without keyrings (ENOSYS) has no key to hide.
            if joined < 0 and ctypes.get_errno() != errno.ENOSYS:
                self._check(joined, "keyctl")
        if self.staging is not None:
            self._stage_and_drop_root()
        if self.die_with_client:
            self._check(self._libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
            if os.getppid() != self._client:
                os._exit(1)  # The client died before the signal was set: no one waits.
        os.chdir("/")

    def _stage_and_drop_root(self) -> None:
        libc = self._libc
        self._check(libc.unshare(_CLONE_NEWNS), "unshare")
        self._check(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "mount")
        flags = _MS_NOSUID | _MS_NODEV
        self._check(
            libc.mount(b"medval", self._stage_folder, b"tmpfs", flags, b"mode=0755,size=64k"),
            "mount",
        )
        for source, target, is_dir in self._binds:
            if is_dir:
                os.mkdir(target, 0o755)
            else:
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
            self._check(libc.mount(source, target, None, _MS_BIND | _MS_REC, None), "mount")
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)

    def _check(self, result: int, what: str) -> None:
        if result < 0:
            number = ctypes.get_errno()
            raise OSError(number, f"{what}: {os.strerror(number)}")
