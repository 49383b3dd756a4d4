"""Progress read from the ServerApp's log as Flower 1.42's strategies write it (lines
recorded from a real run, colour codes as Flower prints them)."""

from __future__ import annotations

import pytest

from medval.training.progress import (
    ProgressKind,
    ProgressReader,
    parse_metric_record,
    strip_colours,
)

GREEN, RESET = "\x1b[92m", "\x1b[0m"
RUN_LOG = f"""Using SuperLink: medval (127.0.0.1:40975)
Successfully started run 4089651581039952865
{GREEN}INFO {RESET}:      Starting FedAvg strategy:
{GREEN}INFO {RESET}:      	├── Number of rounds: 2
{GREEN}INFO {RESET}:      [ROUND 1/2]
{GREEN}INFO {RESET}:      configure_train: Sampled 2 nodes (out of 2)
{GREEN}INFO {RESET}:      aggregate_train: Received 2 results and 0 failures
{GREEN}INFO {RESET}:      	└──> Aggregated MetricRecord: {{'train_loss': 0.3821640800286953}}
{GREEN}INFO {RESET}:      configure_evaluate: Sampled 2 nodes (out of 2)
{GREEN}INFO {RESET}:      aggregate_evaluate: Received 1 results and 1 failures
{GREEN}INFO {RESET}:      	└──> Aggregated MetricRecord: {{'eval_loss': 0.47, 'auc': [0.5, 0.75]}}
{GREEN}INFO {RESET}:      Global evaluation
{GREEN}INFO {RESET}:      	└──> MetricRecord: {{'accuracy': 0.9}}
{GREEN}INFO {RESET}:      [ROUND 2/2]
{GREEN}INFO {RESET}:      aggregate_train: Received 2 results and 0 failures
{GREEN}INFO {RESET}:      	└──> Aggregated MetricRecord: {{'train_loss': 0.04749301854075476}}
{GREEN}INFO {RESET}:      Strategy execution finished in 41.93s
{GREEN}INFO {RESET}:      	Aggregated ClientApp-side Train Metrics:
{GREEN}INFO {RESET}:      	{{1: {{'train_loss': '3.8216e-01'}}, 2: {{'train_loss': '4.7493e-02'}}}}
"""


def test_a_run_log_becomes_events_and_rounds() -> None:
    reader = ProgressReader()
    events = [event for line in RUN_LOG.splitlines() if (event := reader.feed(line))]

    assert [event.line() for event in events] == [
        "run 4089651581039952865 started",
        "round 1/2 started",
        "round 1/2: train aggregated from 2 sites (0 failures): train_loss=0.3822",
        "round 1/2: evaluate aggregated from 1 sites (1 failures): eval_loss=0.47, auc=[0.5, 0.75]",
        "round 1/2: evaluated on the aggregator: accuracy=0.9",
        "round 2/2 started",
        "round 2/2: train aggregated from 2 sites (0 failures): train_loss=0.04749",
        "training finished after 2 rounds",
    ]
    assert events[-1].kind is ProgressKind.FINISHED
    assert reader.run_id == 4089651581039952865
    assert reader.finished
    first, second = reader.by_round[1], reader.by_round[2]
    assert first.train == {"train_loss": 0.3821640800286953}
    assert first.evaluate == {"eval_loss": 0.47, "auc": [0.5, 0.75]}
    assert first.server_evaluate == {"accuracy": 0.9}
    assert (first.evaluate_replies, first.evaluate_failures) == (1, 1)
    assert second.train == {"train_loss": 0.04749301854075476}
    assert second.evaluate == {}


def test_lines_before_any_round_and_after_the_end_are_ignored() -> None:
    reader = ProgressReader()
    assert reader.feed("INFO :      	└──> Aggregated MetricRecord: {'x': 1.0}") is None
    assert reader.feed("INFO :      aggregate_train: Received 2 results and 0 failures") is None
    assert reader.by_round == {}


@pytest.mark.parametrize(
    ("text", "record"),
    [
        ("{'loss': 1, 'acc': 0.5}", {"loss": 1.0, "acc": 0.5}),
        ("{'per-class': [1, 2.5]}", {"per-class": [1.0, 2.5]}),
        ("{'name': 'x', 'flag': True, 'nan': float('nan')}", {}),
        ("{'inf': 1e999, 'ok': 2.0}", {"ok": 2.0}),
        ("{'mixed': [1, 'a']}", {}),
        ("__import__('os').system('true')", {}),
        ("[1, 2]", {}),
        ("{1: 2.0}", {}),
    ],
)
def test_a_metric_record_keeps_numbers_only(text: str, record: dict[str, object]) -> None:
    assert parse_metric_record(text) == record


def test_colour_codes_are_stripped() -> None:
    assert strip_colours(f"{GREEN}INFO {RESET}: x") == "INFO : x"


# Flower's older workflow (SecAgg+), recorded from a run of the demo's training cube through
# medval's aggregator: no round total, lower-case "received", and the metrics only at the end.
LEGACY_LOG = f"""Successfully started run 6556676922426792653
{GREEN}INFO {RESET}:      [INIT]
{GREEN}INFO {RESET}:      [ROUND 1]
{GREEN}INFO {RESET}:      Secure aggregation commencing.
{GREEN}INFO {RESET}:      configure_fit: strategy sampled 3 clients (out of 3)
{GREEN}INFO {RESET}:      aggregate_fit: received 3 results and 0 failures
{GREEN}INFO {RESET}:      Secure aggregation completed.
{GREEN}INFO {RESET}:      configure_evaluate: strategy sampled 3 clients (out of 3)
{GREEN}INFO {RESET}:      aggregate_evaluate: received 2 results and 1 failures
{GREEN}INFO {RESET}:      [ROUND 2]
{GREEN}INFO {RESET}:      aggregate_fit: received 3 results and 0 failures
{GREEN}INFO {RESET}:      [SUMMARY]
{GREEN}INFO {RESET}:      Run finished 2 round(s) in 47.50s
{GREEN}INFO {RESET}:      History (loss, distributed):
{GREEN}INFO {RESET}:      		round 1: 0.665648093223845
{GREEN}INFO {RESET}:      	History (metrics, distributed, fit):
{GREEN}INFO {RESET}:      	{{'train-accuracy': [(1, 0.6876080691642651), (2, 0.7)],
{GREEN}INFO {RESET}:      	 'train-loss': [(1, 0.6575351719547746), (2, 0.6)]}}
{GREEN}INFO {RESET}:      	History (metrics, distributed, evaluate):
{GREEN}INFO {RESET}:      	{{'eval-auroc': [(1, 0.6943877907024812)]}}
{GREEN}INFO {RESET}:
"""


def test_the_older_workflow_s_log_becomes_the_same_events_and_rounds() -> None:
    reader = ProgressReader(rounds=2)
    events = [event for line in LEGACY_LOG.splitlines() if (event := reader.feed(line))]

    assert [event.line() for event in events] == [
        "run 6556676922426792653 started",
        "round 1/2 started",
        "round 1/2: train aggregated from 3 sites (0 failures): no metrics",
        "round 1/2: evaluate aggregated from 2 sites (1 failures): no metrics",
        "round 2/2 started",
        "round 2/2: train aggregated from 3 sites (0 failures): no metrics",
        "training finished after 2 rounds",
    ]
    assert reader.finished
    first, second = reader.by_round[1], reader.by_round[2]
    assert first.train == {"train-accuracy": 0.6876080691642651, "train-loss": 0.6575351719547746}
    assert first.evaluate == {"eval-auroc": 0.6943877907024812}
    assert (first.train_replies, first.evaluate_replies, first.evaluate_failures) == (3, 2, 1)
    assert second.train == {"train-accuracy": 0.7, "train-loss": 0.6}
    assert second.evaluate == {}


def test_an_unfinished_history_block_takes_nothing() -> None:
    reader = ProgressReader(rounds=1)
    for line in ("[ROUND 1]", "History (metrics, distributed, fit):", "INFO :  not a dict"):
        reader.feed(line)
    assert reader.feed("[ROUND 2]") is not None  # the reader is itself again
    assert reader.by_round[1].train == {}
