"""What a site says while it trains: typed progress events, read from its processes' output.

Two sources, both trusted (the app's own output never reaches either: the sandbox writes
it to a log file of its own):

- the SuperNode's log: connected to the aggregator, a message received (its run and its
  kind, ``train``, ``evaluate`` or ``query``), a reply sent, a problem Flower reports;
- the ``flwr-clientapp`` wrapper (:mod:`medval.training.clientapp_sandbox`), one line per
  ClientApp: :data:`EVENT_PREFIX` then a JSON object (finished, failed, app refused, a
  call refused, the metrics its reply reports with their round), and its stand-ins for
  Flower's other commands (task refused).

``metrics-sent`` is said by the use case that sends a site's own round metrics to medval's
server (:mod:`medval.client.training_site_rounds`): exactly the values that leave.

The SuperNode's log does not say a message's round (Flower's strategies put it inside the
message's content): a ``message-received`` event's ``ordinal`` counts the messages of its
kind this site received for its run (with every site sampled each round, it is the round).
The round a reply answers is read from the content by the channel, and comes with its
``reply-metrics`` event.
Imports the standard library only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

EVENT_PREFIX = "medval-site-event "
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LEVEL = re.compile(r"^(?P<level>[A-Z]+)\s*:\s*(?P<text>.*)$")
_RUN = re.compile(r"^\[RUN (?P<run>\d+)(?:, ROUND (?P<round>[^\]]+))?\]$")
_RECEIVING = re.compile(r"^Receiving: (?P<kind>\S+) message")
_SENDING = re.compile(r"^Sending: (?P<kind>\S+) message")
_NODE_ID = re.compile(r"^SuperNode ID: (?P<node>\d+)")


class ProgressKind(StrEnum):
    CONNECTED = "connected"
    MESSAGE_RECEIVED = "message-received"
    REPLY_SENT = "reply-sent"
    CLIENTAPP_FINISHED = "clientapp-finished"
    CLIENTAPP_FAILED = "clientapp-failed"
    APP_REFUSED = "app-refused"
    TASK_REFUSED = "task-refused"
    CALL_REFUSED = "call-refused"
    REPLY_METRICS = "reply-metrics"
    METRICS_SENT = "metrics-sent"
    METRICS_WITHHELD = "metrics-withheld"
    PROBLEM = "problem"
    STOPPED = "stopped"


@dataclass(frozen=True)
class SiteProgress:
    """One thing that happened at the site, said in one line (``text``)."""

    kind: ProgressKind
    text: str
    run_id: int | None = None
    message_kind: str | None = None
    ordinal: int | None = None
    # A reply's round (its ``server-round``) and scalar metrics (``reply-metrics``,
    # ``metrics-sent``).
    round: int | None = None
    metrics: dict[str, int | float] | None = None


# What the SuperNode says when it gives up, in medval's words (the first that matches).
_GAVE_UP_BECAUSE = (
    (
        "[code: 2004]",
        "the aggregator did not admit this site's node key: it is not registered (the "
        "association is not approved, or was revoked), or this node is still online there "
        "(a site that crashed is seen offline about a minute later)",
    ),
    (
        "CERTIFICATE_VERIFY_FAILED",
        "the aggregator's TLS certificate was not issued by the experiment's CA",
    ),
)


class SuperNodeLog:
    """Turns the SuperNode's log lines into progress events (None for the others).

    Kept across a site's restarts, so that a message's ordinal counts every message of
    its run the site received. ``gave_up`` says why the SuperNode ended, when it said so;
    ``unreachable`` whether its last attempts to reach the aggregator failed.
    """

    def __init__(self) -> None:
        self._run: int | None = None
        self._round: str | None = None
        self._received: Counter[tuple[int | None, str]] = Counter()
        self._exit_detail: list[str] | None = None
        self.gave_up: str | None = None
        self.unreachable = False

    def restart(self) -> None:
        self._exit_detail = None
        self.gave_up = None
        self.unreachable = False

    def read(self, line: str) -> SiteProgress | None:
        plain = _ANSI.sub("", line).strip()
        match = _LEVEL.match(plain)
        if match is None:
            return self._exit_reason(plain)
        level, text = match["level"], match["text"].strip()
        if run := _RUN.match(text):
            self._run, self._round = int(run["run"]), run["round"]
            return None
        if node := _NODE_ID.match(text):
            self.unreachable = False
            return SiteProgress(
                ProgressKind.CONNECTED, f"connected to the aggregator as node {node['node']}"
            )
        if receiving := _RECEIVING.match(text):
            self.unreachable = False
            return self._received_message(receiving["kind"])
        if sending := _SENDING.match(text):
            kind = sending["kind"]
            return SiteProgress(
                ProgressKind.REPLY_SENT,
                f"sent the {kind} reply (run {self._run})",
                run_id=self._run,
                message_kind=kind,
            )
        if text.startswith("Connection attempt failed"):
            if self.unreachable:
                return None
            self.unreachable = True
            return SiteProgress(
                ProgressKind.PROBLEM, "the aggregator cannot be reached; Flower keeps trying"
            )
        if text.startswith("Exit Code:"):
            self._exit_detail = []
            return None
        if level in {"ERROR", "CRITICAL"} and text:
            return SiteProgress(ProgressKind.PROBLEM, f"SuperNode: {text}")
        return None

    def _received_message(self, kind: str) -> SiteProgress:
        self._received[(self._run, kind)] += 1
        ordinal = self._received[(self._run, kind)]
        where = f"round {self._round}" if self._round else f"{kind} message {ordinal}"
        return SiteProgress(
            ProgressKind.MESSAGE_RECEIVED,
            f"received {'an' if kind[:1] in 'aeiou' else 'a'} {kind} message (run {self._run}, "
            f"{where})",
            run_id=self._run,
            message_kind=kind,
            ordinal=ordinal,
        )

    def _exit_reason(self, text: str) -> SiteProgress | None:
        """The lines after Flower's "Exit Code": why it gave up, said once, at their end."""
        if self._exit_detail is None:
            return None
        if text and not text.startswith("For more information"):
            self._exit_detail.append(text)
            return None
        detail = " ".join(self._exit_detail)
        self._exit_detail = None
        reason = next((said for key, said in _GAVE_UP_BECAUSE if key in detail), None)
        self.gave_up = reason or f"the SuperNode gave up: {detail}"
        return SiteProgress(ProgressKind.PROBLEM, self.gave_up)


def wrapper_event(line: str) -> SiteProgress | None:
    """An event line of the ``flwr-clientapp`` wrapper, or None for any other line."""
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        raw = json.loads(line[len(EVENT_PREFIX) :])
        kind = ProgressKind(raw["kind"])
        text = str(raw["text"])
        if kind is not ProgressKind.REPLY_METRICS:
            return SiteProgress(kind, text)
        round_number = raw["round"]
        metrics = {
            str(name): value
            for name, value in dict(raw["metrics"]).items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        return SiteProgress(
            kind,
            text,
            message_kind=str(raw["message_kind"]),
            round=round_number if isinstance(round_number, int) else None,
            metrics=metrics,
        )
    except (ValueError, KeyError, TypeError):
        return None
