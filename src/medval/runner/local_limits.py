"""How the local runner holds a task to its limits, and ends it whole.

Its control group where this machine lets it make one (:mod:`medval.runner.cgroups`),
else the per-process fallbacks the runner announces before the run; and, for a task cut
short, the end of its whole PID namespace before the run returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator

from medval.runner import cgroups
from medval.runner.identity import Identity
from medval.runner.interface import Limits


@contextlib.contextmanager
def task_group_or_none(
    support: cgroups.Support | str, limits: Limits
) -> Iterator[cgroups.TaskGroup | None]:
    """The task's control group, where this machine lets us make one."""
    if isinstance(support, str):
        yield None
        return
    with cgroups.task_group(support, limits.memory_bytes, limits.max_processes) as group:
        yield group


def process_limit(limits: Limits, identity: Identity) -> int:
    """Without a control group, RLIMIT_NPROC: it counts every process of the task's host
    uid, so the task gets ``max_processes`` more than that uid runs already."""
    running = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                running += entry.stat().st_uid == identity.uid
    return running + limits.max_processes


def end_sandbox(info_fd: int) -> None:
    """After a task was cut short: kill the sandbox's first process, so its PID namespace
    and every process in it are gone before the run returns, and wait for that.

    Killing ``bwrap`` alone ends them too (--die-with-parent), but later, while the
    client may already be reading the outputs; a control group, where there is one, is
    emptied anyway. bubblewrap wrote the first process's host PID to ``--info-fd``.
    """
    os.set_blocking(info_fd, False)
    try:
        info = json.loads(os.read(info_fd, 1 << 16) or b"{}")
    except (BlockingIOError, ValueError):
        return
    pid = info.get("child-pid")
    if not isinstance(pid, int) or pid <= 1:
        return
    deadline = time.monotonic() + 10
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # Raises once it is gone (reaped by whoever adopted it).
            time.sleep(0.01)
