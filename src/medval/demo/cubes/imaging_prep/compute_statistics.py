"""Task ``statistics``: aggregate statistics of a prepared dataset, never per-case values.

Written to ``statistics.json`` as ``{"n_cases": N, "values": {...}}`` in the shapes the
shift flags read (medval.stats.shift): category counts (``modality``, ``source_format``,
``manufacturer``), means with their SDs (``mean_spacing_x_mm`` with ``sd_spacing_x_mm``,
the same for y and z and for ``slices`` and ``label_volume_ml``), and the intensity
histogram as the fraction of all voxels in each bin of ``histogram_edges`` (bin ->
share). Small cells are suppressed with ``min_cell_count`` (k, default 10): a category
count is shown only if 0 or at least k (and if one alone would be hidden, the next
smallest is hidden too); with fewer than k cases only ``n_cases`` is reported.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True

import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
from volumes import (  # noqa: E402
    ACQUISITION_FILE,
    IMAGES,
    InputError,
    fail,
    read_parameters,
    read_prepared,
    spacing,
)

HERE = Path(__file__).resolve().parent
STATISTICS_FILE = "statistics.json"


def _shown(count: int, k: int) -> bool:
    return count == 0 or count >= k


def suppressed_counts(counts: dict[str, int], k: int) -> dict[str, int]:
    hidden = {key for key, c in counts.items() if not _shown(c, k)}
    if len(hidden) == 1:
        rest = [(c, key) for key, c in counts.items() if key not in hidden and c > 0]
        if rest:
            hidden.add(min(rest)[1])
    return {key: c for key, c in counts.items() if key not in hidden}


def key(text: str) -> str:
    """A name statistics may carry (lower case letters, digits, _; a letter first)."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", text.lower().replace(".", "p")).strip("_")
    return (cleaned if cleaned[:1].isalpha() else f"x_{cleaned}")[:64]


def histogram_bins(edges: list[float]) -> list[str]:
    inner = [key(f"bin_{a:g}_{b:g}") for a, b in itertools.pairwise(edges)]
    return [key(f"below_{edges[0]:g}"), *inner, key(f"from_{edges[-1]:g}")]


def _mean_sd(values: dict[str, object], name: str, numbers: list[float]) -> None:
    array = np.asarray(numbers, dtype=float)
    values[f"mean_{name}"] = round(float(array.mean()), 4)
    values[f"sd_{name}"] = round(float(array.std(ddof=1)) if len(array) > 1 else 0.0, 4)


def statistics(data_path: Path, labels_path: Path, k: int, edges: list[float]) -> dict:
    cases = read_prepared(data_path, labels_path)
    n = len(cases)
    values: dict[str, object] = {}
    if n < k:
        return {"n_cases": n, "values": values}
    acquisition = {}
    acquisition_file = data_path / ACQUISITION_FILE
    if acquisition_file.is_file():
        with acquisition_file.open(newline="") as handle:
            acquisition = {row["case_id"]: row for row in csv.DictReader(handle)}
    sizes, slices, volumes = [], [], []
    bins = np.zeros(len(edges) + 1)
    for case_id in cases:
        image = nib.load(data_path / IMAGES / f"{case_id}.nii.gz")
        label = np.asarray(nib.load(labels_path / f"{case_id}.nii.gz").dataobj)
        data = np.asarray(image.dataobj, dtype=np.float32)
        voxel = spacing(image.affine)
        sizes.append(voxel)
        slices.append(data.shape[2])
        volumes.append(float(label.sum()) * float(np.prod(voxel)) / 1000.0)
        bins += np.bincount(np.digitize(data.ravel(), edges), minlength=len(edges) + 1)
    for name in ("source_format", "modality", "manufacturer"):
        counts: dict[str, int] = {}
        for case_id in cases:
            level = key(acquisition.get(case_id, {}).get(name) or "unknown")
            counts[level] = counts.get(level, 0) + 1
        values[name] = suppressed_counts(counts, k)
    for axis, name in enumerate("xyz"):
        _mean_sd(values, f"spacing_{name}_mm", [s[axis] for s in sizes])
    _mean_sd(values, "slices", slices)
    _mean_sd(values, "label_volume_ml", volumes)
    shares = bins / bins.sum()
    values["intensity_histogram"] = {
        name: round(float(share), 6)
        for name, share in zip(histogram_bins(edges), shares, strict=True)
    }
    return {"n_cases": n, "values": values}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--labels_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=HERE / "parameters.yaml")
    args = parser.parse_args(argv)
    try:
        params = read_parameters(args.parameters_file)
        k = int(params.get("min_cell_count", "10"))
        edges = [float(v) for v in params.get("histogram_edges", "0,1,100,200").split(",")]
        if k < 1 or edges != sorted(set(edges)):
            raise InputError("min_cell_count must be at least 1 and histogram_edges increase")
        if not args.output_path.is_dir():
            raise InputError(f"output folder {args.output_path} is not a directory")
        document = statistics(args.data_path, args.labels_path, k, edges)
    except (InputError, ValueError) as exc:
        fail("statistics", exc)
    (args.output_path / STATISTICS_FILE).write_text(json.dumps(document, indent=2) + "\n")
    print(f"statistics: wrote {STATISTICS_FILE} for {document['n_cases']} cases")


if __name__ == "__main__":
    main()
