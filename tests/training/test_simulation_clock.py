"""How a simulation times its rounds (``training.simulation``), without Flower running:
from the relayed progress as each round ends, and from the ServerApp's own clock when
its metrics file has it."""

from __future__ import annotations

import json
from pathlib import Path

from medval.training.progress import ProgressReader
from medval.training.simulation import RoundClock, SimulatedRound, serverapp_seconds

LOG = [
    "[ROUND 1/2]",
    "aggregate_train: Received 3 results and 0 failures",
    "[ROUND 2/2]",
    "aggregate_train: Received 2 results and 1 failures",
    "Strategy execution finished in 1.5s",
]


def test_each_round_is_told_as_it_ends_with_its_replies() -> None:
    reader = ProgressReader()
    told: list[tuple[int, int, int]] = []
    clock = RoundClock(
        lambda done, total: told.append((done.metrics.round, total, done.metrics.train_replies))
    )
    on_progress = clock.follow(reader.by_round)
    for line in LOG:
        event = reader.feed(line)
        if event is not None:
            on_progress(event)
    assert told == [(1, 2, 3), (2, 2, 2)]
    assert [r.metrics.train_failures for r in clock.rounds] == [0, 1]
    assert all(r.seconds >= 0 for r in clock.rounds)


def test_the_serverapps_clock_is_used_when_its_file_gives_every_round(tmp_path: Path) -> None:
    reader = ProgressReader()
    clock = RoundClock(None)
    on_progress = clock.follow(reader.by_round)
    for line in LOG:
        if (event := reader.feed(line)) is not None:
            on_progress(event)
    kept = tmp_path / "kept"
    kept.mkdir()
    assert serverapp_seconds(None, kept, clock.rounds) is None
    assert serverapp_seconds(tmp_path / "absent.json", kept, clock.rounds) is None
    metrics = tmp_path / "training_metrics.json"
    metrics.write_text(json.dumps({"rounds": {"1": {"seconds": 0.25}}}))
    assert serverapp_seconds(metrics, kept, clock.rounds) is None  # round 2 is missing
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"rounds": {"1": {"seconds": 0.25}, "2": {"seconds": 0.5}}}))
    timed = serverapp_seconds(metrics, kept, clock.rounds)
    assert timed is not None
    assert [(r.metrics.round, r.seconds) for r in timed] == [(1, 0.25), (2, 0.5)]
    assert isinstance(timed[0], SimulatedRound)
    assert (kept / "metrics.json").is_file() and not metrics.exists()
