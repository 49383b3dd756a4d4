"""How far a per-case step is, said as it goes: cases done of the total, the time elapsed
and an estimate of the time left (from the pace so far).

A line is said when the first case finishes, then at most every ``every`` seconds, and
when the last one does, so 200 cases make a few lines, not 200. Cases finish on several
threads at once (``--jobs``): the count is kept under a lock. A case kept from an earlier
run (finished from the same input) counts as done but not in the pace, so that a resumed
step does not promise to end at once. The clock is passed in (``time.monotonic`` by
default) so that tests set the time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``: short, and wide enough to read at a glance."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class StepClock:
    """Counts the cases of one step as they finish and says how far it is."""

    def __init__(
        self,
        step: str,
        total: int,
        say: Callable[[str], None],
        *,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.step = step
        self.total = total
        self.say = say
        self.every = every
        self.clock = clock
        self.started = clock()
        self.done = 0
        self.kept = 0  # done in an earlier run: counted, not timed
        self._said_at: float | None = None
        self._lock = threading.Lock()

    def case_finished(self, ran: bool = True) -> None:
        """One more case finished (succeeded or set aside); ``ran``: its task ran now (not
        kept from an earlier run)."""
        with self._lock:
            self.done += 1
            self.kept += 0 if ran else 1
            now = self.clock()
            last = self.done == self.total
            if not last and (not ran or self._soon(now)):
                return
            self._said_at = now
            line = self.line(now)
        self.say(line)

    def _soon(self, now: float) -> bool:
        return self._said_at is not None and now - self._said_at < self.every

    def line(self, now: float) -> str:
        elapsed = now - self.started
        kept = f" ({self.kept} kept from before)" if self.kept else ""
        said = f"{self.step}: {self.done} of {self.total} cases{kept}, {duration(elapsed)} elapsed"
        ran = self.done - self.kept
        if self.done >= self.total:
            return said
        if ran == 0:
            return f"{said}, no estimate yet"
        left = elapsed / ran * (self.total - self.done)
        return f"{said}, about {duration(left)} left"
