"""The demo's training cube under plain Flower (real SuperLink, SuperNodes and ``flwr run`` on
loopback): it completes, it is deterministic, and FedAvg with one local step per round is
exactly gradient descent on the pooled data, so federation and the central baseline agree.
Its privacy settings run with Flower's own SecAgg+ and client-side clipping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medval.demo.federated import (
    central_final_model,
    final_weights,
)
from tests.training.plain_flower import run_plain_flower

pytestmark = pytest.mark.flower


def _central(cube: Path, sites: list[Path], out: Path, epochs: int) -> np.ndarray:
    return final_weights(central_final_model(cube, sites, out / "final_model.npz", epochs))


def test_two_runs_give_the_same_weights_as_central_gradient_descent(
    cube: Path, prepared: list[Path], tmp_path: Path
) -> None:
    config = {"num-server-rounds": 2, "local-epochs": 1, "seed": 11}
    first = run_plain_flower(cube, prepared[:2], tmp_path / "first", config)
    second = run_plain_flower(cube, prepared[:2], tmp_path / "second", config)
    print(f"two sites, two rounds: {first.seconds:.1f} s and {second.seconds:.1f} s")
    assert np.max(np.abs(first.weights - second.weights)) < 1e-12
    assert first.final_model.read_bytes() == second.final_model.read_bytes()
    central = _central(cube, prepared[:2], tmp_path / "central", epochs=2)
    assert np.max(np.abs(first.weights - central)) < 1e-9
    assert np.max(np.abs(first.weights)) > 1e-3  # it did move from zero
    rounds = first.metrics["rounds"]
    assert isinstance(rounds, dict) and set(rounds) == {"1", "2"}
    evaluated = rounds["2"]["evaluate"]
    assert evaluated["num-examples"] == 582 + 408
    assert 0.6 < evaluated["eval-auroc"] < 0.8
    assert first.metrics["privacy"] == {"differential_privacy": False}


def test_secure_aggregation_hides_the_updates_and_keeps_the_mean(
    cube: Path, prepared: list[Path], tmp_path: Path
) -> None:
    config = {
        "num-server-rounds": 1,
        "min-nodes": 3,
        "secagg-num-shares": 3,
        "secagg-reconstruction-threshold": 2,
    }
    run = run_plain_flower(cube, prepared, tmp_path / "secagg", config)
    print(f"three sites, SecAgg+, one round: {run.seconds:.1f} s")
    assert "Secure aggregation completed" in run.log
    assert run.metrics["secure_aggregation"] is True
    central = _central(cube, prepared, tmp_path / "central", epochs=1)
    gap = np.max(np.abs(run.weights - central))
    assert 0 < gap < 1e-5  # SecAgg+ quantises each update: close, not exact


def test_differential_privacy_clips_each_update_adds_noise_and_reports_epsilon(
    cube: Path, prepared: list[Path], tmp_path: Path
) -> None:
    clip, noise = 0.01, 1.0
    config = {"num-server-rounds": 1, "dp-noise-multiplier": noise, "dp-clipping-norm": clip}
    run = run_plain_flower(cube, prepared[:2], tmp_path / "dp", config)
    print(f"two sites, DP, one round: {run.seconds:.1f} s")
    privacy = run.metrics["privacy"]
    assert isinstance(privacy, dict)
    assert privacy["differential_privacy"] is True
    assert (privacy["rounds_released"], privacy["sites_per_round"]) == (1, 2)
    assert 0 < privacy["epsilon"] < 100
    # Each site's one step from zero, clipped to norm 0.01, averaged with equal weights.
    updates = [_central(cube, [site], tmp_path / site.name, epochs=1) for site in prepared[:2]]
    assert min(np.linalg.norm(u) for u in updates) > 10 * clip  # so clipping bites
    clipped = np.mean([u * min(1.0, clip / np.linalg.norm(u)) for u in updates], axis=0)
    # What is left is Flower's Gaussian noise: sd noise * clip / sites on each weight.
    residual = run.weights - clipped
    assert 0.2 * noise * clip / 2 < np.std(residual) < 5 * noise * clip / 2
