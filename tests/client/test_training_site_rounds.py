"""A site's own round metrics: kept until their round is over, sent once, said exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from medval.client.training_site_rounds import SiteRounds
from medval.core.errors import Conflict, ServerUnavailable
from medval.core.training_schemas import SiteRoundMetricsCreate, SiteRoundMetricsPublic
from medval.training.site_progress import ProgressKind, SiteProgress


class FakeServer:
    """Takes each report as the server would, or refuses with ``refusal``; unreachable
    for the first ``unreachable`` calls."""

    def __init__(self, refusal: Conflict | None = None, unreachable: int = 0) -> None:
        self.reports: list[tuple[int, SiteRoundMetricsCreate]] = []
        self.refusal = refusal
        self.unreachable = unreachable
        self.calls = 0

    def report_site_round(
        self, experiment_id: int, body: SiteRoundMetricsCreate
    ) -> SiteRoundMetricsPublic:
        self.calls += 1
        if self.calls <= self.unreachable:
            raise ServerUnavailable("cannot reach the medval server at http://x (ReadError)")
        if self.refusal is not None:
            raise self.refusal
        self.reports.append((experiment_id, body))
        return SiteRoundMetricsPublic(
            id=len(self.reports),
            experiment_id=experiment_id,
            dataset_id=body.dataset_id,
            dataset="ds",
            round=body.round,
            metrics=body.metrics,
            uploaded_by="owner",
            created_at=datetime.now(UTC),
        )


def reply(kind: str, round_number: int | None, **metrics: float) -> SiteProgress:
    return SiteProgress(
        ProgressKind.REPLY_METRICS, "read", message_kind=kind, round=round_number, metrics=metrics
    )


def test_a_round_is_sent_once_a_later_one_comes_and_the_last_when_the_site_stops() -> None:
    server, said = FakeServer(), []
    rounds = SiteRounds(server, 4, 9, 10, said.append)
    rounds.take(reply("train", 1, **{"loss": 0.5, "num-examples": 200}))
    rounds.take(reply("evaluate", 1, **{"accuracy": 0.75, "num-examples": 50}))
    assert server.reports == []
    rounds.take(reply("train", 2, **{"loss": 0.25, "num-examples": 200}))
    first = {
        "train.loss": 0.5,
        "train.num-examples": 200,
        "evaluate.accuracy": 0.75,
        "evaluate.num-examples": 50,
    }
    assert server.reports == [(4, SiteRoundMetricsCreate(dataset_id=9, round=1, metrics=first))]
    rounds.flush()
    assert server.reports[1:] == [
        (
            4,
            SiteRoundMetricsCreate(
                dataset_id=9, round=2, metrics={"train.loss": 0.25, "train.num-examples": 200}
            ),
        )
    ]
    assert [(e.kind, e.text) for e in said] == [
        (
            ProgressKind.METRICS_SENT,
            "sending round 1's metrics of this site to medval's server: evaluate.accuracy=0.75, "
            "evaluate.num-examples=50, train.loss=0.5, train.num-examples=200",
        ),
        (
            ProgressKind.METRICS_SENT,
            "sending round 2's metrics of this site to medval's server: train.loss=0.25, "
            "train.num-examples=200",
        ),
    ]
    rounds.flush()
    assert len(server.reports) == 2


def test_small_cells_and_unknown_rounds_are_withheld_and_said() -> None:
    server, said = FakeServer(), []
    rounds = SiteRounds(server, 4, 9, 20, said.append)
    rounds.take(reply("train", 1, **{"loss": 0.5, "num-examples": 12}))
    rounds.take(reply("train", None, **{"loss": 0.5, "num-examples": 200}))
    rounds.flush()
    assert server.reports == []
    assert [(e.kind, e.text) for e in said] == [
        (
            ProgressKind.METRICS_WITHHELD,
            "withheld from round 1: the train reply counts 12 examples, fewer than the minimum "
            "cell size 20: none of its metrics is sent",
        ),
        (
            ProgressKind.METRICS_WITHHELD,
            "withheld the metrics of a train reply: its round is unknown",
        ),
    ]


def test_a_refused_report_is_said_and_training_goes_on() -> None:
    said: list[SiteProgress] = []
    rounds = SiteRounds(FakeServer(Conflict("already recorded")), 4, 9, 10, said.append)
    rounds.take(reply("train", 1, **{"num-examples": 200}))
    rounds.flush()
    assert [(e.kind, e.text) for e in said][-1] == (
        ProgressKind.PROBLEM,
        "round 1's metrics could not be sent: already recorded",
    )


def test_more_metrics_than_the_server_takes_are_said_not_sent() -> None:
    server, said = FakeServer(), []
    rounds = SiteRounds(server, 4, 9, 10, said.append)
    many = {f"m{n}": 1.0 for n in range(200)}
    rounds.take(reply("train", 1, **{**many, "num-examples": 200}))
    rounds.flush()
    assert server.reports == []
    assert (said[-1].kind, said[-1].text) == (
        ProgressKind.PROBLEM,
        "round 1's metrics could not be sent: Dictionary should have at most 200 items after "
        "validation, not more",
    )


def test_a_round_is_tried_again_while_the_server_cannot_be_reached() -> None:
    server, said, pauses = FakeServer(unreachable=2), [], []
    rounds = SiteRounds(server, 4, 9, 10, said.append, pause=pauses.append)
    rounds.take(reply("train", 1, **{"num-examples": 200}))
    rounds.flush()
    body = SiteRoundMetricsCreate(dataset_id=9, round=1, metrics={"train.num-examples": 200})
    assert (server.calls, server.reports, pauses) == (3, [(4, body)], [2.0, 4.0])
    assert [e.kind for e in said] == [ProgressKind.METRICS_SENT]


def test_a_server_still_unreachable_after_three_tries_is_said_and_training_goes_on() -> None:
    server, said, pauses = FakeServer(unreachable=3), [], []
    rounds = SiteRounds(server, 4, 9, 10, said.append, pause=pauses.append)
    rounds.take(reply("train", 1, **{"num-examples": 200}))
    rounds.flush()
    assert (server.calls, server.reports, pauses) == (3, [], [2.0, 4.0])
    assert (said[-1].kind, said[-1].text) == (
        ProgressKind.PROBLEM,
        "round 1's metrics could not be sent: cannot reach the medval server at http://x "
        "(ReadError)",
    )


def test_a_refusal_is_not_tried_again() -> None:
    server, pauses = FakeServer(Conflict("already recorded")), []
    rounds = SiteRounds(server, 4, 9, 10, lambda _: None, pause=pauses.append)
    rounds.take(reply("train", 1, **{"num-examples": 200}))
    rounds.flush()
    assert (server.calls, pauses) == (1, [])
