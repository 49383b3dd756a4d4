"""Why no process of a local task outlives the client: a PID namespace around ``bwrap``.

bubblewrap forks the sandbox's first process (PID 1 of the sandbox) and only then, once
it has written that process's uid maps, tells it through an eventfd to go on; that
process sets its own ``--die-with-parent`` only when the sandbox is set up, just before
it forks the cube's command. ``bwrap``'s outer process dies with its parent, the client.
So a client SIGKILLed, SIGTERMed or otherwise gone in between left the sandbox's first
process behind: reparented to init, as uid nobody (a root client's) or the user, without
children, in its control group, blocked for ever reading its eventfd; or, past that read,
setting up and running the cube with no one watching. No option of ``bwrap`` closes that
window, and a client cannot act after its own SIGKILL, so the kernel does it:

- ``bwrap`` runs as the first process of a PID namespace of its own (``unshare --pid
  --fork --kill-child``, util-linux); when the first process of a PID namespace ends,
  the kernel kills every process in it, and the sandbox's are all in it;
- ``unshare`` kills ``bwrap`` as it dies (``--kill-child``), and dies with the client
  itself: its parent-death signal is set between fork and exec
  (:mod:`medval.runner.child_setup`), where a client already gone is noticed too.

Unprivileged, a PID namespace takes a user namespace of one's own, where the task's uid
and gid are mapped to themselves (``--map-current-user``): on the host, the cube is the
same uid as without it. Where this machine refuses such namespaces to the task's account
(checked once per runner), tasks run as before, without that guarantee.

Imports: the standard library and :mod:`medval.runner.identity`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from medval.runner.identity import Identity


@dataclass
class TaskNamespaces:
    """:func:`holding_command` for each account tasks run as, asked once; ``program``:
    util-linux's ``unshare`` (a name on the PATH, or a path)."""

    program: str = "unshare"
    _commands: dict[int, list[str]] = field(default_factory=dict, init=False)

    def holding_command(self, identity: Identity) -> list[str]:
        if identity.uid not in self._commands:
            self._commands[identity.uid] = holding_command(identity, self.program)
        return self._commands[identity.uid]


def holding_command(identity: Identity, program: str = "unshare") -> list[str]:
    """The words to put before ``bwrap`` so that a PID namespace holds the whole task, or
    none where ``unshare`` is absent or the task's account may not make one."""
    unshare, true = shutil.which(program), shutil.which("true")
    if unshare is None or true is None:
        return []
    command = [unshare, "--user", "--map-current-user", "--pid", "--fork", "--kill-child", "--"]
    # A root client's tasks run as nobody: so does the probe.
    as_task: dict[str, Any] = (
        {}
        if identity.uid == os.getuid()
        else {"user": identity.uid, "group": identity.gid, "extra_groups": []}
    )
    try:
        probe = subprocess.run(
            [*command, true], env={}, cwd="/", capture_output=True, timeout=10, **as_task
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return command if probe.returncode == 0 else []
