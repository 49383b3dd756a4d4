"""The demo's cast and its narrator: each person (an :class:`Actor`, with a client folder
of its own) runs ``medval`` commands as child processes, printed as they run and timed
(:mod:`medval.demo.timing`); a command that fails ends the demo in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.rule import Rule

from medval.core.errors import MedvalError
from medval.core.exit_codes import ExitCode
from medval.demo.timing import Clock

DEMO_PASSWORD = "demo-password-not-secret"
# A section's rule written to a pipe or a log: there the console is unbounded, so that
# tables are never cut (cli.context.output_console), and a rule would be that wide.
LOGGED_RULE_WIDTH = 88


def section_rule(console: Console, title: str) -> None:
    """A rule across the terminal with ``title`` in it; in a pipe or a log, 88 wide."""
    if console.is_terminal:
        console.rule(title)
    else:
        console.print(Rule(title), width=LOGGED_RULE_WIDTH)


class DemoFailed(MedvalError):
    """A step of the demo failed; its line names the command and how it ended."""

    code = "demo_failed"
    exit_code = ExitCode.FAILED


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    home: Path


class Demo:
    """Runs ``medval`` as one actor or another, and narrates."""

    def __init__(self, workdir: Path, console: Console, runner: str = "local") -> None:
        self.workdir = workdir
        self.console = console
        self.runner = runner
        self.server_url = ""
        self.clock = Clock()  # what of the demo's time was medval's (demo.timing)
        # The machine's folder of cubes' Python environments, shared by every actor's
        # client (MEDVAL_ENVIRONMENTS), unless the caller's environment names one.
        self.shared_environments: Path | None = None

    def actor(self, username: str, role: str) -> Actor:
        return Actor(username, role, self.workdir / "clients" / username)

    def section(self, title: str) -> None:
        elapsed = time.monotonic() - self.clock.started
        section_rule(self.console, f"[bold]{title}[/bold]  [dim]({elapsed:.0f} s)[/dim]")

    def medval(self, who: Actor, *args: str, show: bool = False) -> str:
        """Run one CLI command as ``who``; stream its progress; return its stdout."""
        started = time.monotonic()
        self.console.print(f"[bold cyan]{who.username}[/bold cyan] $ medval {' '.join(args)}")
        env = self.environment(who)
        stdout_path = self.workdir / "last-stdout.txt"
        with stdout_path.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "medval", *args],
                env=env,
                stdout=out,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            assert process.stderr is not None
            for line in process.stderr:
                self.console.print(f"    {line.rstrip()}", highlight=False, markup=False)
            code = process.wait()
        self.timed(who, args, time.monotonic() - started)
        output = stdout_path.read_text()
        if show:
            self.console.print(output, highlight=False, markup=False)
        if code != 0:
            raise DemoFailed(f"'medval {' '.join(args)}' as {who.username} exited with {code}")
        return output

    def timed(self, who: Actor, args: tuple[str, ...], wall: float) -> None:
        """Note one command's wall time, and the cube tasks' time it recorded in ``who``'s
        client folder."""
        _, cubes = self.clock.new_cube_seconds([who.home])
        self.clock.command(args, wall, cubes)

    def client_homes(self) -> list[Path]:
        return sorted(path for path in (self.workdir / "clients").glob("*") if path.is_dir())

    def environment(self, who: Actor) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            MEDVAL_HOME=str(who.home),
            MEDVAL_SERVER=self.server_url,
            MEDVAL_PASSWORD=DEMO_PASSWORD,
            MEDVAL_RUNNER=self.runner,
            MEDVAL_PROGRESS="always",  # the demo shows each command's progress as it comes
            COLUMNS="160",
        )
        if self.shared_environments is not None:
            env.setdefault("MEDVAL_ENVIRONMENTS", str(self.shared_environments))
        return env

    def start(self, who: Actor, log: Path, *args: str) -> subprocess.Popen[bytes]:
        """Start one CLI command as ``who`` in the background, its output to ``log``
        (its wall time is not a command's: its cube tasks' time is counted at the end)."""
        self.clock.background += 1
        self.console.print(
            f"[bold cyan]{who.username}[/bold cyan] $ medval {' '.join(args)} "
            f"[dim](in the background; output in {log})[/dim]"
        )
        with log.open("wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "medval", *args],
                env=self.environment(who),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def fail(self, message: str) -> None:
        raise DemoFailed(message)

    def medval_json(self, who: Actor, *args: str) -> Any:
        return json.loads(self.medval(who, *args, "--format", "json"))
