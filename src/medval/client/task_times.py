"""How long each cube task ran in its sandbox, kept beside the task's log.

The time is the runner's own clock (``runner.supervisor``): from the start of the sandbox
process to its exit. It holds the cube's own code and the sandbox tool's set-up of that
process (for bubblewrap, tens of milliseconds: ``bench/sandbox_overhead.py``); it leaves
out medval's work around it (fetching and checking the cube, unpacking it, hashing data,
reading and checking what the cube wrote). Only a task that ran to the end and exited 0
is recorded (``runner.TaskRun``); a failed one says why in its log.

``logs/<log name>.json`` beside ``logs/<log name>.log``; ``medval demo`` adds them up
to say what share of its wall time is medval's own (README, "Performance").
Imports the standard library, pydantic and the workspace.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from medval.client.workspace import Workspace, write_json_atomically
from medval.core.errors import InvalidInput

SUFFIX = ".json"


class TaskTime(BaseModel):
    """One task run's time in its sandbox, by the runner's clock."""

    cube_id: int
    task: str
    seconds: float


def record_task_time(log: Path, time: TaskTime) -> None:
    """Keep ``time`` beside the task's ``log`` (``workspace.new_task_log``)."""
    write_json_atomically(log.with_suffix(SUFFIX), time.model_dump_json())


def task_time_paths(workspace: Workspace) -> list[Path]:
    """Every task time kept in ``workspace``, oldest log name first."""
    logs = workspace.logs_dir
    return sorted(logs.glob(f"*{SUFFIX}")) if logs.is_dir() else []


def read_task_times(paths: Iterable[Path]) -> list[TaskTime]:
    """The task times at ``paths``; a damaged one is one line naming it."""
    times = []
    for path in paths:
        try:
            times.append(TaskTime.model_validate_json(path.read_bytes()))
        except (OSError, ValidationError) as exc:
            raise InvalidInput(
                f"{path} is damaged ({exc.__class__.__name__}); remove it to start over"
            ) from None
    return times
