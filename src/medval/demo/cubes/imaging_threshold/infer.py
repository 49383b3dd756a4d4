"""Task ``infer``: a brain mask per case by threshold and morphology (no learning).

For each case of ``cases.csv``: Otsu's threshold on the case's voxels (tissue is brighter
than CSF, bone and air in T1), in-plane erosion to cut the brain from the scalp, the
largest 3D component, as much dilation back, and each axial slice's holes filled. Writes
``<case_id>.nii.gz`` (uint8 0/1, the image's affine) to the output folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True

import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

HERE = Path(__file__).resolve().parent


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold: the cut that maximises the between-class variance."""
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    mean = np.cumsum(counts * centres)
    total, grand = weight[-1], mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (grand * weight - total * mean) ** 2 / (weight * (total - weight))
    return float(centres[int(np.nanargmax(between[:-1]))])


def brain_mask(volume: np.ndarray, iterations: int) -> np.ndarray:
    if not np.any(volume > 0):
        return np.zeros(volume.shape, dtype=np.uint8)
    mask = volume > otsu(volume.ravel())
    # In-plane erosion and dilation only: a slab may be a few slices thick, and eroding
    # along z would eat it from its top and bottom faces.
    in_plane = np.zeros((3, 3, 3), dtype=bool)
    in_plane[:, :, 1] = ndimage.generate_binary_structure(2, 1)
    core = ndimage.binary_erosion(mask, in_plane, iterations=iterations)
    labelled, count = ndimage.label(core, ndimage.generate_binary_structure(3, 1))
    if count == 0:
        return np.zeros(volume.shape, dtype=np.uint8)
    largest = 1 + int(np.argmax(ndimage.sum_labels(core, labelled, range(1, count + 1))))
    mask = ndimage.binary_dilation(labelled == largest, in_plane, iterations=iterations) & (
        volume > 0
    )
    for z in range(mask.shape[2]):
        mask[:, :, z] = ndimage.binary_fill_holes(mask[:, :, z])
    return mask.astype(np.uint8)


def read_parameters(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    params: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition(":")
            params[key.strip()] = value.strip()
    return params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=HERE / "parameters.yaml")
    args = parser.parse_args(argv)
    iterations = int(read_parameters(args.parameters_file).get("erosion_iterations", "3"))
    cases_file = args.data_path / "cases.csv"
    if not cases_file.is_file():
        print("infer: error: cases.csv is missing from the data folder", file=sys.stderr)
        raise SystemExit(2)
    cases = cases_file.read_text().split()[1:]
    for case_id in cases:
        image = nib.load(args.data_path / "images" / f"{case_id}.nii.gz")
        mask = brain_mask(np.asarray(image.dataobj, dtype=np.float32), iterations)
        out = nib.Nifti1Image(mask, image.affine)
        out.set_data_dtype(np.uint8)
        nib.save(out, args.output_path / f"{case_id}.nii.gz")
    print(f"infer: wrote {len(cases)} masks")


if __name__ == "__main__":
    main()
