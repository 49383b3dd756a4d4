"""A seccomp profile for Podman that, like Docker's default, refuses new namespaces.

Podman's default profile allows ``unshare`` and ``clone`` with any flags (so that
containers can nest); an unprivileged cube could then make a user namespace and hold
every capability inside it. This profile is Podman's own with those two narrowed the
way Docker narrows them: ``unshare`` refused, ``clone`` only without namespace flags,
``clone3`` answered ENOSYS so that the C library falls back to ``clone``; and every call
of :mod:`medval.runner.syscall_policy` (keyrings, mounts, ...) refused, as in Docker's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medval.core.errors import SandboxError
from medval.runner import syscall_policy

PODMAN_DEFAULT_PROFILES = (
    Path("/usr/share/containers/seccomp.json"),
    Path("/etc/containers/seccomp.json"),
)
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (Docker's mask).
_NAMESPACE_FLAGS = 0x7E020000
_ENOSYS = 38
_NARROWED = {"unshare", "clone", "clone3"}
# Podman's profile allows some calls that Docker's refuses a container without
# capabilities (the kernel keyrings, which are not namespaced; mount, setns, ...): every
# call the local runner refuses is refused here too.
_REFUSED = set(syscall_policy.REFUSED)


def without_new_namespaces(default_profiles: tuple[Path, ...] = PODMAN_DEFAULT_PROFILES) -> str:
    """Podman's default profile, narrowed, as JSON text."""
    source = next((path for path in default_profiles if path.is_file()), None)
    if source is None:
        raise SandboxError(
            "podman's seccomp profile is missing (looked in "
            f"{', '.join(map(str, default_profiles))}): install golang-github-containers-common"
        )
    profile: dict[str, Any] = json.loads(source.read_text())
    for rule in profile["syscalls"]:
        if rule.get("action") == "SCMP_ACT_ALLOW" and not rule.get("includes", {}).get("caps"):
            rule["names"] = [name for name in rule["names"] if name not in _NARROWED | _REFUSED]
    profile["syscalls"] += [
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [
                {"index": 0, "value": _NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
            ],
        },
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": _ENOSYS},
    ]
    return json.dumps(profile)
