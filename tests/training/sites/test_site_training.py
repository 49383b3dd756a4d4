"""Sites train together: two medval sites, a plain Flower SuperLink, real processes; and the
same app on the same data under plain Flower gives the same model."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from medval.client.training_site_rounds import SiteRounds
from medval.core.training_schemas import SiteRoundMetricsCreate, SiteRoundMetricsPublic
from medval.training.site_progress import ProgressKind

from .aggregator import PlainAggregator
from .harness import LINEAR, SiteUnderTest, site_data, write_dataset
from .pki import ExperimentPki

pytestmark = [pytest.mark.flower, pytest.mark.sandbox]


def fedavg_by_hand(partitions: list[int], rounds: int, epochs: int, lr: float) -> np.ndarray:
    """What FedAvg of the linear app must give: every site trains from the global weights,
    the aggregator averages them weighted by their (equal) numbers of examples."""
    weights = np.zeros(2)
    for _ in range(rounds):
        trained = []
        for partition in partitions:
            x, y = site_data(partition)
            w, b = float(weights[0]), float(weights[1])
            for _ in range(epochs):
                error = w * x + b - y
                w -= lr * float(np.mean(error * x))
                b -= lr * float(np.mean(error))
            trained.append([w, b])
        weights = np.mean(np.array(trained), axis=0)
    return weights


def test_two_sites_train_two_rounds_as_plain_flower_would(
    aggregator: PlainAggregator,
    make_site: Callable[..., SiteUnderTest],
    pki: ExperimentPki,
    tmp_path: Path,
) -> None:
    sites = [make_site("hospital-a", 0), make_site("hospital-b", 1)]
    for each in sites:
        each.site.start()
    for each in sites:
        each.site.wait_connected(60)
    result = tmp_path / "result.json"
    run = aggregator.run(LINEAR, {"num-server-rounds": 2, "result-path": str(result)})
    assert run.wait(240) == 0, run.text
    run.wait_for(r"aggregate_train: Received 2 results and 0 failures", 5, count=2)
    weights = json.loads(result.read_text())["weights"]
    expected = fedavg_by_hand([0, 1], rounds=2, epochs=20, lr=0.1)
    assert np.allclose(weights, expected, rtol=0, atol=1e-9), (weights, expected)
    for each in sites:
        received = each.progress.of(ProgressKind.MESSAGE_RECEIVED)
        assert [(e.message_kind, e.ordinal) for e in received] == [("train", 1), ("train", 2)]
        assert len(each.progress.wait_for(ProgressKind.CLIENTAPP_FINISHED, 10, count=2)) == 2
        assert each.progress.of(ProgressKind.CLIENTAPP_FAILED) == []
        # The app's own output is in the site's ClientApp logs, never in its progress.
        assert each.clientapp_logs().count("the linear ClientApp was imported") == 2

    # The same app on the same partitions, on plain Flower's SuperNodes (no medval, no
    # sandbox), once the medval sites have left: the same model.
    for each in sites:
        each.site.stop()
    for partition in (0, 1):
        key, public = pki.site_key(tmp_path, f"plain-{partition}")
        aggregator.register(public)
        dataset = write_dataset(tmp_path / "plain-datasets" / str(partition), partition)
        aggregator.plain_site(f"plain-{partition}", key, dataset)
    plain_result = tmp_path / "plain-result.json"
    plain = aggregator.run(LINEAR, {"num-server-rounds": 2, "result-path": str(plain_result)})
    assert plain.wait(240) == 0, plain.text
    plain_weights = json.loads(plain_result.read_text())["weights"]
    assert np.allclose(plain_weights, weights, rtol=0, atol=1e-6), (plain_weights, weights)


def test_a_clientapp_that_fails_is_said_in_medval_s_words_and_fails_the_round(
    aggregator: PlainAggregator, make_site: Callable[..., SiteUnderTest]
) -> None:
    hospital = make_site("hospital-a", 0)
    hospital.site.start()
    hospital.site.wait_connected(60)
    run = aggregator.run(
        LINEAR, {"num-server-rounds": 1, "min-nodes": 1, "fail-with": "hostile-words"}
    )
    (failed,) = hospital.progress.wait_for(ProgressKind.CLIENTAPP_FAILED, 120)
    log = failed.text.rpartition("(log: ")[2].rstrip(")")
    assert failed.text == (
        "the ClientApp failed: task 'clientapp' of cube 'training-clientapp' failed with "
        f"exit code 1 (log: {log})"
    )
    assert "hostile-words" in Path(log).read_text()  # The app's words: in its log only.
    run.wait_for(r"aggregate_train: Received 0 results and 1 failures", 60)


def _losses_by_hand(partition: int, rounds: int, epochs: int, lr: float) -> list[float]:
    """The loss the linear app reports each round, training alone from the global weights
    (alone, the site's weights are the global ones)."""
    x, y = site_data(partition)
    w, b, losses = 0.0, 0.0, []
    for _ in range(rounds):
        for _ in range(epochs):
            error = w * x + b - y
            w -= lr * float(np.mean(error * x))
            b -= lr * float(np.mean(error))
        losses.append(float(np.mean((w * x + b - y) ** 2)))
    return losses


class _Server:
    """Takes a site's round reports as the server's API would."""

    def __init__(self) -> None:
        self.reports: list[SiteRoundMetricsCreate] = []

    def report_site_round(
        self, experiment_id: int, body: SiteRoundMetricsCreate
    ) -> SiteRoundMetricsPublic:
        self.reports.append(body)
        return SiteRoundMetricsPublic(
            id=len(self.reports), experiment_id=experiment_id, dataset_id=body.dataset_id,
            dataset="hospital-a", round=body.round, metrics=body.metrics,
            uploaded_by="hospital", created_at=datetime.now(UTC),
        )  # fmt: skip


def test_a_site_reads_each_round_s_metrics_from_its_clientapp_s_replies(
    aggregator: PlainAggregator, make_site: Callable[..., SiteUnderTest], tmp_path: Path
) -> None:
    hospital = make_site("hospital-a", 0)
    hospital.site.start()
    hospital.site.wait_connected(60)
    result = tmp_path / "result.json"
    run = aggregator.run(
        LINEAR,
        {
            "num-server-rounds": 2,
            "min-nodes": 1,
            "fraction-evaluate": 1.0,
            "result-path": str(result),
        },
    )
    assert run.wait(240) == 0, run.text
    read = hospital.progress.wait_for(ProgressKind.REPLY_METRICS, 30, count=4)
    losses = _losses_by_hand(0, rounds=2, epochs=20, lr=0.1)
    assert [(e.message_kind, e.round, e.metrics) for e in read[0::2]] == [
        ("train", 1, {"train-loss": losses[0], "num-examples": 200}),
        ("train", 2, {"train-loss": losses[1], "num-examples": 200}),
    ]
    assert read[0].text == (
        f"the ClientApp's train reply (round 1) reports metrics: train-loss={losses[0]!r}, "
        "num-examples=200"
    )
    # Evaluated on FedAvg's average of this one site's weights: the same, to rounding.
    evaluated = read[1::2]
    assert [(e.message_kind, e.round, sorted(e.metrics or {})) for e in evaluated] == [
        ("evaluate", 1, ["eval-loss", "num-examples"]),
        ("evaluate", 2, ["eval-loss", "num-examples"]),
    ]
    assert [(e.metrics or {})["num-examples"] for e in evaluated] == [200, 200]
    eval_losses = [(e.metrics or {})["eval-loss"] for e in evaluated]
    assert eval_losses == pytest.approx(losses, rel=1e-12)
    # What the aggregator received from this one site is what the site read.
    aggregated = json.loads(result.read_text())["train-metrics"]
    assert [aggregated[str(n)]["train-loss"] for n in (1, 2)] == pytest.approx(losses, abs=1e-12)
    assert hospital.progress.of(ProgressKind.CALL_REFUSED) == []

    # What leaves for medval's server: one record per round, both kinds, named by kind.
    server, said = _Server(), []
    site_rounds = SiteRounds(server, 3, 8, 10, said.append)
    for event in read:
        site_rounds.take(event)
    site_rounds.flush()
    assert server.reports == [
        SiteRoundMetricsCreate(
            dataset_id=8,
            round=n + 1,
            metrics={
                "train.train-loss": losses[n],
                "train.num-examples": 200,
                "evaluate.eval-loss": eval_losses[n],
                "evaluate.num-examples": 200,
            },
        )
        for n in (0, 1)
    ]
    assert [e.kind for e in said] == [ProgressKind.METRICS_SENT] * 2
