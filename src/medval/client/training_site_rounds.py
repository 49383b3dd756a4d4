"""A site's own round metrics, sent to medval's server while ``medval training run`` trains.

The site reads the metrics each ClientApp reply reports, with its round
(``reply-metrics`` events, :mod:`medval.training.clientapp_reply`). This use case keeps
what may leave (:mod:`medval.core.training_small_cells`: nothing from a reply on fewer
than ``k`` examples), named ``train.<name>`` and ``evaluate.<name>``, and sends one record
per round through the server's API (``report_site_round``); only the site's owner, the
training owner and admins see it there. A round is tried three times while the server
cannot be reached (the last one is sent as the site stops: there is no later chance).

The server keeps one record per site and round, and refuses a second that differs; a
round's train and evaluate replies come one after the other. So a round is sent once a
reply of a later round arrives, or when the site stops (:meth:`SiteRounds.flush`). What
is sent is said first, value by value (``metrics-sent``); what is withheld, and why
(``metrics-withheld``). A failure to send is said as a problem and training goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from pydantic import ValidationError

from medval.core.errors import MedvalError, ServerUnavailable
from medval.core.training_schemas import SiteRoundMetricsCreate, SiteRoundMetricsPublic
from medval.core.training_small_cells import Number, releasable_metrics
from medval.training.site_progress import ProgressKind, SiteProgress

# A round the server could not be reached for is sent again, after 2 s, then 4 s.
_REPORT_ATTEMPTS = 3
_REPORT_PAUSE_SECONDS = 2.0


class SiteRoundReporter(Protocol):
    """Where a site's rounds go: ``client.training`` (``TrainingCalls``), or a fake."""

    def report_site_round(
        self, experiment_id: int, body: SiteRoundMetricsCreate
    ) -> SiteRoundMetricsPublic: ...


class SiteRounds:
    """One site's rounds of one experiment, kept until they can be sent."""

    def __init__(
        self,
        calls: SiteRoundReporter,
        experiment_id: int,
        dataset_id: int,
        min_cell_count: int,
        on_progress: Callable[[SiteProgress], None],
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.calls = calls
        self.experiment_id = experiment_id
        self.dataset_id = dataset_id
        self.k = min_cell_count
        self.on_progress = on_progress
        self._pause = pause
        self._pending: dict[int, dict[str, Number]] = {}
        self._lock = threading.Lock()

    def take(self, event: SiteProgress) -> None:
        """A ``reply-metrics`` event: keep what may leave; send the rounds before it."""
        if event.kind is not ProgressKind.REPLY_METRICS or not event.metrics:
            return  # No metrics (an error, a stage of SecAgg+): nothing to send or withhold.
        kind = event.message_kind or "unknown"
        if event.round is None:
            self._say(
                ProgressKind.METRICS_WITHHELD,
                f"withheld the metrics of a {kind} reply: its round is unknown",
            )
            return
        released = releasable_metrics(kind, event.metrics, self.k)
        if released.withheld:
            self._say(
                ProgressKind.METRICS_WITHHELD,
                f"withheld from round {event.round}: {'; '.join(released.withheld)}",
                event.round,
            )
        with self._lock:
            earlier = sorted(r for r in self._pending if r < event.round)
            ready = [(r, self._pending.pop(r)) for r in earlier]
            if released.metrics:
                self._pending.setdefault(event.round, {}).update(released.metrics)
        for round_number, metrics in ready:
            self._send(round_number, metrics)

    def flush(self) -> None:
        """Send every round still kept (the site stops)."""
        with self._lock:
            ready = sorted(self._pending.items())
            self._pending.clear()
        for round_number, metrics in ready:
            self._send(round_number, metrics)

    def _send(self, round_number: int, metrics: dict[str, Number]) -> None:
        said = ", ".join(f"{name}={value!r}" for name, value in sorted(metrics.items()))
        self._say(
            ProgressKind.METRICS_SENT,
            f"sending round {round_number}'s metrics of this site to medval's server: {said}",
            round_number,
            metrics,
        )
        try:
            body = SiteRoundMetricsCreate(
                dataset_id=self.dataset_id, round=round_number, metrics=metrics
            )
            self._report(body)
        except MedvalError as problem:
            self._say(
                ProgressKind.PROBLEM,
                f"round {round_number}'s metrics could not be sent: {problem.message}",
                round_number,
            )
        except ValidationError as problem:  # More metrics than the server takes, say.
            said = problem.errors()[0]["msg"] if problem.errors() else str(problem)
            self._say(
                ProgressKind.PROBLEM,
                f"round {round_number}'s metrics could not be sent: {said}",
                round_number,
            )

    def _report(self, body: SiteRoundMetricsCreate) -> None:
        """Send one round; tried again while the server cannot be reached (a round sent
        twice is recorded once: the server takes the same metrics again as a no-op).
        Three tries are written out here, as ``client.transfers`` does for blobs: the
        client has no retry library for this one loop."""
        for attempt in range(1, _REPORT_ATTEMPTS + 1):
            try:
                self.calls.report_site_round(self.experiment_id, body)
                return
            except ServerUnavailable:
                if attempt == _REPORT_ATTEMPTS:
                    raise
                self._pause(_REPORT_PAUSE_SECONDS * attempt)

    def _say(
        self,
        kind: ProgressKind,
        text: str,
        round_number: int | None = None,
        metrics: dict[str, Number] | None = None,
    ) -> None:
        self.on_progress(SiteProgress(kind, text, round=round_number, metrics=metrics))
