"""The server's rows: its health endpoint answers, its TLS certificate is trusted (for
``https://``), and this machine's clock agrees with the server's ``Date`` header.

All of them are warnings, never failures: a task runs without the server, and a data
owner may check the machine before the server exists. The address is
``ClientSettings.server``, else the stored login's.
"""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx

from medval.client.machine_checks.results import CheckResult, Machine, ok, problem
from medval.client.settings import ClientSettings, load_login, tls_verify
from medval.core import api
from medval.core.errors import InvalidInput

# A clock further off than this from the server's: a warning (tokens' and signatures'
# times, and the audit log's, would disagree with the server's).
MAX_CLOCK_SKEW_SECONDS = 60.0
_REACHABLE = "server: reachable"
_TLS = "server: TLS"
_CLOCK = "server: clock"


def server_url(settings: ClientSettings) -> str | None:
    """The server this client talks to: the setting, else the stored login's."""
    if settings.server:
        return settings.server
    try:
        login = load_login(settings)
    except InvalidInput:
        return None
    return login.server if login else None


def server_rows(settings: ClientSettings, machine: Machine) -> list[CheckResult]:
    url = server_url(settings)
    if url is None:
        found = "no server set (MEDVAL_SERVER) and no login stored"
        fix = "set MEDVAL_SERVER=URL, or run 'medval login --server URL --username NAME'"
        return [problem(_REACHABLE, found, fix, False)]
    if not url.startswith(("http://", "https://")):
        fix = "set MEDVAL_SERVER to an http:// or https:// URL"
        return [problem(_REACHABLE, f"{url!r} is not an http(s) URL", fix, False)]
    try:
        verify = tls_verify(settings)
    except InvalidInput as exc:
        fix = "set MEDVAL_CA_BUNDLE to a readable PEM file of the CA that signed the server's"
        return [problem(_TLS, exc.message, fix, False)]
    started = time.monotonic()
    try:
        with httpx.Client(verify=verify, timeout=machine.server_timeout_seconds) as http:
            response = http.get(url.rstrip("/") + api.PREFIX + api.HEALTH)
    except httpx.HTTPError as exc:
        return _unreachable(url, exc)
    took = time.monotonic() - started
    answered_at = machine.clock()
    version = _medval_version(response)
    if version is None:
        found = f"{url} answered HTTP {response.status_code}, not as a medval server does"
        fix = "check the URL: the server's address, without /api/v1"
        return [problem(_REACHABLE, found, fix, False)]
    return [
        ok(_REACHABLE, f"{url}: medval {version}, answered in {took * 1000:.0f} ms"),
        _tls_row(url, settings),
        _clock_row(response, answered_at),
    ]


def _unreachable(url: str, exc: httpx.HTTPError) -> list[CheckResult]:
    reason = str(exc) or exc.__class__.__name__
    if "CERTIFICATE_VERIFY_FAILED" in reason:
        return [
            problem(_REACHABLE, f"{url}: the TLS handshake failed", "see the TLS row", False),
            problem(
                _TLS,
                f"the certificate of {url} is not trusted ({reason})",
                "set MEDVAL_CA_BUNDLE to the CA that signed it",
                False,
            ),
        ]
    found = f"cannot reach {url} ({exc.__class__.__name__}: {reason})"
    fix = "check the URL, that the server runs, and no firewall or proxy is in between"
    return [problem(_REACHABLE, found, fix, False)]


def _medval_version(response: httpx.Response) -> str | None:
    if not response.is_success:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("status") != "ok":
        return None
    return str(body.get("version", "unknown"))


def _tls_row(url: str, settings: ClientSettings) -> CheckResult:
    host = httpx.URL(url).host
    if url.startswith("https://"):
        trusted_by = f"the CA in {settings.ca_bundle}" if settings.ca_bundle else "the system's CAs"
        return ok(_TLS, f"certificate trusted by {trusted_by}")
    if _loopback(host):
        return ok(_TLS, "plain http, to this machine only")
    found = "plain http: passwords, tokens and results cross the network unencrypted"
    return problem(_TLS, found, "serve the server over HTTPS and use its https:// URL", False)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clock_row(response: httpx.Response, answered_at: datetime) -> CheckResult:
    date = response.headers.get("date")
    if date is None:
        found = "the server sent no Date header to compare with"
        return problem(_CLOCK, found, "serve medval without a proxy that drops it", False)
    try:
        server_time = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return problem(
            _CLOCK,
            f"the server's Date header {date!r} is not a date",
            "check what sits between this machine and the server",
            False,
        )
    skew = (answered_at - server_time).total_seconds()
    direction = "ahead of" if skew > 0 else "behind"
    found = f"{abs(skew):.0f} s {direction} the server's"
    if abs(skew) > MAX_CLOCK_SKEW_SECONDS:
        fix = "synchronise this machine's clock (timedatectl set-ntp true, or chrony)"
        return problem(_CLOCK, f"{found} (more than {MAX_CLOCK_SKEW_SECONDS:g} s)", fix, False)
    return ok(_CLOCK, found)
