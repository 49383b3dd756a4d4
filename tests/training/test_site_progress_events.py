"""The lines medval's flwr-clientapp says to the site, read back as progress events."""

from __future__ import annotations

import json

from medval.training.site_progress import EVENT_PREFIX, ProgressKind, SiteProgress, wrapper_event


def _line(**said: object) -> str:
    return EVENT_PREFIX + json.dumps(said)


def test_a_reply_s_metrics_come_with_their_kind_and_round_numbers_only() -> None:
    line = _line(
        kind="reply-metrics", text="read", message_kind="train", round=2,
        metrics={"loss": 0.5, "num-examples": 200, "flag": True, "note": "x"},
    )  # fmt: skip
    assert wrapper_event(line) == SiteProgress(
        ProgressKind.REPLY_METRICS,
        "read",
        message_kind="train",
        round=2,
        metrics={"loss": 0.5, "num-examples": 200},
    )
    unknown = _line(kind="reply-metrics", text="read", message_kind="train", round=None, metrics={})
    assert wrapper_event(unknown) == SiteProgress(
        ProgressKind.REPLY_METRICS, "read", message_kind="train", round=None, metrics={}
    )


def test_other_events_carry_their_words_only_and_other_lines_are_none() -> None:
    refused = _line(kind="call-refused", text="refused", round=3, metrics={"a": 1})
    assert wrapper_event(refused) == SiteProgress(ProgressKind.CALL_REFUSED, "refused")
    assert wrapper_event(_line(kind="reply-metrics", text="no metrics")) is None
    assert wrapper_event(_line(kind="no-such-kind", text="x")) is None
    assert wrapper_event("the app's own words") is None
