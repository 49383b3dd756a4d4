"""Waiting in the main thread without missing a Ctrl-C.

The kernel hands a process's SIGINT to any of its threads that does not block it. Python
notes it there, but runs the handler (raising KeyboardInterrupt) only in the main thread,
when that thread next runs Python code: a main thread in ``time.sleep(10)`` or an
``Event.wait()`` without a timeout would act on the Ctrl-C only when that wait ends. So
every wait of a main thread that has other threads beside it is made of slices of at
most ``SIGNAL_SLICE_SECONDS``.
"""

from __future__ import annotations

import time

SIGNAL_SLICE_SECONDS = 0.2


def pause(seconds: float) -> None:
    """``time.sleep(seconds)``, in slices, so that a Ctrl-C is acted on within one."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, SIGNAL_SLICE_SECONDS))
