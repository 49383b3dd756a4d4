"""The Flower strategy a run's settings name, with its own settings and the privacy ones.

Without secure aggregation: the strategy of ``flwr.serverapp.strategy`` (Flower's Message
API), wrapped in ``DifferentialPrivacyClientSideFixedClipping`` when differential privacy is
on. With secure aggregation: Flower 1.42's SecAgg+ runs only as a workflow of its legacy
``flwr.server`` API, so the strategy of the same name from ``flwr.server.strategy`` (and
that API's client-side clipping wrapper) is used there.

Under differential privacy every site weighs the same in the mean (the noise is calibrated
to one site's clipped update moving the mean by at most clip / sites), so the replies carry
a ``unit-weight`` to average by instead of their number of examples.
"""

from __future__ import annotations

from typing import Any

import flwr.server.strategy as legacy
from flwr.app import MetricRecord, RecordDict
from flwr.common import Metrics, Parameters
from flwr.serverapp import strategy as message_api

from rfs5_training.settings import RunSettings

EXAMPLES_KEY = "num-examples"
UNIT_WEIGHT_KEY = "unit-weight"


def _snake(settings: dict[str, float | int]) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in settings.items()}


def weighted_by(settings: RunSettings) -> str:
    return UNIT_WEIGHT_KEY if settings.differential_privacy else EXAMPLES_KEY


def _scalar(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def aggregate_metrics(replies: list[RecordDict], weighting_key: str) -> MetricRecord:
    """Each metric's mean weighted by ``weighting_key``, and the sites' examples summed."""
    records = [next(iter(reply.metric_records.values())) for reply in replies]
    weights = [_scalar(record[weighting_key]) for record in records]
    total = sum(weights)
    aggregated = MetricRecord()
    for key, value in records[0].items() if records and total > 0 else ():
        if key in (weighting_key, EXAMPLES_KEY) or isinstance(value, list):
            continue
        parts = zip(weights, records, strict=True)
        aggregated[key] = sum(w * _scalar(r[key]) for w, r in parts) / total
    aggregated[EXAMPLES_KEY] = int(sum(_scalar(r.get(EXAMPLES_KEY, 0)) for r in records))
    return aggregated


def message_api_strategy(settings: RunSettings) -> message_api.Strategy:
    """The strategy for ``Strategy.start`` (no secure aggregation)."""
    kind = getattr(message_api, settings.strategy)
    own = _snake(settings.strategy_settings)
    if settings.strategy == "FedProx":
        own.setdefault("proximal_mu", 0.0)
    strategy: message_api.Strategy = kind(
        fraction_train=settings.fraction_train,
        fraction_evaluate=1.0,
        min_train_nodes=settings.nodes_per_round,
        min_evaluate_nodes=settings.min_nodes,
        min_available_nodes=settings.min_nodes,
        weighted_by_key=weighted_by(settings),
        train_metrics_aggr_fn=aggregate_metrics,
        evaluate_metrics_aggr_fn=aggregate_metrics,
        **own,
    )
    if settings.differential_privacy:
        strategy = message_api.DifferentialPrivacyClientSideFixedClipping(
            strategy,
            noise_multiplier=settings.dp_noise_multiplier,
            clipping_norm=settings.dp_clipping_norm,
            num_sampled_clients=settings.nodes_per_round,
        )
    return strategy


def _weighted_mean(results: list[tuple[int, Metrics]]) -> Metrics:
    total = sum(weight for weight, _ in results)
    if not results or total == 0:
        return {}
    keys = [key for key, value in results[0][1].items() if isinstance(value, int | float)]
    return {
        key: sum(weight * float(metrics[key]) for weight, metrics in results) / total
        for key in keys
    }


def legacy_strategy(settings: RunSettings, initial: Parameters) -> legacy.Strategy:
    """The strategy for Flower's legacy workflow that runs SecAgg+ (a weighted mean one)."""
    kind = getattr(legacy, settings.strategy)
    own = _snake(settings.strategy_settings)
    if settings.strategy == "FedProx":
        own.setdefault("proximal_mu", 0.0)
    strategy: legacy.Strategy = kind(
        fraction_fit=settings.fraction_train,
        fraction_evaluate=1.0,
        min_fit_clients=settings.nodes_per_round,
        min_evaluate_clients=settings.min_nodes,
        min_available_clients=settings.min_nodes,
        initial_parameters=initial,
        fit_metrics_aggregation_fn=_weighted_mean,
        evaluate_metrics_aggregation_fn=_weighted_mean,
        **own,
    )
    if settings.differential_privacy:
        strategy = legacy.DifferentialPrivacyClientSideFixedClipping(
            strategy,
            noise_multiplier=settings.dp_noise_multiplier,
            clipping_norm=settings.dp_clipping_norm,
            num_sampled_clients=settings.nodes_per_round,
        )
    return strategy
