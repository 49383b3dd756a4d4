"""The local runner's system-call policy is at least as strict as the engines' defaults.

Podman's default profile (an allowlist, close to Docker's) ships with the engines that
`make test` installs; every call it refuses a container without capabilities must be
refused by ours too, but for the few named below with the reason they are allowed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from medval.runner import syscall_policy
from medval.runner.seccomp import PODMAN_DEFAULT_PROFILES, without_new_namespaces

# Calls the Podman profile on Debian 12 predates or leaves out, that ordinary programs use
# and that reach nothing outside the task.
ALLOWED_ALTHOUGH_PODMAN_REFUSES = {
    "cachestat": "page-cache statistics of files the task has open (Linux 6.5)",
    "fchmodat2": "chmod with flags, as glibc 2.39 calls it (Linux 6.6)",
    "futex_requeue": "futexes of the task's own memory (Linux 6.7)",
    "futex_wait": "futexes of the task's own memory (Linux 6.7)",
    "futex_wake": "futexes of the task's own memory (Linux 6.7)",
    "futex_waitv": "futexes of the task's own memory; Docker allows it",
    "map_shadow_stack": "the task's own shadow stack (Linux 6.6)",
    "io_pgetevents": "asynchronous I/O on the task's own files; Docker allows it",
    "vmsplice": "pipes of the task's own; Docker allows it",
}


def _profile(text: str) -> dict[str, Any]:
    profile: dict[str, Any] = json.loads(text)
    return profile


def _allowed_without_capabilities(profile: dict[str, Any], machine: str) -> set[str]:
    arches = {"x86_64": "amd64", "aarch64": "arm64"}[machine]
    allowed: set[str] = set()
    for rule in profile["syscalls"]:
        includes = rule.get("includes", {})
        if rule.get("action") != "SCMP_ACT_ALLOW" or includes.get("caps"):
            continue
        if includes.get("arches") and arches not in includes["arches"]:
            continue
        allowed.update(rule["names"])
    return allowed


def _known_calls() -> set[str]:
    import pyseccomp

    native = pyseccomp.system_arch()
    names: set[str] = set()
    for number in range(1024):
        try:
            name = pyseccomp.resolve_syscall(native, number)
        except ValueError:
            continue  # No call has this number here.
        if name:
            names.add(name.decode() if isinstance(name, bytes) else name)
    return names


def test_every_call_podman_refuses_is_refused_here() -> None:
    source = next(path for path in PODMAN_DEFAULT_PROFILES if path.is_file())
    machine = os.uname().machine
    allowed = _allowed_without_capabilities(_profile(source.read_text()), machine)
    refused_by_podman = _known_calls() - allowed
    assert len(refused_by_podman) > 20  # The profile was read.
    missing = refused_by_podman - set(syscall_policy.refused_calls())
    assert missing == set(ALLOWED_ALTHOUGH_PODMAN_REFUSES)


def test_medvals_podman_profile_refuses_the_same_calls() -> None:
    """The Podman runner's narrowed profile allows none of the local runner's refusals."""
    machine = os.uname().machine
    allowed = _allowed_without_capabilities(_profile(without_new_namespaces()), machine)
    assert allowed & set(syscall_policy.REFUSED) == set()
    assert {"clone3", "unshare", "keyctl"} - allowed == {"clone3", "unshare", "keyctl"}


def test_the_filter_is_a_seccomp_program() -> None:
    fd = syscall_policy.filter_file()
    try:
        program = os.read(fd, 1 << 20)
    finally:
        os.close(fd)
    # Classic BPF: 8 bytes an instruction; over a hundred for this policy.
    assert len(program) % 8 == 0 and 100 < len(program) // 8 < 2000


@pytest.mark.parametrize("name", ["keyctl", "unshare", "ptrace"])
def test_known_calls_have_numbers(name: str) -> None:
    assert syscall_policy.number(name) >= 0


def test_profiles_exist_where_make_test_installs_podman() -> None:
    assert any(Path(path).is_file() for path in PODMAN_DEFAULT_PROFILES)
