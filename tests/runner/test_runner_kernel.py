"""Contract: a cube cannot reach the host's kernel, its settings or its keys.

Each test is an attack seen in a review, run on every runner (see conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from pathlib import Path

import pytest

from medval.runner import Limits, Runner

from .cubes import CubeMaker

pytestmark = pytest.mark.sandbox

FAST = Limits(timeout_seconds=60, memory_bytes=1 << 30)


def test_nothing_in_proc_is_writable(runner: Runner, make_cube: CubeMaker) -> None:
    """Through /proc/sys/kernel/core_pattern a writable /proc is host root: no file of
    /proc that only root may write can be opened for writing. (The task's own /proc/PID
    files aside; files every host account may write, such as the pressure-stall
    triggers in /proc/pressure, are the engines' business and grant nothing.)"""
    cube = make_cube(
        """
        import stat
        writable, tried = [], 0
        for top, folders, files in os.walk("/proc"):
            if top == "/proc":
                own = ("self", "thread-self")
                folders[:] = [f for f in folders if not f.isdigit() and f not in own]
            for name in files:
                path = os.path.join(top, name)
                try:
                    mode = os.lstat(path).st_mode
                    if not stat.S_ISREG(mode) or mode & stat.S_IWOTH:
                        continue
                    tried += 1
                    os.close(os.open(path, os.O_WRONLY))
                    writable.append(path)
                except OSError:
                    pass
        for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/core_uses_pid"):
            try:
                with open(path, "w") as handle:
                    handle.write("1")
                writable.append(path + " (written)")
            except OSError:
                pass
        report({"writable": writable, "tried": tried})
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    assert report["tried"] > 100  # It did look.
    assert report["writable"] == []


SYSCALL_PROBE = """
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def attempt(*call):
    ctypes.set_errno(0)
    result = libc.syscall(*[ctypes.c_long(word) for word in call])
    return "allowed" if result >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")
"""

# x86_64 and aarch64 numbers of the calls tried below.
NUMBERS = {
    "x86_64": {"keyctl": 250, "add_key": 248, "unshare": 272, "setns": 308, "mount": 165,
               "bpf": 321, "kexec_load": 246, "init_module": 175, "open_by_handle_at": 304,
               "perf_event_open": 298},
    "aarch64": {"keyctl": 219, "add_key": 217, "unshare": 97, "setns": 268, "mount": 40,
                "bpf": 280, "kexec_load": 104, "init_module": 105, "open_by_handle_at": 265,
                "perf_event_open": 241},
}  # fmt: skip


def test_calls_against_the_host_kernel_are_refused(runner: Runner, make_cube: CubeMaker) -> None:
    """Keyrings, new namespaces, mounts, BPF, kernel modules, handles: refused."""
    import platform

    numbers = NUMBERS[platform.machine()]
    cube = make_cube(
        SYSCALL_PROBE
        + f"""
n = {numbers!r}
report({{
    # KEYCTL_GET_KEYRING_ID of the session keyring (-3), creating it if absent.
    "keyctl": attempt(n["keyctl"], 0, -3, 1),
    "add_key": attempt(n["add_key"], 0, 0, 0, 0, -3),
    "unshare_user": attempt(n["unshare"], 0x10000000),
    "unshare_mount": attempt(n["unshare"], 0x00020000),
    "setns": attempt(n["setns"], 0, 0),
    "mount": attempt(n["mount"], 0, 0, 0, 0, 0),
    "bpf": attempt(n["bpf"], 0, 0, 0),
    "kexec_load": attempt(n["kexec_load"], 0, 0, 0, 0),
    "init_module": attempt(n["init_module"], 0, 0, 0),
    "open_by_handle_at": attempt(n["open_by_handle_at"], 0, 0, 0),
    "perf_event_open": attempt(n["perf_event_open"], 0, 0, -1, -1, 0),
}})
"""
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    # EPERM from a filter, ENOSYS where a profile answers so; never done (nor EFAULT or
    # EINVAL, which would mean the kernel looked at the arguments: the call got through).
    refused = {"EPERM", "ENOSYS", "EACCES"}
    assert {call: outcome for call, outcome in report.items() if outcome not in refused} == {}


def test_other_processes_cannot_be_traced(runner: Runner, make_cube: CubeMaker) -> None:
    """The only processes a task sees are its own; the local runner refuses even those."""
    cube = make_cube(
        SYSCALL_PROBE
        + """
import platform, subprocess
ptrace = {"x86_64": 101, "aarch64": 117}[platform.machine()]
child = subprocess.Popen(["sleep", "5"]) if os.path.exists("/bin/sleep") else None
target = child.pid if child else 1
outcome = attempt(ptrace, 16, target, 0, 0)  # PTRACE_ATTACH
if child:
    child.kill()
report({"attach": outcome, "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())})
"""
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    assert len(report["pids"]) < 6
    if runner.kind == "local":
        assert report["attach"] == "EPERM"


def test_the_task_is_never_host_root(runner: Runner, make_cube: CubeMaker) -> None:
    """Seen from the host, the task's processes are uid 65534 when the client is root
    (bubblewrap maps it so; the engines run it so), and the client's uid otherwise."""
    token = f"medval-uid-probe-{uuid.uuid4().hex}"
    cube = make_cube(
        f"""
        import subprocess
        subprocess.run([sys.executable, "-c", "import time; time.sleep(4)  # {token}"])
        report("done")
        """
    )
    seen: dict[int, int] = {}

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not seen:
            for entry in Path("/proc").iterdir():
                with contextlib.suppress(OSError):
                    if entry.name.isdigit() and token.encode() in (entry / "cmdline").read_bytes():
                        seen[int(entry.name)] = entry.stat().st_uid
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    finally:
        watcher.join()
    expected = 65534 if os.getuid() == 0 else os.getuid()
    assert seen and set(seen.values()) == {expected}, seen
