"""Task ``infer`` on OpenVINO: the tiny U-Net's ONNX file (``segmenter.onnx`` in the
cube's additional files) read directly by OpenVINO and compiled for its CPU plugin, in
32-bit floats (no bf16 or f16 downcast, so that it agrees with PyTorch), one thread."""

from __future__ import annotations

import sys
from pathlib import Path

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import openvino  # noqa: E402
from segment import Predict, main  # noqa: E402

MODEL = "segmenter.onnx"


def load(additional_files: Path) -> Predict:
    core = openvino.Core()
    compiled = core.compile_model(
        core.read_model(str(additional_files / MODEL)),
        "CPU",
        {"INFERENCE_NUM_THREADS": 1, "INFERENCE_PRECISION_HINT": "f32"},
    )
    request = compiled.create_infer_request()

    def predict(slices: np.ndarray) -> np.ndarray:
        return np.asarray(request.infer({0: slices})[compiled.output(0)])

    return predict


if __name__ == "__main__":
    main("openvino", load)
