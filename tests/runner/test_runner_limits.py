"""Contract: a task's limits hold for the whole task, not per process.

Memory counts all of its processes and its in-memory files (``/tmp``, ``/dev/shm``);
the process limit counts all processes alive at once. Where a runner cannot hold a
limit on this machine it must say so before the run (``Runner.caveats``), never
silently: the tests then check that it says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medval.core.errors import SandboxError
from medval.runner import MIB, Limits, Runner

from .cubes import Cube, CubeMaker

pytestmark = pytest.mark.sandbox

ONE_GIB = Limits(timeout_seconds=60, memory_bytes=1024 * MIB, max_processes=64)
OUT_OF_MEMORY = "task 'infer' of cube 'probe' ran out of memory (limit 1024 MiB)"


def _said_before_the_run(runner: Runner, limits: Limits) -> bool:
    caveats = runner.caveats(limits)
    for line in caveats:
        assert "\n" not in line and "memory" in line and "process" in line
    return bool(caveats)


def _stopped_for_memory(runner: Runner, cube: Cube, here: Path) -> bool:
    """Run under 1 GiB from the folder ``here``: True if the runner said it cannot hold
    the limit here (before the run) or stopped the task for memory; False if the cube
    finished (and reported). Either way the run left nothing in the caller's current
    folder (Podman's monitor writes a file 'oom' into its own when a task runs out of
    memory: the runner starts it elsewhere)."""
    if _said_before_the_run(runner, ONE_GIB):
        return True
    here.mkdir()
    before = Path.cwd()
    os.chdir(here)
    try:
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, ONE_GIB)
    except SandboxError as error:
        assert str(error) == OUT_OF_MEMORY
        return True
    finally:
        os.chdir(before)
        assert list(here.iterdir()) == []
    return False


def test_memory_is_one_limit_for_all_processes(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    """Three processes of 450 MiB each hold 1.35 GiB under a 1 GiB limit: not allowed."""
    cube = make_cube(
        """
        import subprocess, time
        hold = "import sys, time; block = b'x' * (450 << 20); print('held', flush=True); " \\
               "time.sleep(3)"
        children = [subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE)
                    for _ in range(3)]
        held = [child.stdout.readline().strip() == b"held" for child in children]
        codes = [child.wait() for child in children]
        report({"held": held, "codes": codes})
        """
    )
    if _stopped_for_memory(runner, cube, tmp_path / "caller"):
        return
    report = cube.report()
    # The kernel killed one of them: the cube saw a child die, not 1.35 GiB held.
    assert not all(report["held"]) or any(code != 0 for code in report["codes"]), report


def test_in_memory_files_count_toward_the_memory_limit(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    """400 MiB in /tmp, 400 MiB in /dev/shm and 400 MiB held: over 1 GiB together."""
    cube = make_cube(
        """
        done = []
        chunk = b"x" * (16 << 20)
        for place in ("/tmp/fill", "/dev/shm/fill"):
            try:
                with open(place, "wb") as handle:
                    for _ in range(25):
                        handle.write(chunk)
                done.append(place)
            except OSError as exc:
                done.append(f"{place}: {exc.strerror}")
        block = b"y" * (400 << 20)
        done.append("held")
        report(done)
        """
    )
    if _stopped_for_memory(runner, cube, tmp_path / "caller"):
        return
    assert cube.report() != ["/tmp/fill", "/dev/shm/fill", "held"]


def test_processes_past_the_limit_are_refused(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(
        """
        import signal, time
        children = []
        refused = None
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError as exc:
                refused = exc.strerror
                break
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        report({"started": len(children), "refused": refused})
        """
    )
    limits = Limits(timeout_seconds=60, memory_bytes=1024 * MIB, max_processes=32)
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, limits)
    report = cube.report()
    assert report["refused"] == "Resource temporarily unavailable"
    assert report["started"] < 32
