"""What of a site's training reply may leave: nothing from fewer than k examples."""

from __future__ import annotations

import math

from medval.core.training_small_cells import (
    ReleasableMetrics,
    releasable_metrics,
    training_min_cell_count,
)


def test_k_is_ten_or_the_data_owner_s_own_when_stricter() -> None:
    assert training_min_cell_count(None) == 10
    assert training_min_cell_count(25) == 25
    assert training_min_cell_count(3) == 10


def test_a_reply_on_enough_examples_leaves_named_by_its_kind() -> None:
    metrics = {"train-loss": 0.25, "num-examples": 200}
    assert releasable_metrics("train", metrics, 10) == ReleasableMetrics(
        {"train.train-loss": 0.25, "train.num-examples": 200}
    )
    assert releasable_metrics("evaluate", {"accuracy": 0.5, "num-examples": 10}, 10) == (
        ReleasableMetrics({"evaluate.accuracy": 0.5, "evaluate.num-examples": 10})
    )


def test_a_reply_on_fewer_than_k_examples_sends_nothing() -> None:
    assert releasable_metrics("train", {"train-loss": 0.25, "num-examples": 9}, 10) == (
        ReleasableMetrics(
            withheld=[
                "the train reply counts 9 examples, fewer than the minimum cell size 10: "
                "none of its metrics is sent"
            ]
        )
    )
    assert releasable_metrics("train", {"train-loss": 0.25}, 10) == ReleasableMetrics(
        withheld=[
            "the train reply does not say its number of examples (num-examples): none of "
            "its metrics is sent"
        ]
    )


def test_what_the_server_would_refuse_is_left_out_and_said() -> None:
    metrics = {"num-examples": 50, "loss": math.inf, "bad name": 1.0, "ok": 2}
    assert releasable_metrics("train", metrics, 10) == ReleasableMetrics(
        {"train.num-examples": 50, "train.ok": 2},
        [
            "train.loss is not a finite number (inf)",
            "'train.bad name' is not a metric name the server takes",
        ],
    )
    assert releasable_metrics("query", {"num-examples": 50}, 10) == ReleasableMetrics(
        withheld=["a query reply's metrics are not reported"]
    )


def test_a_legacy_reply_s_count_counts_and_a_reply_without_metrics_says_nothing() -> None:
    legacy = {"loss": 0.5, "num_examples": 9}
    assert releasable_metrics("evaluate", legacy, 10).metrics == {}
    assert releasable_metrics("evaluate", {**legacy, "num_examples": 10}, 10).metrics == {
        "evaluate.loss": 0.5,
        "evaluate.num_examples": 10,
    }
    assert releasable_metrics("train", {}, 10) == ReleasableMetrics()
