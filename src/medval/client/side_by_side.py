"""Up to N executions of one run at once (``medval run --jobs N``).

Each execution runs in a worker thread: the work itself is done in sandbox subprocesses,
so threads are enough. The executions share the run's executor (each with a voice of its
own: ``Executor.reporting_to``) and take turns where they share files
(``client.run_locks``: one download of an archive, one unpacking of an image, one hash
of a dataset).

- What they say comes out whole: one lock is held around every line of progress and
  every call of the run's listener, and each step carries its execution's tag
  (:class:`TaggedProgress`).
- Ctrl-C reaches the main thread only: it stops every running sandbox at once
  (``runner.stopping``: each then ends as it would have heard Ctrl-C itself, recording
  nothing), starts no further execution, waits for the running ones to end and is raised
  again. Anything else a worker raises (a bug: what the model or the data owner's setup
  causes is a ``MedvalError``, handled by the caller's ``work``) ends the run the same way.

Imports: the client's executor; the runner's stopping; the standard library.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from medval.client.execution import Progress
from medval.core.pauses import SIGNAL_SLICE_SECONDS
from medval.runner.stopping import SandboxStop


class TaggedProgress:
    """One execution's steps, each line tagged (``[2/4]``) and said under ``voice``."""

    def __init__(self, progress: Progress, tag: str, voice: threading.Lock) -> None:
        self.progress = progress
        self.tag = tag
        self.voice = voice

    def step(self, message: str) -> None:
        with self.voice:
            self.progress.step(f"{self.tag} {message}")

    def done(self, message: str, seconds: float) -> None:
        with self.voice:
            self.progress.done(f"{self.tag} {message}", seconds)


def run_each(count: int, jobs: int, work: Callable[[int], None], go_on: Callable[[], bool]) -> int:
    """``work(0)``, ``work(1)``, … in that order, up to ``jobs`` at once (in this thread
    when one at a time); each starts only if ``go_on()`` says so then. Returns how many
    started."""
    if min(jobs, count) <= 1:
        started = 0
        for index in range(count):
            if not go_on():
                break
            started += 1
            work(index)
        return started
    stop = SandboxStop()
    guard = threading.Lock()
    begun = [0]

    def start(index: int) -> None:
        with guard:
            if stop.stopped or not go_on():
                return
            begun[0] += 1
        with stop.applied():
            work(index)

    with ThreadPoolExecutor(min(jobs, count), thread_name_prefix="medval-run") as pool:
        futures: list[Future[None]] = []
        try:
            futures += (pool.submit(start, index) for index in range(count))
            _wait_for_all_or_an_error(futures)
        except BaseException:
            stop.stop()
            for future in futures:
                future.cancel()
            raise  # once the running ones have ended (leaving the pool waits for them)
    return begun[0]


def _wait_for_all_or_an_error(futures: list[Future[None]]) -> None:
    """Return once every future is done; raise the first error as soon as one fails.

    The main thread waits on one event, in slices of ``SIGNAL_SLICE_SECONDS``: the
    kernel may hand Ctrl-C's SIGINT to a worker thread (seen here while the workers start
    subprocesses), and CPython then runs the handler in the main thread only when it runs
    Python code again; a wait without a timeout slept on, and ``medval simulate`` and
    ``medval run --jobs N`` went on after Ctrl-C (in a reproduction with the standard
    library alone, 8 of 15 Ctrl-Cs were never acted on). Not ``concurrent.futures.wait``
    in a loop: it takes every future's lock, one after the other, and a Ctrl-C landing in
    between left some taken, so that their workers, and the run, never ended (2 of 12
    Ctrl-Cs under load). An event's wait is safe to interrupt.
    """
    settled = threading.Event()
    guard = threading.Lock()
    left = [len(futures)]

    def settle(future: Future[None]) -> None:  # in the worker, once its future is done
        failed = not future.cancelled() and future.exception() is not None
        with guard:
            left[0] -= 1
            if failed or left[0] == 0:
                settled.set()

    for future in futures:
        future.add_done_callback(settle)
    while not settled.wait(SIGNAL_SLICE_SECONDS):
        pass
    for future in futures:
        error = future.exception() if future.done() and not future.cancelled() else None
        if error is not None:
            raise error
