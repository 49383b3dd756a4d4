"""Why the first GaNDLF model did not learn: two checks against GaNDLF 0.1.5's own code.

    GANDLF_VENV/bin/python scripts/gandlf/diagnose.py loss
    GANDLF_VENV/bin/python scripts/gandlf/diagnose.py norm MODEL_DIR CHECKPOINT VALIDATION_CSV

Runs on GaNDLF's venv (scripts/gandlf_env.sh). See docs/gandlf.md.

``loss``: GaNDLF's loss functions, called as its training step calls them
(``get_loss_and_metrics`` on a 2D label ``[batch, 1, x, y]``), on a perfect softmax and on
the inverted one. ``dcce`` one-hot encodes the target twice (``CCE_Generic`` on the already
one-hot target), which swaps the classes in its cross-entropy half: it scores the inverted
mask lower than the perfect one.

``norm``: one checkpoint's brain Dice on the validation slices (whole slices, z-scored as
GaNDLF's ``ZNormalization``), in eval mode (what validation and inference use) and with
its norm layers normalising each slice by its own statistics (what training used). With
``norm_type: instance`` GaNDLF's layers keep running statistics, so the two differ.
"""

from __future__ import annotations

import argparse
import csv
import pickle
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from GANDLF.compute.loss_and_metric import get_loss_and_metrics
from GANDLF.config_manager import ConfigManager
from GANDLF.models import get_model

CONFIG = Path(__file__).resolve().parent / "train_config.yaml"


def check_losses() -> None:
    params = ConfigManager(str(CONFIG))
    params["problem_type"] = "segmentation"
    params["penalty_weights"] = None  # weighted_loss: false, as GaNDLF sets it
    params["model"]["num_classes"] = len(params["model"]["class_list"])
    torch.manual_seed(0)
    label = (torch.rand(2, 1, 32, 32) > 0.6).float()  # class 1 = brain
    brain = label[:, 0]
    masks = {
        "perfect": torch.stack([1 - brain, brain], 1).clamp(0.01, 0.99),
        "inverted": torch.stack([brain, 1 - brain], 1).clamp(0.01, 0.99),
    }
    for loss in ("dcce", "dc", "dc_log"):
        params["loss_function"] = loss
        scores = {
            name: float(get_loss_and_metrics(None, label, mask, params)[0])
            for name, mask in masks.items()
        }
        verdict = "rewards the INVERTED mask" if scores["inverted"] < scores["perfect"] else "ok"
        perfect, inverted = scores["perfect"], scores["inverted"]
        print(f"{loss:7s} perfect {perfect:.3f} inverted {inverted:.3f}  {verdict}")


def _dice(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(2 * (predicted & truth).sum() / max(predicted.sum() + truth.sum(), 1))


def check_norm(model_dir: Path, checkpoint: Path, cases: Path) -> None:
    with (model_dir / "parameters.pkl").open("rb") as handle:
        params = pickle.load(handle)
    model = get_model(params)
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)["model_state_dict"]
    with cases.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    norms = (torch.nn.InstanceNorm2d, torch.nn.BatchNorm2d)
    for mode in ("eval", "own statistics"):
        model.load_state_dict(saved)
        model.eval()
        if mode == "own statistics":
            for module in model.modules():
                if isinstance(module, norms):
                    module.train()  # normalise by the input's own statistics, as in training
        scores = []
        for row in rows:
            image = np.asarray(nib.load(row["Channel_0"]).dataobj)[..., 0].astype(np.float32)
            truth = np.asarray(nib.load(row["Label"]).dataobj)[..., 0] > 0
            image = (image - image.mean()) / image.std()
            height, width = image.shape
            padded = np.pad(
                image, ((0, -height % 16), (0, -width % 16)), constant_values=image.min()
            )
            with torch.no_grad():
                output = model(torch.from_numpy(padded)[None, None])[0]
            scores.append(_dice(output.argmax(0).numpy()[:height, :width] == 1, truth))
        rounded = np.round(scores, 3).tolist()
        print(f"{mode:15s} brain Dice {np.mean(scores):.3f}  per slice {rounded}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("loss")
    norm = commands.add_parser("norm")
    norm.add_argument("model_dir", type=Path)
    norm.add_argument("checkpoint", type=Path)
    norm.add_argument("validation_csv", type=Path)
    args = parser.parse_args()
    if args.command == "loss":
        check_losses()
    else:
        check_norm(args.model_dir, args.checkpoint, args.validation_csv)


if __name__ == "__main__":
    main()
