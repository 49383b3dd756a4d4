"""The console's doors: the one-time token, the session cookie it is exchanged for, the
CSRF token every form carries, and the Host header that must name loopback.

Only the person at the terminal has the token (printed there); the first request that
brings it gets the session cookie and the token is spent. A page on another site can
neither read the console (no cookie crosses: SameSite=Strict, and the Host check stops
a DNS-rebound name) nor post to it (no CSRF token).

Imports: the standard library only.
"""

from __future__ import annotations

import hmac
import secrets
import threading

LOOPBACK = "127.0.0.1"
COOKIE = "medval_console"
CSRF_FIELD = "csrf"


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class ConsoleDoor:
    """The secrets of one console process, listening on ``port``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.token = secrets.token_urlsafe(32)
        self.session = secrets.token_urlsafe(32)
        self.csrf = secrets.token_urlsafe(32)
        self._spent = False
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        """What the terminal prints: the only way in."""
        return f"http://{LOOPBACK}:{self.port}/?token={self.token}"

    def host_allowed(self, host: str | None) -> bool:
        """The browser asked for this console by a loopback name (not a rebound one)."""
        return host in (f"{LOOPBACK}:{self.port}", f"localhost:{self.port}")

    def redeem(self, token: str) -> bool:
        """True once: for the first request that brings the right token."""
        with self._lock:
            if self._spent or not _same(token, self.token):
                return False
            self._spent = True
            return True

    def has_session(self, cookie: str | None) -> bool:
        return _same(cookie, self.session)

    def csrf_ok(self, value: str | None) -> bool:
        return _same(value, self.csrf)
