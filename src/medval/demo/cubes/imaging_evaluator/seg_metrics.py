"""Per-case segmentation metrics on one voxel grid, distances in mm from its spacing.

- ``dice``: 2|A n B| / (|A| + |B|); 1 when both masks are empty.
- ``hd95``: the 95th percentile of the distances from each boundary voxel of one mask to
  the nearest boundary voxel of the other, both directions pooled, as MedPy's ``hd95``
  computes it (``numpy.percentile(numpy.hstack((d_ab, d_ba)), 95)``). A boundary voxel is a
  mask voxel with a face-neighbour outside it (MedPy's erosion with connectivity 1).
- ``surface_dice`` at tolerance t (Nikolov et al., 2021): the boundary voxels of both
  masks within t of the other's boundary, over all boundary voxels. Counted per voxel, not
  weighted by surface-element area as DeepMind's ``surface-distance`` does: on the
  near-isotropic 1 mm grids here the two differ little.

One mask empty and not the other: no boundary to measure, so hd95 is the grid's diagonal
(the largest distance possible on it; the convention of the BraTS challenges) and the
surface Dice 0; both empty: hd95 0, surface Dice 1.

Written here with scipy's Euclidean distance transform, which is how MedPy computes it
too; MedPy itself is not used: it is GPL-3.0 (the benchmark's cubes are Apache-2.0) and
requires SimpleITK, some 50 MB more in a cube environment, for three functions.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(a, b).sum()) / total


def boundary(mask: np.ndarray) -> np.ndarray:
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    eroded = ndimage.binary_erosion(mask, structure=structure, iterations=1)
    return np.logical_xor(mask, eroded)


def _distances(from_border: np.ndarray, to_border: np.ndarray, spacing) -> np.ndarray:
    """Distance (mm) from each voxel of ``from_border`` to the nearest of ``to_border``."""
    field = ndimage.distance_transform_edt(~to_border, sampling=spacing)
    return field[from_border]


def _diagonal(shape, spacing) -> float:
    return float(np.sqrt(sum(((n - 1) * s) ** 2 for n, s in zip(shape, spacing, strict=True))))


def hd95(a: np.ndarray, b: np.ndarray, spacing) -> float:
    if not a.any() and not b.any():
        return 0.0
    if not a.any() or not b.any():
        return _diagonal(a.shape, spacing)
    border_a, border_b = boundary(a), boundary(b)
    both = np.hstack(
        (_distances(border_a, border_b, spacing), _distances(border_b, border_a, spacing))
    )
    return float(np.percentile(both, 95))


def surface_dice(a: np.ndarray, b: np.ndarray, spacing, tolerance: float) -> float:
    if not a.any() and not b.any():
        return 1.0
    if not a.any() or not b.any():
        return 0.0
    border_a, border_b = boundary(a), boundary(b)
    d_ab = _distances(border_a, border_b, spacing)
    d_ba = _distances(border_b, border_a, spacing)
    matched = int((d_ab <= tolerance).sum()) + int((d_ba <= tolerance).sum())
    return matched / (len(d_ab) + len(d_ba))


def mean_interval(values, confidence: float, low: float, high: float) -> dict[str, float]:
    """The mean over cases and its t interval (mean +- t * sd / sqrt(n)), kept within the
    metric's range [low, high]; one case: the interval is the point."""
    from scipy import stats

    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    half = 0.0
    if len(array) > 1:
        quantile = float(stats.t.ppf(0.5 + confidence / 2, len(array) - 1))
        half = quantile * float(array.std(ddof=1)) / np.sqrt(len(array))
    return {
        "value": round(mean, 4),
        "lower": round(max(low, mean - half), 4),
        "upper": round(min(high, mean + half), 4),
    }
