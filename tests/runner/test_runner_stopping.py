"""Contract: a task run in a worker thread ends when its run is stopped from another thread
(Ctrl-C with ``medval run --jobs N``, heard by the main thread only), as if it had heard
Ctrl-C itself: ``KeyboardInterrupt`` in its own thread, nothing of it left running.

Runs against every runner in ``RUNNER_FACTORIES`` (see conftest.py).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from medval.runner import Limits, Runner
from medval.runner.stopping import SandboxStop

from .cubes import Cube, CubeMaker

pytestmark = pytest.mark.sandbox

# Says it started, then a process in its own session means to write after the stop.
_LINGERING = """
    import time
    open(os.path.join(args["output_path"], "started"), "w").close()
    if os.fork() == 0:
        os.setsid()
        time.sleep(1.5)
        open(os.path.join(args["output_path"], "survivor"), "w").close()
        os._exit(0)
    time.sleep(60)
    """


def _run_in_worker(runner: Runner, cube: Cube, stop: SandboxStop) -> tuple[threading.Thread, list]:
    """``runner.run`` in a thread under ``stop``; what it raised lands in the list."""
    raised: list[BaseException] = []

    def work() -> None:
        try:
            with stop.applied():
                runner.run(cube.folder, cube.spec, "infer", cube.mounts, Limits(120, 1 << 30))
        except BaseException as exc:  # the thread's end, as the test sees it
            raised.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    return thread, raised


def _wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_stop_from_another_thread_ends_the_task_and_all_it_started(
    runner: Runner, make_cube: CubeMaker
) -> None:
    cube = make_cube(_LINGERING)
    stop = SandboxStop()
    thread, raised = _run_in_worker(runner, cube, stop)
    _wait_for(cube.output / "started")

    stop.stop()
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert [type(exc) for exc in raised] == [KeyboardInterrupt]
    time.sleep(2)  # the lingering process would have written by now
    assert not (cube.output / "survivor").exists()


def test_no_task_starts_once_stopped(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(_LINGERING)
    stop = SandboxStop()
    stop.stop()
    thread, raised = _run_in_worker(runner, cube, stop)
    thread.join(timeout=30)

    assert [type(exc) for exc in raised] == [KeyboardInterrupt]
    assert not (cube.output / "started").exists()


def test_a_stop_reaches_only_the_tasks_run_under_it(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube('open(os.path.join(args["output_path"], "done"), "w").close()')
    SandboxStop().stop()  # another run's
    run = runner.run(cube.folder, cube.spec, "infer", cube.mounts, Limits(60, 1 << 30))
    assert run.exit_code == 0
    assert (cube.output / "done").exists()
