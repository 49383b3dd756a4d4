"""Task ``infer`` on ONNX Runtime: the tiny U-Net exported to ONNX (``segmenter.onnx`` in
the cube's additional files), on its CPU execution provider, one thread."""

from __future__ import annotations

import sys
from pathlib import Path

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
from segment import Predict, main  # noqa: E402

MODEL = "segmenter.onnx"


def load(additional_files: Path) -> Predict:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(additional_files / MODEL), options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name

    def predict(slices: np.ndarray) -> np.ndarray:
        (logits,) = session.run(None, {name: slices})
        return np.asarray(logits)

    return predict


if __name__ == "__main__":
    main("onnxruntime", load)
