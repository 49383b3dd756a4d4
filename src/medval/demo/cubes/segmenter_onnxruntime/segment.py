"""What the three segmenter cubes share: read the prepared cases, feed axial slices to a
runtime, write each case's mask. Only the runtime differs (each cube's ``infer.py``).

This file is the same in ``segmenter_torch``, ``segmenter_onnxruntime`` and
``segmenter_openvino`` (a test checks it): each cube is a folder of its own, mounted alone
in the sandbox, so each carries a copy.

Reads (the imaging contract's prepared format): ``<data_path>/cases.csv`` (one column
``case_id``) and ``<data_path>/images/<case_id>.nii.gz`` (3D float, canonical RAS+).
Writes ``<output_path>/<case_id>.nii.gz``: uint8 in {0, 1}, the image's shape and affine;
and ``infer.json``: the runtime, the seconds spent loading the model and per case, and
``max_rss_bytes``, the peak resident memory of this process (the task's only one) from
``getrusage``: the interpreter, the runtime's libraries as far as they were touched, the
model and its activations (``bench/imaging_inference.py`` compares the runtimes by it).

The model normalises the image itself: intensities clipped to the volume's 0.5th and
99.5th percentiles and scaled to [0, 1] (CT in Hounsfield units and MR as stored alike).
A case whose image is missing, unreadable, not 3D or not finite stops the task with one
line on stderr and exit code 2, and leaves no prediction (any written is removed).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np

# Slices fed to the runtime at once: bounds the memory of one call (activations).
BATCH = 16
MULTIPLE = 4  # the network pools twice
INFO_FILE = "infer.json"

Predict = Callable[[np.ndarray], np.ndarray]


class InputError(Exception):
    """A problem with the task's inputs, said in one line."""


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


def normalise(volume: np.ndarray) -> np.ndarray:
    low, high = np.percentile(volume, [0.5, 99.5])
    scale = float(high - low) or 1.0
    return np.clip((volume - low) / scale, 0.0, 1.0).astype(np.float32)


def segment(volume: np.ndarray, predict: Predict) -> np.ndarray:
    """The binary mask of a 3D volume, axial slice by axial slice (the third axis)."""
    x, y, z = volume.shape
    padded_x, padded_y = -(-x // MULTIPLE) * MULTIPLE, -(-y // MULTIPLE) * MULTIPLE
    slices = np.zeros((z, 1, padded_x, padded_y), dtype=np.float32)
    slices[:, 0, :x, :y] = np.moveaxis(normalise(volume), 2, 0)
    mask = np.empty((z, x, y), dtype=np.uint8)
    for start in range(0, z, BATCH):
        logits = predict(np.ascontiguousarray(slices[start : start + BATCH]))
        mask[start : start + BATCH] = logits[:, 0, :x, :y] > 0
    return np.moveaxis(mask, 0, 2)


def read_case_ids(data_path: Path) -> list[str]:
    listing = data_path / "cases.csv"
    try:
        with listing.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cases.csv cannot be read ({exc.__class__.__name__})") from None
    if not rows or "case_id" not in rows[0]:
        raise InputError("cases.csv has no case_id column or no case")
    ids = [str(row["case_id"]).strip() for row in rows]
    bad = [case for case in ids if not case or "/" in case or case.startswith(".")]
    if bad:
        raise InputError(f"cases.csv: {bad[0]!r} is not a case id")
    return ids


def load_image(data_path: Path, case_id: str) -> nib.Nifti1Image:
    path = data_path / "images" / f"{case_id}.nii.gz"
    if not path.is_file():
        raise InputError(f"case {case_id}: images/{case_id}.nii.gz is missing")
    try:
        image = nib.load(path)
        shape = image.shape
    except Exception as exc:  # nibabel raises many kinds for a damaged file: any is one line
        raise InputError(
            f"case {case_id}: images/{case_id}.nii.gz is not a NIfTI image ({_one_line(exc)})"
        ) from None
    if len(shape) != 3 or min(shape) < 1:
        raise InputError(f"case {case_id}: the image is {len(shape)}D {shape}, not a 3D volume")
    return image


def read_volume(image: nib.Nifti1Image, case_id: str) -> np.ndarray:
    try:
        volume = np.asarray(image.get_fdata(dtype=np.float32))
    except Exception as exc:  # a truncated or corrupt gzip stream shows only here
        raise InputError(
            f"case {case_id}: the image's voxels cannot be read ({_one_line(exc)})"
        ) from None
    if not np.isfinite(volume).all():
        raise InputError(f"case {case_id}: the image has non-finite voxels (NaN or infinity)")
    return volume


def write_mask(mask: np.ndarray, image: nib.Nifti1Image, path: Path) -> None:
    out = nib.Nifti1Image(mask.astype(np.uint8), image.affine)
    out.set_data_dtype(np.uint8)
    out.header.set_xyzt_units(*image.header.get_xyzt_units())
    nib.save(out, path)


def main(runtime: str, load: Callable[[Path], Predict], argv: list[str] | None = None) -> None:
    """The ``infer`` task: ``load(additional_files)`` gives the runtime's predict function."""
    parser = argparse.ArgumentParser(description=f"Segment with the tiny U-Net on {runtime}")
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=None)
    parser.add_argument("--additional_files", type=Path, required=True)
    args = parser.parse_args(argv)
    seconds: dict[str, float] = {}  # the cases written, with the time each took
    try:
        case_ids = read_case_ids(args.data_path)
        images = {case_id: load_image(args.data_path, case_id) for case_id in case_ids}
        if not args.output_path.is_dir():
            raise InputError(f"output folder {args.output_path} is not a directory")
        started = time.perf_counter()
        predict = load(args.additional_files)
        loaded = time.perf_counter() - started
        for case_id, image in images.items():
            volume = read_volume(image, case_id)
            started = time.perf_counter()
            mask = segment(volume, predict)
            seconds[case_id] = time.perf_counter() - started
            write_mask(mask, image, args.output_path / f"{case_id}.nii.gz")
    except InputError as exc:
        for case_id in seconds:
            (args.output_path / f"{case_id}.nii.gz").unlink(missing_ok=True)
        print(f"infer: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    # Linux gives ru_maxrss in KiB.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    info = {
        "runtime": runtime,
        "load_seconds": loaded,
        "case_seconds": seconds,
        "max_rss_bytes": peak,
    }
    (args.output_path / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")
