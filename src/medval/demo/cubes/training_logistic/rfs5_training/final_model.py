"""What the ServerApp leaves behind: the final model and the metrics of every round.

``final_model.npz`` holds ``features`` (names), ``mean`` and ``scale`` (the standardisation),
``intercept`` and ``coefficients`` (on the standardised scale). It is an ordinary ``.npz``
(``numpy.load(path, allow_pickle=False)`` reads it) written without time stamps, so the
same weights give the same bytes and the model's hash says only what it holds.
``training_metrics.json`` holds the aggregated metrics per round and the privacy spent.
Both are written whole or not at all. Imports numpy only: medval writes its centrally
trained baseline with the same function.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

FINAL_MODEL = "final_model.npz"
TRAINING_METRICS = "training_metrics.json"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def _write_atomically(path: Path, payload: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(payload)
    os.replace(partial, path)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed .npz of ``arrays`` in name order, with fixed time stamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            entry = io.BytesIO()
            np.lib.format.write_array(entry, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            archive.writestr(info, entry.getvalue())
    return buffer.getvalue()


def write_final_model(
    path: Path, weights: np.ndarray, features: tuple[str, ...], mean: np.ndarray, scale: np.ndarray
) -> Path:
    """``weights`` (intercept first) with the features and standardisation they apply to."""
    arrays = {
        "features": np.array(features),
        "mean": np.asarray(mean, dtype=np.float64),
        "scale": np.asarray(scale, dtype=np.float64),
        "intercept": np.array(weights[0], dtype=np.float64),
        "coefficients": np.asarray(weights[1:], dtype=np.float64),
    }
    _write_atomically(path, npz_bytes(arrays))
    return path


def write_training_metrics(path: Path, document: dict[str, Any]) -> Path:
    text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
    _write_atomically(path, text.encode())
    return path
