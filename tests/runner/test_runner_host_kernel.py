"""Contract: what the kernel keeps for the whole host stays out of a task's sight.

``/sys`` describes the host's devices and cgroups; the keyrings hold the invoking user's
secrets (Kerberos tickets, encryption keys) and are not namespaced. Runs against every
runner in ``RUNNER_FACTORIES`` (see conftest.py).
"""

from __future__ import annotations

import ctypes
import json
import platform
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from medval.runner import Limits, Runner

from .cubes import CubeMaker

pytestmark = pytest.mark.sandbox

FAST = Limits(timeout_seconds=30, memory_bytes=1 << 30)
# The folders Podman makes in the empty /sys for the cgroup tree it would mount there,
# which medval replaces with an empty read-only tmpfs. (Docker mounts the cgroup tree
# before the empty /sys, which hides it whole.)
MOUNT_POINTS_IN_SYS = {"/sys/fs", "/sys/fs/cgroup"}


def test_sys_shows_nothing(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(
        """
        entries = []
        for directory, folders, files in os.walk("/sys"):
            entries += [(os.path.join(directory, name), "folder") for name in folders]
            entries += [(os.path.join(directory, name), "file") for name in files]
        report({"sys": os.path.isdir("/sys"), "entries": entries})
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    if runner.kind == "local":
        assert report == {"sys": False, "entries": []}  # bubblewrap makes no /sys at all
        return
    assert report["sys"] is True
    assert [path for path, kind in report["entries"] if kind == "file"] == []
    assert {path for path, _ in report["entries"]} <= MOUNT_POINTS_IN_SYS, report["entries"]


# --- keyrings ----------------------------------------------------------------------------

# System call numbers by machine: add_key, keyctl.
_SYSCALLS = {"x86_64": (248, 250), "aarch64": (217, 219)}
KEY_SPEC_SESSION_KEYRING = -3
KEYCTL_GET_KEYRING_ID = 0
KEYCTL_DESCRIBE = 6
KEYCTL_SEARCH = 10
KEYCTL_READ = 11
KEYCTL_INVALIDATE = 21


@dataclass(frozen=True)
class HostKey:
    """A key in the test process's own session keyring, which every child inherits."""

    serial: int
    description: str
    payload: str
    session_keyring: int


@pytest.fixture
def host_key() -> Iterator[HostKey]:
    add_key, keyctl = _SYSCALLS[platform.machine()]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    description = f"medval-test-{uuid.uuid4().hex}"
    payload = f"secret-{uuid.uuid4().hex}".encode()
    serial = libc.syscall(
        ctypes.c_long(add_key),
        ctypes.c_char_p(b"user"),
        ctypes.c_char_p(description.encode()),
        ctypes.c_char_p(payload),
        ctypes.c_size_t(len(payload)),
        ctypes.c_long(KEY_SPEC_SESSION_KEYRING),
    )
    if serial < 0:
        pytest.fail(f"the test cannot add a key to its session keyring: errno {ctypes.get_errno()}")
    session = libc.syscall(
        ctypes.c_long(keyctl),
        ctypes.c_long(KEYCTL_GET_KEYRING_ID),
        ctypes.c_long(KEY_SPEC_SESSION_KEYRING),
        ctypes.c_long(0),
    )
    try:
        yield HostKey(serial, description, payload.decode(), session)
    finally:
        libc.syscall(ctypes.c_long(keyctl), ctypes.c_long(KEYCTL_INVALIDATE), ctypes.c_long(serial))


# Run in the task: every way to reach the host's key through keyctl, and /proc/keys.
KEYRING_PROBE = """
import ctypes, platform
key = json.load(open(os.path.join(args["data_path"], "key.json")))
add_key, keyctl = key["syscalls"][platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buffer = ctypes.create_string_buffer(4096)

def call(*words):
    words = [ctypes.c_char_p(w.encode()) if isinstance(w, str)
             else ctypes.c_long(w) if isinstance(w, int) else w for w in words]
    result = libc.syscall(ctypes.c_long(keyctl), *words)
    return {"result": result, "errno": ctypes.get_errno() if result < 0 else 0,
            "text": buffer.value.decode(errors="replace") if result >= 0 else ""}

outcome = {
    "read": call(11, key["serial"], buffer, 4096),
    "describe": call(6, key["serial"], buffer, 4096),
    "search": call(10, -3, "user", key["description"], 0),
    "session": call(0, -3, 0),
}
try:
    outcome["proc_keys"] = open("/proc/keys").read()
except OSError as exc:
    outcome["proc_keys"] = exc.strerror
report(outcome)
"""


def test_the_task_cannot_reach_the_invoking_users_keys(
    runner: Runner, make_cube: CubeMaker, host_key: HostKey
) -> None:
    key = {"serial": host_key.serial, "description": host_key.description}
    cube = make_cube(
        KEYRING_PROBE, data_files={"key.json": json.dumps({**key, "syscalls": _SYSCALLS})}
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    outcome = cube.report()
    everything = json.dumps(outcome)
    assert host_key.payload not in everything, outcome
    assert host_key.description not in everything, outcome
    assert f"{host_key.serial:08x}" not in outcome["proc_keys"], outcome["proc_keys"]
    for attempt in ("read", "describe", "search"):
        assert outcome[attempt]["result"] < 0, (attempt, outcome[attempt])
    # Its session keyring, if it may ask, is a fresh one, not the one it was started from.
    assert outcome["session"]["result"] != host_key.session_keyring, outcome["session"]
