"""Logistic regression in numpy: the weights, one site's local training, and its metrics.

The weights are one float64 vector: the intercept, then one coefficient per feature on the
standardised scale. Training is full-batch gradient descent on the mean log-loss, with
FedProx's proximal term when ``proximal_mu`` > 0. No randomness: the same data and start
give the same weights, so a run is reproducible from its seed (which only drives Flower's
sampling and the privacy noise). Imports numpy only; medval runs the same functions on the
pooled data for the central baseline.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]


def initial_weights(num_features: int) -> Vector:
    return np.zeros(num_features + 1, dtype=np.float64)


def probabilities(weights: Vector, x: Matrix) -> Vector:
    eta = weights[0] + x @ weights[1:]
    return np.asarray(1.0 / (1.0 + np.exp(-eta)), dtype=np.float64)


def log_loss(weights: Vector, x: Matrix, y: Vector) -> float:
    eta = weights[0] + x @ weights[1:]
    # log(1 + e^eta) - y * eta, computed without overflow.
    return float(np.mean(np.logaddexp(0.0, eta) - y * eta))


def gradient(weights: Vector, x: Matrix, y: Vector) -> Vector:
    residual = probabilities(weights, x) - y
    return np.concatenate(([residual.mean()], x.T @ residual / len(y)))


def local_training(
    weights: Vector,
    x: Matrix,
    y: Vector,
    epochs: int,
    learning_rate: float,
    proximal_mu: float = 0.0,
) -> Vector:
    """``epochs`` full-batch gradient steps from ``weights`` (the global model)."""
    start = weights.astype(np.float64, copy=True)
    current = start.copy()
    for _ in range(epochs):
        step = gradient(current, x, y)
        if proximal_mu > 0:
            step = step + proximal_mu * (current - start)
        current = current - learning_rate * step
    return current


def auroc(y: Vector, p: Vector) -> float:
    """Area under the ROC curve (ties count one half); NaN without both classes."""
    positives = int(np.sum(y == 1))
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p), dtype=np.float64)
    sorted_p = p[order]
    start = 0
    while start < len(p):  # average ranks over runs of tied scores
        end = start
        while end + 1 < len(p) and sorted_p[end + 1] == sorted_p[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    rank_sum = float(ranks[y == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def metrics(weights: Vector, x: Matrix, y: Vector, prefix: str) -> dict[str, float]:
    """Loss, accuracy at risk 0.5, and AUROC of ``weights`` on (x, y)."""
    p = probabilities(weights, x)
    return {
        f"{prefix}-loss": log_loss(weights, x, y),
        f"{prefix}-accuracy": float(np.mean((p >= 0.5) == (y == 1))),
        f"{prefix}-auroc": auroc(y, p),
    }
