"""Train the segmenter cubes' tiny U-Net on the CPU, then export it for the three runtimes.

    make segmenter-model          # its own venv (.venv-segmenter), then this script
    .venv-segmenter/bin/python scripts/train_imaging_segmenter.py [--data D --labels L]

Trains on a prepared dataset in the imaging contract's format (``--data`` holding
``images/`` and ``cases.csv``, ``--labels`` the masks); by default on the Colin27 MR
slabs of :mod:`medval.demo.segmenter_cases` (brain masks), all but the held-out test slabs.
Seeded and single-threaded with deterministic algorithms: the same wheels on the same
kind of CPU give the same weights. Random 128 x 128 crops of axial slices, flips and an
intensity gamma; Adam; binary cross-entropy plus soft Dice. Writes:

- ``segmenter_torch/additional_files/segmenter.pt`` (the state dict, for plain PyTorch),
- ``segmenter_{onnxruntime,openvino}/additional_files/segmenter.onnx`` (one ONNX file,
  opset 18, from ``torch.onnx.export``; batch, height and width dynamic),

and prints the held-out slabs' Dice. The normalisation and the network are the cube's
own files (``segment.py``, ``network.py``), imported from there.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from medval.demo.segmenter_cases import (
    TEST_SLABS,
    PreparedCases,
    dice,
    training_slabs,
    write_cases,
)

ROOT = Path(__file__).resolve().parent.parent
CUBES = ROOT / "src" / "medval" / "demo" / "cubes"
OPSET = 18
CROP = 128


def _cube_module(name: str) -> ModuleType:
    """A module of the PyTorch cube (the file the cube runs, not a copy)."""
    spec = importlib.util.spec_from_file_location(name, CUBES / "segmenter_torch" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


network = _cube_module("network")
segment = _cube_module("segment")


def slices_of(prepared: PreparedCases) -> tuple[np.ndarray, np.ndarray]:
    """Every axial slice (normalised as the cube does) and its mask, on a padded grid."""
    images, masks = [], []
    for case_id in prepared.case_ids:
        volume = np.asarray(prepared.image(case_id).get_fdata(dtype=np.float32))
        label = np.asarray(prepared.label(case_id).dataobj, dtype=np.float32)
        images.append(np.moveaxis(segment.normalise(volume), 2, 0))
        masks.append(np.moveaxis(label, 2, 0))
    x = max(image.shape[1] for image in images)
    y = max(image.shape[2] for image in images)
    size_x, size_y = max(x, CROP), max(y, CROP)
    pad = [np.pad(i, ((0, 0), (0, size_x - i.shape[1]), (0, size_y - i.shape[2]))) for i in images]
    padm = [np.pad(m, ((0, 0), (0, size_x - m.shape[1]), (0, size_y - m.shape[2]))) for m in masks]
    return np.concatenate(pad)[:, None], np.concatenate(padm)[:, None]


def batch(
    rng: np.random.Generator, images: np.ndarray, masks: np.ndarray, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    picks = rng.integers(0, len(images), size)
    xs = rng.integers(0, images.shape[2] - CROP + 1, size)
    ys = rng.integers(0, images.shape[3] - CROP + 1, size)
    crops = np.stack(
        [images[p, :, x : x + CROP, y : y + CROP] for p, x, y in zip(picks, xs, ys, strict=True)]
    )
    truth = np.stack(
        [masks[p, :, x : x + CROP, y : y + CROP] for p, x, y in zip(picks, xs, ys, strict=True)]
    )
    flips = rng.random(size) < 0.5
    crops[flips], truth[flips] = crops[flips, :, ::-1], truth[flips, :, ::-1]
    gamma = np.exp(rng.uniform(-0.4, 0.4, size)).astype(np.float32)[:, None, None, None]
    crops = crops**gamma
    return torch.from_numpy(np.ascontiguousarray(crops)), torch.from_numpy(
        np.ascontiguousarray(truth)
    )


def train(prepared: PreparedCases, steps: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(seed)
    images, masks = slices_of(prepared)
    model = network.TinyUNet()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    bce = torch.nn.BCEWithLogitsLoss()
    started = time.perf_counter()
    for step in range(1, steps + 1):
        x, truth = batch(rng, images, masks, 8)
        logits = model(x)
        probability = torch.sigmoid(logits)
        overlap = (probability * truth).sum() * 2 + 1
        soft_dice = overlap / (probability.sum() + truth.sum() + 1)
        loss = bce(logits, truth) + (1 - soft_dice)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 50 == 0 or step == steps:
            seconds = time.perf_counter() - started
            print(f"step {step}/{steps}: loss {loss.item():.4f} ({seconds:.0f} s)", flush=True)
    return model.eval()


def held_out_dice(model: torch.nn.Module, prepared: PreparedCases) -> dict[str, float]:
    def predict(slices: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return np.asarray(model(torch.from_numpy(slices)).numpy())

    found = {}
    for case_id in prepared.case_ids:
        volume = np.asarray(prepared.image(case_id).get_fdata(dtype=np.float32))
        truth = np.asarray(prepared.label(case_id).dataobj)
        found[case_id] = dice(segment.segment(volume, predict), truth)
    return found


def export(model: torch.nn.Module) -> None:
    weights = CUBES / "segmenter_torch" / "additional_files" / "segmenter.pt"
    torch.save(model.state_dict(), weights)
    n, x, y = torch.export.Dim("n"), torch.export.Dim("x"), torch.export.Dim("y")
    program = torch.onnx.export(
        model,
        (torch.zeros(2, 1, 64, 64),),
        None,
        opset_version=OPSET,
        dynamo=True,
        input_names=["slices"],
        output_names=["logits"],
        dynamic_shapes=({0: n, 2: 4 * x, 3: 4 * y},),
    )
    assert program is not None
    onnx_file = CUBES / "segmenter_onnxruntime" / "additional_files" / "segmenter.onnx"
    program.save(str(onnx_file), external_data=False)
    shutil.copyfile(onnx_file, CUBES / "segmenter_openvino" / "additional_files" / onnx_file.name)
    for path in (weights, onnx_file):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes, sha256 {digest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a prepared dataset's data folder")
    parser.add_argument("--labels", type=Path, help="its labels folder")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.data is None or args.labels is None:
            slabs = training_slabs(181)
            prepared = write_cases(Path(scratch) / "train", slabs)
            test = write_cases(Path(scratch) / "test", TEST_SLABS)
        else:
            prepared = test = PreparedCases(args.data, args.labels)
        print(f"training on {len(prepared.case_ids)} cases, {args.steps} steps", flush=True)
        model = train(prepared, args.steps, args.seed)
        for case_id, value in held_out_dice(model, test).items():
            print(f"held-out {case_id}: Dice {value:.4f}")
    export(model)


if __name__ == "__main__":
    main()
