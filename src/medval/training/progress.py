"""A training run's progress, read from the ServerApp's log as Flower's strategies write it.

Flower 1.42's strategies (``flwr.serverapp.strategy``) log each round the same way::

    [ROUND 1/2]
    configure_train: Sampled 2 nodes (out of 2)
    aggregate_train: Received 2 results and 0 failures
        └──> Aggregated MetricRecord: {'train_loss': 0.38}
    configure_evaluate: Sampled 2 nodes (out of 2)
    aggregate_evaluate: Received 2 results and 0 failures
        └──> Aggregated MetricRecord: {'eval_loss': 0.47}
    Global evaluation
        └──> MetricRecord: {'accuracy': 0.9}

Flower's older workflows (``flwr.server.workflow``, which SecAgg+ still needs) log a round
as ``[ROUND 1]``, ``aggregate_fit: received 3 results and 0 failures`` and
``aggregate_evaluate: received ...``, end with ``Run finished 1 round(s) in 47.50s``, and
print the aggregated metrics of every round only then, as a ``History`` dict spread over
several lines. The reader follows both.

``ProgressReader`` turns those lines (as ``flwr run --stream`` relays them) into typed
events and per-round aggregated metrics; any other line is ignored. The metrics are the
sites' metrics as the strategy aggregated them (weighted by examples), never one site's.
Pure: imports the standard library only.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from enum import StrEnum

MetricValue = float | list[float]

_COLOURS = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STARTED = re.compile(r"Successfully started run (\d+)")
_ROUND = re.compile(r"\[ROUND (\d+)(?:/(\d+))?\]")
_RECEIVED = re.compile(
    r"aggregate_(train|evaluate|fit): ([Rr])eceived (\d+) results and (\d+) failures"
)
_AGGREGATED = re.compile(r"Aggregated MetricRecord: (\{.*\})\s*$")
_SERVER_EVALUATION = re.compile(r"└──> MetricRecord: (\{.*\})\s*$")
_FINISHED = re.compile(
    r"Strategy execution finished in ([0-9.]+)s|Run finished \d+ round\(s\) in ([0-9.]+)s"
)
_HISTORY = re.compile(r"History \(metrics, distributed, (fit|evaluate)\):\s*$")
_LOG_PREFIX = re.compile(r"^(?:[A-Z]+\s*:)?\s*")


class ProgressKind(StrEnum):
    RUN_STARTED = "run_started"
    ROUND_STARTED = "round_started"
    TRAIN_AGGREGATED = "train_aggregated"
    EVALUATE_AGGREGATED = "evaluate_aggregated"
    SERVER_EVALUATED = "server_evaluated"
    FINISHED = "finished"


@dataclass
class RoundMetrics:
    """One round as the strategy reported it."""

    round: int
    train: dict[str, MetricValue] = field(default_factory=dict)
    evaluate: dict[str, MetricValue] = field(default_factory=dict)
    server_evaluate: dict[str, MetricValue] = field(default_factory=dict)
    train_replies: int = 0
    train_failures: int = 0
    evaluate_replies: int = 0
    evaluate_failures: int = 0


@dataclass(frozen=True)
class ProgressEvent:
    kind: ProgressKind
    round: int = 0
    rounds: int = 0
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    run_id: int = 0
    replies: int = 0
    failures: int = 0

    def line(self) -> str:
        """The event as one line for a person watching."""
        where = f"round {self.round}/{self.rounds}"
        if self.kind is ProgressKind.RUN_STARTED:
            return f"run {self.run_id} started"
        if self.kind is ProgressKind.ROUND_STARTED:
            return f"{where} started"
        if self.kind is ProgressKind.FINISHED:
            return f"training finished after {self.rounds} rounds"
        shown = ", ".join(f"{name}={_shown(value)}" for name, value in self.metrics.items())
        if self.kind is ProgressKind.SERVER_EVALUATED:
            return f"{where}: evaluated on the aggregator: {shown or 'no metrics'}"
        phase = "train" if self.kind is ProgressKind.TRAIN_AGGREGATED else "evaluate"
        return (
            f"{where}: {phase} aggregated from {self.replies} sites "
            f"({self.failures} failures): {shown or 'no metrics'}"
        )


def strip_colours(line: str) -> str:
    """``line`` without terminal colour codes (Flower's logger always adds them)."""
    return _COLOURS.sub("", line)


class ProgressReader:
    """Feed it log lines in order; it keeps the rounds and returns an event when a line
    means one."""

    def __init__(self, rounds: int = 0) -> None:
        self.run_id = 0
        self.rounds = rounds
        self.finished = False
        self.by_round: dict[int, RoundMetrics] = {}
        self._current = 0
        self._phase = ""
        self._server_evaluation_next = False
        self._history = _History()

    def feed(self, raw_line: str) -> ProgressEvent | None:
        line = strip_colours(raw_line).rstrip()
        if self._history.feed(line, self.by_round):
            return None
        if match := _STARTED.search(line):
            self.run_id = int(match.group(1))
            return ProgressEvent(ProgressKind.RUN_STARTED, run_id=self.run_id)
        if match := _ROUND.search(line):
            self._current = int(match.group(1))
            if match.group(2):
                self.rounds = int(match.group(2))
            self.by_round.setdefault(self._current, RoundMetrics(self._current))
            self._phase = ""
            return ProgressEvent(ProgressKind.ROUND_STARTED, self._current, self.rounds)
        if match := _FINISHED.search(line):
            self.finished = True
            self._current = 0
            return ProgressEvent(ProgressKind.FINISHED, rounds=self.rounds)
        if not self._current:
            return None
        metrics = self.by_round[self._current]
        if match := _RECEIVED.search(line):
            self._phase = "evaluate" if match.group(1) == "evaluate" else "train"
            replies, failures = int(match.group(3)), int(match.group(4))
            if self._phase == "train":
                metrics.train_replies, metrics.train_failures = replies, failures
            else:
                metrics.evaluate_replies, metrics.evaluate_failures = replies, failures
            if match.group(2) == "r":
                # The older workflows: the round's metrics come with the History, at the end.
                return self._aggregated(metrics, {})
            return None
        if "Global evaluation" in line:
            self._server_evaluation_next = True
            return None
        if match := _AGGREGATED.search(line):
            return self._aggregated(metrics, parse_metric_record(match.group(1)))
        if self._server_evaluation_next and (match := _SERVER_EVALUATION.search(line)):
            self._server_evaluation_next = False
            metrics.server_evaluate = parse_metric_record(match.group(1))
            return ProgressEvent(
                ProgressKind.SERVER_EVALUATED,
                self._current,
                self.rounds,
                metrics.server_evaluate,
            )
        return None

    def _aggregated(
        self, metrics: RoundMetrics, values: dict[str, MetricValue]
    ) -> ProgressEvent | None:
        if self._phase == "train":
            metrics.train = values
            kind, replies, failures = (
                ProgressKind.TRAIN_AGGREGATED,
                metrics.train_replies,
                metrics.train_failures,
            )
        elif self._phase == "evaluate":
            metrics.evaluate = values
            kind, replies, failures = (
                ProgressKind.EVALUATE_AGGREGATED,
                metrics.evaluate_replies,
                metrics.evaluate_failures,
            )
        else:
            return None
        return ProgressEvent(
            kind, self._current, self.rounds, dict(values), replies=replies, failures=failures
        )


class _History:
    """The older workflows' ``History (metrics, distributed, fit|evaluate):`` blocks: a
    dict of metric name to ``[(round, value), ...]``, pretty-printed over several lines."""

    def __init__(self) -> None:
        self._phase = ""
        self._text = ""

    def feed(self, line: str, by_round: dict[int, RoundMetrics]) -> bool:
        """True when ``line`` belonged to a History block (taken, nothing else to do)."""
        if match := _HISTORY.search(line):
            self._phase, self._text = match.group(1), ""
            return True
        if not self._phase:
            return False
        self._text += _LOG_PREFIX.sub("", line)
        if self._text.count("{") > self._text.count("}"):
            return True
        for number, name, value in _history_values(self._text):
            metrics = by_round.setdefault(number, RoundMetrics(number))
            (metrics.train if self._phase == "fit" else metrics.evaluate)[name] = value
        self._phase, self._text = "", ""
        return True


def _history_values(text: str) -> list[tuple[int, str, float]]:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []
    if not isinstance(value, dict):
        return []
    found = []
    for name, series in value.items():
        if not isinstance(name, str) or not isinstance(series, list):
            continue
        for item in series:
            if (
                isinstance(item, tuple)
                and len(item) == 2
                and isinstance(item[0], int)
                and _is_number(item[1])
            ):
                found.append((item[0], name, float(item[1])))
    return found


def parse_metric_record(text: str) -> dict[str, MetricValue]:
    """A MetricRecord as Flower prints it (a Python dict of numbers or lists of numbers);
    anything else in it is left out."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return {}
    if not isinstance(value, dict):
        return {}
    record: dict[str, MetricValue] = {}
    for name, item in value.items():
        if not isinstance(name, str):
            continue
        if _is_number(item):
            record[name] = float(item)
        elif isinstance(item, list) and all(_is_number(element) for element in item):
            record[name] = [float(element) for element in item]
    return record


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _shown(value: MetricValue) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(f"{element:.4g}" for element in value) + "]"
    return f"{value:.4g}"
