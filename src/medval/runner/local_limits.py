"""How the local runner holds a task to its limits, and ends it whole.

Its control group where this machine lets it make one (:mod:`medval.runner.cgroups`),
else the per-process fallbacks the runner announces before the run; and, for a task cut
short, the end of its whole PID namespace before the run returns.
"""

from __future__ import annotations

import contextlib
import os
import select
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


def end_sandbox(sync_fd: int) -> None:
    """After a task was cut short (its process group killed): wait until the sandbox's
    first process is gone, and with it every process of the task, before the run returns.

    ``bwrap`` is the first process of the PID namespace that holds the task
    (:mod:`medval.runner.task_namespace`): killed with the group, it takes every process
    in it along, the sandbox's first process too, and that one held the other end of
    ``sync_fd`` (``--sync-fd``; the cube's command never has it) until it died: the end
    of the file says it is gone. PIDs would not do: the ``child-pid`` bubblewrap reports
    is one of that namespace's, not the host's. Where the machine refused the namespace,
    that process dies with ``bwrap`` (``--die-with-parent``) instead. A control group,
    where there is one, is emptied anyway. Nothing writes to the pipe: it is readable
    only at its end.
    """
    select.select([sync_fd], [], [], 10)
