"""The system calls no cube may make: a seccomp filter for the local (bubblewrap) runner.

Docker and Podman load their engine's default profile (an allowlist); bubblewrap loads
none unless given one. This policy refuses, with EPERM, every call that those profiles
refuse a container without capabilities and that a cube could use against its host or
its neighbours (``tests/runner/test_syscall_policy.py`` checks it against Podman's own
profile, so it cannot quietly fall behind):

- kernel keyrings (``keyctl``, ``add_key``, ``request_key``): a key of the client's
  session must never be read, and no key may be planted;
- new namespaces and mounts (``unshare``, ``setns``, ``clone``/``clone3`` with namespace
  flags, ``mount`` and the new mount API): a user namespace would hand the cube a fresh
  set of capabilities;
- other processes (``ptrace``, ``process_vm_*``, ``pidfd_getfd``, ``kcmp``);
- the kernel itself (modules, ``kexec``, ``reboot``, swap, clocks, ``bpf``,
  ``perf_event_open``, ``userfaultfd``, ``io_uring``, handles that bypass path checks,
  NUMA policies, accounting, quotas, I/O ports, obsolete calls).

The filter allows everything else (Docker's allowlist holds ~370 calls that ordinary
programs need; this denylist keeps every one of them working). Calls of another ABI
(32-bit ``int 0x80``, x32) kill the task: libseccomp adds only the native architecture,
and refuses the rest, so no call slips past under another number.

libseccomp compiles the filter (through ``pyseccomp``, a ctypes binding to the system's
``libseccomp.so.2``); bubblewrap loads it with ``--seccomp FD`` after its own set-up.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from functools import cache
from typing import Any

from medval.core.errors import SandboxError

KEYRINGS = ("keyctl", "add_key", "request_key")
NAMESPACES_AND_MOUNTS = (
    "unshare",
    "setns",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
)
OTHER_PROCESSES = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "pidfd_getfd",
    "kcmp",
)
KERNEL = (
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "syslog",
    "quotactl",
    "quotactl_fd",
    "settimeofday",
    "stime",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "name_to_handle_at",
    "open_by_handle_at",
    "get_mempolicy",
    "set_mempolicy",
    "set_mempolicy_home_node",
    "mbind",
    "move_pages",
    "migrate_pages",
    "iopl",
    "ioperm",
    "lookup_dcookie",
    "nfsservctl",
    "uselib",
    "ustat",
    "sysfs",
    "_sysctl",
    "vhangup",
    "sethostname",
    "setdomainname",
    "vm86",
    "vm86old",
    "fanotify_init",
    "lsm_set_self_attr",
    "afs_syscall",
    "tuxcall",
    "security",
    "vserver",
    "getpmsg",
    "putpmsg",
    "epoll_ctl_old",
    "epoll_wait_old",
)
REFUSED = KEYRINGS + NAMESPACES_AND_MOUNTS + OTHER_PROCESSES + KERNEL

# clone() may make threads and processes, never namespaces: NEWNS, NEWCGROUP, NEWUTS,
# NEWIPC, NEWUSER, NEWPID, NEWNET.
CLONE_NAMESPACE_FLAGS = (
    0x00020000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
)
# personality() flags that expose page zero, make data executable, undo address-space
# randomisation or emulate old layouts (Docker allows none of them). The query value
# 0xffffffff sets every bit; no persona sets the top one, so a rule "this flag set and
# the top bit clear" refuses the flag and still answers the query.
PERSONALITY_FLAGS = (
    0x0040000,
    0x0080000,
    0x0100000,
    0x0200000,
    0x0400000,
    0x0800000,
    0x1000000,
    0x2000000,
    0x4000000,
    0x8000000,
)
_TOP_BIT = 0x80000000


def refused_calls() -> tuple[str, ...]:
    """Every call the filter refuses whatever its arguments (``clone`` and ``personality``
    are refused with some; ``clone3`` always, with ENOSYS, so C libraries use ``clone``)."""
    return (*REFUSED, "clone3")


def filter_file() -> int:
    """A file descriptor holding the compiled filter, for ``bwrap --seccomp FD``.

    The caller passes it to bubblewrap (``pass_fds``) and closes it afterwards.
    """
    fd = os.memfd_create("medval-seccomp")
    os.write(fd, _compiled())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@cache
def number(name: str) -> int:
    """The system call's number on this machine's architecture."""
    seccomp = _libseccomp()
    found: int = seccomp.resolve_syscall(seccomp.system_arch(), name)
    if found < 0:
        raise SandboxError(f"this machine's architecture has no system call {name}")
    return found


@cache
def _compiled() -> bytes:
    """The BPF program, compiled once per client process."""
    seccomp = _libseccomp()
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    refuse = seccomp.ERRNO(errno.EPERM)
    for name in _known(seccomp, REFUSED):
        rules.add_rule(refuse, name)
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    # Rules for one call are alternatives: refused when any one of them matches.
    for flag in CLONE_NAMESPACE_FLAGS:
        rules.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    for flag in PERSONALITY_FLAGS:
        mask = flag | _TOP_BIT
        rules.add_rule(refuse, "personality", seccomp.Arg(0, seccomp.MASKED_EQ, mask, flag))
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()


def _known(seccomp: Any, names: Iterable[str]) -> list[str]:
    """The names this architecture has (``vm86`` exists on i386 only, for example)."""
    native = seccomp.system_arch()
    return [name for name in names if seccomp.resolve_syscall(native, name) >= 0]


def _libseccomp() -> Any:
    try:
        import pyseccomp
    except (ImportError, OSError) as exc:
        raise SandboxError(
            "the local runner's system-call filter needs libseccomp: install the Debian "
            f"package libseccomp2 ({exc})"
        ) from exc
    return pyseccomp
