"""The doors of logging in: failures counted per account and per address, a bounded number
of password checks at once, and a dummy hash so an unknown user costs a check too.

Hand-written rather than a rate-limiting library (slowapi, limits): what is limited here
is *failed* logins, keyed by the account and by the address at once, on the services'
clock (so tests move time); those libraries count requests per route, with their own
clock and storage. The counts live in this process: a restart forgets them, and several
server processes count apart (each still bounds its own).

It imports only the settings and the core's errors.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from argon2 import PasswordHasher

from medval.core.errors import RateLimited, ServerUnavailable
from medval.server.settings import ServerSettings

# Past this many keys, a failure sweeps out the keys whose failures have all expired, so
# that a caller cycling through names or addresses cannot grow the counts without end.
_SWEEP_ABOVE = 10_000


class FailureCounter:
    """Failures per key in a sliding window: ``limit`` of them block the key until the
    oldest leaves the window."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def seconds_blocked(self, key: str, now: datetime) -> int:
        """0 if ``key`` may try now, else how many seconds until it may."""
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.limit:
                return 0
            return max(1, math.ceil((times[0] + self.window - now).total_seconds()))

    def failed(self, key: str, now: datetime) -> None:
        with self._lock:
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            if len(self._failures) > _SWEEP_ABOVE:
                for stale in [k for k in self._failures if not self._recent(k, now)]:
                    del self._failures[stale]

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LoginGuard:
    """One per server: see the module's docstring."""

    def __init__(self, settings: ServerSettings) -> None:
        window = timedelta(seconds=settings.login_failure_window_seconds)
        self.accounts = FailureCounter(settings.login_max_failures, window)
        self.addresses = FailureCounter(settings.login_max_failures, window)
        self._checks = threading.BoundedSemaphore(settings.max_concurrent_password_checks)
        self._wait_seconds = settings.password_check_wait_seconds
        self._dummy_hashes: dict[str, str] = {}
        self._dummy_lock = threading.Lock()

    def check_allowed(self, username: str, address: str, now: datetime) -> None:
        """``RateLimited`` if the account or the address has failed too often lately.

        An unknown username is counted like a known one, so the limit tells nothing
        about which names exist.
        """
        for counter, key, what in (
            (self.accounts, username, "this account"),
            (self.addresses, address, "your address"),
        ):
            seconds = counter.seconds_blocked(key, now)
            if seconds:
                raise RateLimited(
                    f"too many failed logins for {what}; try again in {seconds} s", seconds
                )

    def failed(self, username: str, address: str, now: datetime) -> None:
        self.accounts.failed(username, now)
        self.addresses.failed(address, now)

    def succeeded(self, username: str) -> None:
        self.accounts.clear(username)

    @contextmanager
    def password_check(self) -> Iterator[None]:
        """Hold one of the few slots for an argon2 check (each takes ~64 MiB); a caller
        that waits longer than the setting gets a 503 instead of more memory used."""
        if not self._checks.acquire(timeout=self._wait_seconds):
            raise ServerUnavailable("the server is busy checking passwords; try again shortly")
        try:
            yield
        finally:
            self._checks.release()

    def dummy_hash(self, hasher: PasswordHasher) -> str:
        """A hash of no one's password, made with ``hasher``'s parameters (made once):
        checked for an unknown user so that the answer takes as long as for a known one."""
        key = f"{hasher.time_cost}:{hasher.memory_cost}:{hasher.parallelism}"
        with self._dummy_lock:
            if key not in self._dummy_hashes:
                self._dummy_hashes[key] = hasher.hash("not anyone's password")
            return self._dummy_hashes[key]
