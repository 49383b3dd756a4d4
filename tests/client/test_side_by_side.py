"""``client.side_by_side.run_each``: up to N pieces of work at once, none started after
``go_on`` says no, and a worker's unexpected error stops the others' sandboxes.

(Real executions side by side: tests/e2e/test_side_by_side_runs.py.)"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from medval.client.side_by_side import TaggedProgress, run_each
from medval.runner.stopping import current_stop

WAIT = 30  # seconds a worker waits for another before the test fails
CTRL_C_SECONDS = 10  # from Ctrl-C to the end: 0.2 s quiet, up to 1.5 s under load here


def test_one_at_a_time_runs_in_this_thread_in_order() -> None:
    seen: list[tuple[int, str, object]] = []

    def work(index: int) -> None:
        seen.append((index, threading.current_thread().name, current_stop()))

    assert run_each(3, 1, work, go_on=lambda: True) == 3
    here = threading.current_thread().name
    assert seen == [(0, here, None), (1, here, None), (2, here, None)]


def test_two_jobs_run_two_at_once_under_one_stop() -> None:
    both = threading.Barrier(2, timeout=WAIT)  # broken unless two wait at the same time
    stops = []

    def work(index: int) -> None:
        stops.append(current_stop())
        both.wait()

    assert run_each(4, 2, work, go_on=lambda: True) == 4
    assert len(stops) == 4 and stops[0] is not None and len(set(map(id, stops))) == 1


def test_nothing_starts_once_go_on_says_no_and_the_running_finish() -> None:
    second, failed = threading.Event(), threading.Event()
    finished: list[int] = []

    def work(index: int) -> None:
        if index == 0:
            assert second.wait(WAIT)
            failed.set()  # the first fails while the second runs
        else:
            second.set()
            assert failed.wait(WAIT)
            time.sleep(0.1)
        finished.append(index)

    started = run_each(5, 2, work, go_on=lambda: not failed.is_set())

    assert started == 2
    assert sorted(finished) == [0, 1]


def test_an_unexpected_error_stops_the_other_sandboxes_and_is_raised() -> None:
    def work(index: int) -> None:
        if index == 0:
            raise RuntimeError("a bug")
        stop = current_stop()
        assert stop is not None
        deadline = time.monotonic() + WAIT
        while not stop.stopped:  # a sandbox running here would be killed now
            assert time.monotonic() < deadline
            time.sleep(0.01)
        raise KeyboardInterrupt  # what its supervisor raises then

    with pytest.raises(RuntimeError, match="a bug"):
        run_each(4, 2, work, go_on=lambda: True)


def test_tagged_progress_names_the_execution_on_every_line() -> None:
    class Lines:
        def __init__(self) -> None:
            self.said: list[str] = []

        def step(self, message: str) -> None:
            self.said.append(f"→ {message}")

        def done(self, message: str, seconds: float) -> None:
            self.said.append(f"✓ {message} ({seconds:.1f} s)")

    lines = Lines()
    progress = TaggedProgress(lines, "[2/4]", threading.Lock())
    progress.step("model-b: infer")
    progress.done("model-b: infer", 1.25)
    assert lines.said == ["→ [2/4] model-b: infer", "✓ [2/4] model-b: infer (1.2 s)"]


# A program whose workers start subprocesses while its main thread waits on them, as
# `medval run --jobs N` and `medval simulate` do; it says "ready", then Ctrl-C.
_CTRL_C_PROGRAM = """
import subprocess, sys
from medval.client.side_by_side import run_each

def work(index):
    for _ in range(20):
        subprocess.run(["true"], preexec_fn=lambda: None)  # the runner's have one

print("ready", flush=True)
try:
    run_each(2000, 4, work, go_on=lambda: True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
print("finished", flush=True)
"""


def test_ctrl_c_reaches_a_main_thread_waiting_on_workers_that_start_processes() -> None:
    # The kernel hands SIGINT to a worker thread now and then; the main thread's wait
    # must still see it. Without the sliced wait, 8 of 15 such Ctrl-Cs were acted on only
    # after 15 s or more, or never; with it, each program ends in 0.2 s (1.5 s under load).
    for _ in range(8):
        program = subprocess.Popen(
            [sys.executable, "-c", _CTRL_C_PROGRAM],
            stdout=subprocess.PIPE,
            text=True,
            # As a terminal starts it: a background job has SIGINT ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            assert program.stdout is not None and program.stdout.readline() == "ready\n"
            time.sleep(0.5)  # the workers under way
            program.send_signal(signal.SIGINT)
            out, _ = program.communicate(timeout=CTRL_C_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"Ctrl-C was not acted on within {CTRL_C_SECONDS} s")
        finally:
            if program.poll() is None:
                program.kill()
                program.wait()
        assert (program.returncode, out) == (130, "interrupted\n")
