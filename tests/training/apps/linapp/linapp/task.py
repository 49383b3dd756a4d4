"""Each site's data (a seeded partition) and its local training: plain gradient descent."""

import numpy as np

TRUE_W, TRUE_B = 3.0, -1.0


def load_partition(partition: int, seed: int, size: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1000 * (seed + 1) + partition)
    x = rng.normal(loc=partition, scale=1.0, size=size)
    y = TRUE_W * x + TRUE_B + rng.normal(scale=0.1, size=size)
    return x, y


def train(
    params: np.ndarray, x: np.ndarray, y: np.ndarray, epochs: int, lr: float
) -> tuple[np.ndarray, float]:
    w, b = float(params[0]), float(params[1])
    for _ in range(epochs):
        err = w * x + b - y
        w -= lr * float(np.mean(err * x))
        b -= lr * float(np.mean(err))
    return np.array([w, b]), float(np.mean((w * x + b - y) ** 2))


def loss(params: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    w, b = float(params[0]), float(params[1])
    return float(np.mean((w * x + b - y) ** 2))
