"""The demo's account of its own time: how much of it was medval's (issue 14).

The workflow is everything from the admin's account onwards (the server's start-up and
every command, each its own process); the set-up before it (the hospitals' exports, the
vendors' trained models) is what the people had before they used medval, and is said
apart. The cubes' own time is what each hospital's, committee's or vendor's client
recorded beside each task's log (``client.task_times``: the runner's clock, from the
sandbox's start to its exit). Platform time = workflow wall time - the cubes' time.

Imports the standard library and the client's task times.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from medval.client.task_times import read_task_times, task_time_paths
from medval.client.workspace import Workspace

BAR_SHARE = 0.10  # issue 14: platform time under 10% of the demo's workflow
_WORD = re.compile(r"[a-z]+(-[a-z]+)*")


def verb(args: Sequence[str]) -> str:
    """What a command is, without its values: ``dataset prepare``, ``login``."""
    words = list(args[:1])
    if len(args) > 1 and _WORD.fullmatch(args[1]) and not args[0].startswith("-"):
        words.append(args[1])
    return " ".join(words)


@dataclass
class CommandTime:
    verb: str
    wall: float
    cubes: float


@dataclass
class Clock:
    """Times the demo as it plays; ``report`` adds it up."""

    started: float = field(default_factory=time.monotonic)
    workflow_started: float | None = None
    commands: list[CommandTime] = field(default_factory=list)
    background: int = 0  # commands started in the background: their wall time is not counted
    notes: list[str] = field(default_factory=list)  # said under the figures, as they are
    _seen: set[Path] = field(default_factory=set)

    def start_workflow(self) -> None:
        self.workflow_started = time.monotonic()

    def new_cube_seconds(self, homes: Iterable[Path]) -> tuple[int, float]:
        """Task runs recorded under ``homes`` since last asked: how many, and their time."""
        paths = [
            path
            for home in homes
            for path in task_time_paths(Workspace(home))
            if path not in self._seen
        ]
        self._seen.update(paths)
        return len(paths), sum(t.seconds for t in read_task_times(paths))

    def command(self, args: Sequence[str], wall: float, cubes: float) -> None:
        self.commands.append(CommandTime(verb(args), wall, cubes))

    def report(self, homes: Iterable[Path]) -> TimeReport:
        """The whole account, once every command has ended; every task time kept under
        ``homes`` counts, those of commands in the background too."""
        ended = time.monotonic()
        begun = self.workflow_started if self.workflow_started is not None else self.started
        self.new_cube_seconds(homes)  # whatever background commands recorded
        tasks = len(self._seen)
        cubes = sum(t.seconds for t in read_task_times(sorted(self._seen)))
        return TimeReport(
            setup=begun - self.started,
            workflow=ended - begun,
            cubes=cubes,
            tasks=tasks,
            commands=list(self.commands),
            background=self.background,
            notes=tuple(self.notes),
        )


@dataclass(frozen=True)
class TimeReport:
    setup: float
    workflow: float
    cubes: float
    tasks: int
    commands: list[CommandTime]
    background: int = 0
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """Every command, those in the background too."""
        return len(self.commands) + self.background

    @property
    def platform(self) -> float:
        return self.workflow - self.cubes

    @property
    def share(self) -> float:
        return self.platform / self.workflow if self.workflow > 0 else 0.0

    @property
    def met(self) -> bool:
        return self.share < BAR_SHARE

    def by_verb(self) -> list[tuple[str, int, float]]:
        """Platform time per kind of command (its wall time - its cubes'), most first."""
        spent: dict[str, list[float]] = defaultdict(list)
        for command in self.commands:
            spent[command.verb].append(command.wall - command.cubes)
        rows = [(name, len(times), sum(times)) for name, times in spent.items()]
        return sorted(rows, key=lambda row: -row[2])

    def lines(self, top: int = 8) -> list[str]:
        verdict = "met" if self.met else f"MISSED ({self.share / BAR_SHARE:.1f} times the bar)"
        in_commands = sum(c.wall - c.cubes for c in self.commands)
        spent = ", ".join(f"{name} x{n} {s:.1f} s" for name, n, s in self.by_verb()[:top])
        return [
            f"set-up (data exports, vendors' models; not counted): {self.setup:.1f} s",
            f"workflow wall time: {self.workflow:.1f} s, {self.count} commands "
            "each its own process",
            f"cube tasks' own time: {self.cubes:.1f} s in {self.tasks} sandboxed task runs "
            "(the runner's clock, sandbox start to exit)",
            f"platform time: {self.platform:.1f} s (workflow - cube tasks), "
            f"{self.share * 100:.1f}% of the workflow; bar under {BAR_SHARE * 100:.0f}%: "
            f"{verdict}",
            f"platform time in commands: {in_commands:.1f} s; the rest "
            f"({self.platform - in_commands:.1f} s) is the server's start-up and stop, the "
            "demo's own narration between commands and what ran in the background",
            f"by command (wall - cube tasks): {spent}",
            *self.notes,
        ]
