"""core.pauses.pause: a main thread that waits acts on a Ctrl-C the kernel handed to
another thread within a slice, where time.sleep waits its whole time out first."""

from __future__ import annotations

import subprocess
import sys

# The main thread blocks SIGINT, so the kernel hands a Ctrl-C sent to the process to
# the one thread that does not (started before the block): as it does now and then
# when nothing blocks it. Prints the seconds from the Ctrl-C to the KeyboardInterrupt.
_PROGRAM = """
import os, signal, sys, threading, time
from medval.core.pauses import pause

# As a terminal's foreground job has it: make runs test lanes in the background, where
# SIGINT is ignored, and Python then installs no handler of its own.
signal.signal(signal.SIGINT, signal.default_int_handler)
taker_started = threading.Event()
def taker():
    taker_started.set()
    time.sleep(60)
threading.Thread(target=taker, daemon=True).start()
taker_started.wait()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
sent = []
def ctrl_c():
    sent.append(time.monotonic())
    os.kill(os.getpid(), signal.SIGINT)
threading.Timer(0.3, ctrl_c).start()
try:
    WAIT(3.0)
except KeyboardInterrupt:
    print(f"{time.monotonic() - sent[0]:.2f}")
"""


def _seconds_to_act(wait: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM.replace("WAIT", wait)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


def test_a_pause_acts_on_a_ctrl_c_taken_by_another_thread_within_a_slice() -> None:
    assert _seconds_to_act("pause") < 1.5  # 0.1 s on a quiet machine (0.2 s slices)


def test_a_plain_sleep_would_have_waited_its_time_out() -> None:
    # What the pause is for: the same program with time.sleep acts only at its end.
    assert _seconds_to_act("time.sleep") >= 2.5  # 2.7 s on a quiet machine
