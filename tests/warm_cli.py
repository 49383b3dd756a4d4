"""``medval`` commands as processes of their own, forked from one that has imported medval
already: what the end-to-end tests' people run (``tests/e2e/people.py``).

Each command is still a separate process with its own arguments, environment, working
folder, standard input, output and exit code, as ``python -m medval ...`` would be; what
it skips is the interpreter's start and medval's imports, about half a second of each of
the thousand-odd commands the tests run (half of an end-to-end module's time went to
it). They are forked from a single-threaded process started once per test process
(``tests/warm_cli_zygote.py``), which has imported medval's CLI, client, runners and the
rest a command may load, and runs nothing itself, so no command sees another's state.
What only a real start shows (the lazy imports, ``python -m medval`` itself) is tested by
the tests that start ``python -m medval`` (tests/cli, tests/demo, bench/cli_startup.py).

(multiprocessing's fork server would do the forking, but it imports the parent's main
script again in each child: pytest's, when pytest runs without xdist.)
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.cpu_time import add_cpu_seconds

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CliResult:
    """A finished command: its exit code and what it wrote."""

    code: int
    stdout: str
    stderr: str


@cache
def _zygote() -> Path:
    """Start this process's zygote; the path of the socket it listens on."""
    folder = Path(tempfile.mkdtemp(prefix="medval-warm-cli-"))
    address = folder / "socket"
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.warm_cli_zygote", str(address)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert zygote.stdout is not None
    ready = zygote.stdout.readline()
    assert ready == "ready\n", f"the warm CLI's zygote did not start: {ready!r}"

    def stop() -> None:
        zygote.terminate()
        zygote.wait()
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return address


def run_medval(
    args: list[str], env: Mapping[str, str], stdin: str = "", timeout: float = 600
) -> CliResult:
    """``python -m medval ARGS`` with ``env`` as its whole environment, in the caller's
    working folder; raises ``subprocess.TimeoutExpired`` (the process killed) as
    ``subprocess.run`` does."""
    with tempfile.TemporaryDirectory(prefix="medval-cli-") as folder:
        streams = {name: Path(folder) / name for name in ("stdin", "stdout", "stderr")}
        streams["stdin"].write_text(stdin)
        request = {"args": args, "env": dict(env), "cwd": os.getcwd()}
        request |= {name: str(path) for name, path in streams.items()}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(_zygote()))
            connection.sendall(json.dumps(request).encode() + b"\n")
            connection.settimeout(timeout)
            answers = connection.makefile("r")
            pid = int(answers.readline())
            try:
                ended = answers.readline()
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(["medval", *args], timeout) from None
        if not ended:
            raise RuntimeError(f"medval {' '.join(args)}: its process ended with no exit code")
        code, cpu_seconds = ended.split()
        add_cpu_seconds(float(cpu_seconds))
        return CliResult(
            int(code),
            streams["stdout"].read_text(errors="replace"),
            streams["stderr"].read_text(errors="replace"),
        )
