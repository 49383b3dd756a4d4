"""A case converted by the per-case step ``convert``: what ``prepare`` puts together.

``convert`` writes, per case, a folder ``<case_id>/`` holding ``image.nii.gz`` (float32,
closest canonical RAS+, the true affine), ``label.nii.gz`` (uint8 0/1 on the image's grid),
``acquisition.json`` (source format, modality, manufacturer; for the statistics, never
sent) and ``overlay.png``: the middle axial slice, grey, the mask in red, for whoever
reviews the case. The PNG is written here with ``zlib`` alone (no imaging library).
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
from volumes import Volume, canonical

IMAGE = "image.nii.gz"
LABEL = "label.nii.gz"
ACQUISITION = "acquisition.json"
OVERLAY = "overlay.png"


def write_converted(folder: Path, volume: Volume, label: np.ndarray) -> None:
    image = canonical(volume.data.astype(np.float32), volume.affine)
    mask = canonical(label, volume.affine)
    image.set_data_dtype(np.float32)
    mask.set_data_dtype(np.uint8)
    folder.mkdir(parents=True)
    nib.save(image, folder / IMAGE)
    nib.save(mask, folder / LABEL)
    acquisition = {
        "source_format": volume.source_format,
        "modality": volume.modality,
        "manufacturer": volume.manufacturer,
    }
    (folder / ACQUISITION).write_text(json.dumps(acquisition))
    pixels = np.asarray(image.dataobj, dtype=np.float32)
    (folder / OVERLAY).write_bytes(overlay_png(pixels, np.asarray(mask.dataobj)))


def converted_cases(data_path: Path) -> dict[str, Path] | None:
    """Case id -> its converted folder, when ``data_path`` holds what ``convert`` wrote
    (every entry a folder with ``acquisition.json``); None for raw data."""
    entries = sorted(data_path.iterdir()) if data_path.is_dir() else []
    if not entries or not all((entry / ACQUISITION).is_file() for entry in entries):
        return None
    return {entry.name: entry for entry in entries}


def acquisition_of(folder: Path) -> list[str]:
    found = json.loads((folder / ACQUISITION).read_text())
    return [found["source_format"], found["modality"], found["manufacturer"]]


def overlay_png(image: np.ndarray, mask: np.ndarray) -> bytes:
    """The middle slice of the last axis as an RGB PNG, superior up: grey, the mask red."""
    middle = image.shape[2] // 2
    grey = np.rot90(image[:, :, middle])
    low, high = float(grey.min()), float(grey.max())
    scaled = ((grey - low) * (255.0 / (high - low)) if high > low else grey * 0).astype(np.uint8)
    masked = np.rot90(mask[:, :, middle]).astype(bool)
    rgb = np.stack([scaled, scaled, scaled], axis=-1)
    rgb[masked, 0] = 255
    rgb[masked, 1] //= 2
    rgb[masked, 2] //= 2
    height, width = scaled.shape
    rows = b"".join(b"\0" + rgb[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )
