"""Task ``infer`` on plain PyTorch: the tiny U-Net (``network.py``) in eager mode, its
weights (a state dict) from the cube's additional files, one thread."""

from __future__ import annotations

import sys
from pathlib import Path

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import torch  # noqa: E402
from network import TinyUNet  # noqa: E402
from segment import Predict, main  # noqa: E402

WEIGHTS = "segmenter.pt"


def load(additional_files: Path) -> Predict:
    torch.set_num_threads(1)
    model = TinyUNet()
    model.load_state_dict(torch.load(additional_files / WEIGHTS, weights_only=True))
    model.eval()

    def predict(slices: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(slices)).numpy()

    return predict


if __name__ == "__main__":
    main("pytorch", load)
