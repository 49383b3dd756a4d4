"""The ServerApp: runs the plan's strategy for its rounds and writes the final model.

The run is reproducible from the run config's ``seed``: it seeds Python's ``random`` (which
Flower samples sites with) and numpy's global generator (which Flower draws the privacy
noise from); the model starts at zero. At the end, ``final_model.npz`` and
``training_metrics.json`` are written in the working directory (see ``final_model``).
Under differential privacy the epsilon spent is reported, computed with Flower's own
Rényi accountant for the rounds that were released.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord
from flwr.common import ndarrays_to_parameters
from flwr.server import LegacyContext, ServerConfig
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.serverapp import Grid, ServerApp

from rfs5_training.final_model import (
    FINAL_MODEL,
    TRAINING_METRICS,
    write_final_model,
    write_training_metrics,
)
from rfs5_training.model import Vector, initial_weights
from rfs5_training.settings import RunSettings, run_settings
from rfs5_training.site_data import standardization
from rfs5_training.strategies import legacy_strategy, message_api_strategy

app = ServerApp()
_LEGACY_PARAMETERS = "parameters"  # where Flower's legacy workflow keeps the global model


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _record(metrics: MetricRecord | dict[str, Any] | None) -> dict[str, Any]:
    return {key: _finite(value) for key, value in (metrics or {}).items()}


def _train(grid: Grid, settings: RunSettings, start: Vector) -> tuple[Vector, dict[str, Any]]:
    """Flower's Message API: ``Strategy.start`` for the plan's rounds."""
    strategy = message_api_strategy(settings)
    ended: dict[int, float] = {}

    def clock(server_round: int, _: ArrayRecord) -> None:
        # Flower calls this before round 1 and after each round: it times the rounds.
        ended[server_round] = time.monotonic()

    result = strategy.start(
        grid=grid,
        initial_arrays=ArrayRecord([start]),
        num_rounds=settings.rounds,
        train_config=ConfigRecord(),
        evaluate_config=ConfigRecord(),
        evaluate_fn=clock,
    )
    if len(result.arrays) == 0:
        raise RuntimeError("no round produced a model: every round failed")
    rounds = {
        str(index): {
            "train": _record(result.train_metrics_clientapp.get(index)),
            "evaluate": _record(result.evaluate_metrics_clientapp.get(index)),
            "seconds": round(ended[index] - ended[index - 1], 3),
        }
        for index in range(1, settings.rounds + 1)
    }
    weights = np.asarray(result.arrays.to_numpy_ndarrays()[0], dtype=np.float64)
    return weights, rounds


def _train_securely(
    grid: Grid, context: Context, settings: RunSettings, start: Vector
) -> tuple[Vector, dict[str, Any]]:
    """Flower's legacy workflow with SecAgg+ as its training step."""
    legacy = LegacyContext(
        context=context,
        config=ServerConfig(num_rounds=settings.rounds),
        strategy=legacy_strategy(settings, ndarrays_to_parameters([start])),
    )
    workflow = DefaultWorkflow(
        fit_workflow=SecAggPlusWorkflow(
            num_shares=settings.secagg_num_shares,
            reconstruction_threshold=settings.secagg_reconstruction_threshold,
        )
    )
    workflow(grid, legacy)
    weights = legacy.state.array_records[_LEGACY_PARAMETERS].to_numpy_ndarrays()[0]
    history = legacy.history
    rounds: dict[str, dict[str, dict[str, Any]]] = {
        str(index): {"train": {}, "evaluate": {}} for index in range(1, settings.rounds + 1)
    }
    for phase, series in (
        ("train", history.metrics_distributed_fit),
        ("evaluate", history.metrics_distributed),
    ):
        for key, values in series.items():
            for index, value in values:
                rounds[str(index)][phase][key] = _finite(value)
    return np.asarray(weights, dtype=np.float64), rounds


def _privacy_spent(settings: RunSettings, released: int) -> dict[str, Any]:
    if not settings.differential_privacy:
        return {"differential_privacy": False}
    # The accountant lives in Flower's ServerApp package; loaded only when DP is on.
    from flwr.serverapp import (
        GaussianPrivacyEvent,
        NeighboringRelation,
        PrivacyConfig,
        RdpAccountant,
        SamplingMethod,
    )

    sites = settings.nodes_per_round
    accountant = RdpAccountant(
        PrivacyConfig(
            target_delta=settings.dp_delta,
            population_size=sites,
            neighboring_relation=NeighboringRelation.ADD_OR_REMOVE_ONE,
            sampling_method=SamplingMethod.NO_AMPLIFICATION,
        )
    )
    if released:
        event = GaussianPrivacyEvent(settings.dp_noise_multiplier, sites, sites)
        accountant.compose(event, count=released)
    spent = accountant.get_privacy_spent()
    return {
        "differential_privacy": True,
        "noise_multiplier": settings.dp_noise_multiplier,
        "clipping_norm": settings.dp_clipping_norm,
        "sites_per_round": sites,
        "rounds_released": released,
        "epsilon": _finite(spent.epsilon),
        "delta": spent.delta,
        "accounting": "Rényi DP, client level, no sampling amplification",
    }


@app.main()
def main(grid: Grid, context: Context) -> None:
    settings = run_settings(context.run_config)
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    scale = standardization()
    start = initial_weights(len(scale.features))
    if settings.secure_aggregation:
        weights, rounds = _train_securely(grid, context, settings, start)
    else:
        weights, rounds = _train(grid, settings, start)
    released = sum(1 for metrics in rounds.values() if metrics["train"])
    folder = Path.cwd()
    write_final_model(folder / FINAL_MODEL, weights, scale.features, scale.mean, scale.scale)
    write_training_metrics(
        folder / TRAINING_METRICS,
        {
            "strategy": settings.strategy,
            "rounds": rounds,
            "privacy": _privacy_spent(settings, released),
            "secure_aggregation": settings.secure_aggregation,
        },
    )
