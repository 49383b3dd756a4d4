"""The local runner's client dies mid-start (SIGKILL): no process of the task is left.

bubblewrap forks the sandbox's first process, then tells it through an eventfd to go
on; that process dies with ``bwrap`` only from later on. A client killed in between
(``bwrap`` dies with it) used to leave that process behind for ever: reparented to
init, as nobody, no children, blocked on its eventfd. The window is microseconds wide,
so here ``bwrap`` is held in it: a wrapper adds ``--info-fd`` on a FIFO filled to the
brim, so that ``bwrap``'s outer process stops writing its info there, after the fork
(and after its own ``--die-with-parent``), before it tells the child. The client is
then SIGKILLed.
(:mod:`medval.runner.task_namespace` says why nothing is left now.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cubes import CubeMaker

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[2]

# The client: run the cube's infer task on the local runner with the given bwrap.
_CLIENT = """
import sys
from pathlib import Path
from medval.core.cube_spec import load_cube_spec
from medval.runner import BubblewrapRunner, Limits
bwrap, folder, data, output = sys.argv[1:]
runner = BubblewrapRunner(bwrap=bwrap)
mounts = {"data_path": Path(data), "output_path": Path(output)}
runner.run(Path(folder), load_cube_spec(Path(folder)), "infer", mounts, Limits(60, 1 << 30))
"""


@pytest.fixture
def held_bwrap() -> Iterator[tuple[Path, str]]:
    """A ``bwrap`` that stops between its fork and its word to the child, and the mark
    its processes carry on their command line (a folder every account can reach, since
    a root client runs it as nobody)."""
    folder = Path(tempfile.mkdtemp(prefix="medval-held-bwrap-"))
    folder.chmod(0o755)
    fifo = folder / "full"
    os.mkfifo(fifo)
    fifo.chmod(0o666)
    # A reader, so that the wrapper's open goes through; and the pipe full, so that
    # bwrap's first write to it waits for ever.
    keep_open = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        while True:
            os.write(keep_open, b"x" * 4096)
    except BlockingIOError:
        pass
    wrapper = folder / "bwrap"
    real = shutil.which("bwrap")
    assert real is not None, "bubblewrap is not installed"
    wrapper.write_text(
        textwrap.dedent(f"""\
            #!/bin/sh
            [ "$1" = --version ] && exec {real} --version
            exec 9>{fifo}
            # Its options last before the command's "--", so that its --info-fd wins.
            first=1 added=
            for word; do
                [ -n "$first" ] && set -- && first=
                if [ -z "$added" ] && [ "$word" = -- ]; then
                    set -- "$@" --info-fd 9 --setenv HELD_MARK {folder}
                    added=1
                fi
                set -- "$@" "$word"
            done
            exec {real} "$@"
            """)
    )
    wrapper.chmod(0o755)
    try:
        yield wrapper, str(folder)
    finally:
        _kill(_marked(str(folder)))
        os.close(keep_open)
        shutil.rmtree(folder)


def test_a_client_killed_while_bwrap_starts_leaves_no_process(
    held_bwrap: tuple[Path, str], make_cube: CubeMaker
) -> None:
    wrapper, mark = held_bwrap
    cube = make_cube('open(os.path.join(args["output_path"], "ran"), "w").close()')
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    client = subprocess.Popen(
        [sys.executable, "-c", _CLIENT, str(wrapper), str(cube.folder), str(cube.data),
         str(cube.output)],
        cwd=REPO, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        # bwrap's outer process and the child it forked, both stopped where they wait
        # (seen twice in a row, to be sure).
        held = 0
        while held < 2:
            assert client.poll() is None, "the client ended before bwrap started"
            assert time.monotonic() < deadline, f"bwrap never stopped: {_marked(mark)}"
            time.sleep(0.02)
            pids = _marked(mark)
            held = held + 1 if len(pids) == 2 and _all_asleep(pids) else 0
    finally:
        client.send_signal(signal.SIGKILL)
        client.wait()

    deadline = time.monotonic() + 10
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = {pid: _describe(pid) for pid in _marked(mark)}
    assert left == {}, f"the task's processes outlived its client: {left}"
    assert not (cube.output / "ran").exists()


def _marked(mark: str) -> list[int]:
    """The wrapper's live (not zombie) ``bwrap`` processes: those whose command line
    holds ``mark`` as the wrapper gave it."""
    needle = f"HELD_MARK\0{mark}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if needle in cmdline and _state(stat) != "Z":
            found.append(int(entry.name))
    return found


def _all_asleep(pids: list[int]) -> bool:
    try:
        stats = [Path(f"/proc/{pid}/stat").read_text() for pid in pids]
    except OSError:
        return False
    return all(_state(stat) == "S" for stat in stats)


def _state(stat: str) -> str:
    return stat.rsplit(")", 1)[1].split()[0]


def _describe(pid: int) -> str:
    """Its parent, uid, state and what it waits in, as ps would say them."""
    try:
        status = dict(
            line.split(":\t", 1)
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if ":\t" in line
        )
        wchan = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return "gone"
    uid = status["Uid"].split()[0]
    return f"ppid {status['PPid']} uid {uid} state {status['State']} waits in {wchan}"


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
