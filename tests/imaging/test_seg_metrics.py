"""The imaging evaluator's metrics against hand-computed cases and a brute-force
computation, and its task's output: aggregates only, without tabular-only fields."""

from __future__ import annotations

import json
import math
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from tests.imaging.cube_scripts import load_module, run_script

from medval.core.documents import ResultDocument
from medval.core.small_cells import small_cells_in_result

metrics = load_module("imaging_evaluator", "seg_metrics")


def _grid(*voxels: tuple[int, int, int], shape: tuple[int, int, int] = (10, 6, 4)) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for voxel in voxels:
        mask[voxel] = True
    return mask


def test_dice_by_hand() -> None:
    a = _grid((1, 1, 1), (2, 1, 1), (3, 1, 1))
    b = _grid((2, 1, 1), (3, 1, 1), (4, 1, 1), (5, 1, 1))
    assert metrics.dice(a, b) == pytest.approx(2 * 2 / (3 + 4))
    assert metrics.dice(_grid(), _grid()) == 1.0
    assert metrics.dice(a, _grid()) == 0.0


def test_distances_are_in_mm_from_the_spacing() -> None:
    # Two single voxels 3 voxels apart along x; 2 mm voxels along x: 6 mm each way.
    a, b = _grid((1, 2, 2)), _grid((4, 2, 2))
    assert metrics.hd95(a, b, (2.0, 1.0, 1.0)) == pytest.approx(6.0)
    assert metrics.hd95(a, b, (1.0, 5.0, 5.0)) == pytest.approx(3.0)
    assert metrics.surface_dice(a, b, (2.0, 1.0, 1.0), tolerance=5.9) == 0.0
    assert metrics.surface_dice(a, b, (2.0, 1.0, 1.0), tolerance=6.0) == 1.0


def test_surface_dice_counts_boundary_voxels_within_the_tolerance() -> None:
    # a: voxels x=1..3 (all boundary); b: x=1..2. From a: 1, 2 at 0 mm, 3 at 1 mm;
    # from b: both at 0 mm. Tolerance 0.5 mm: 4 of 5 boundary voxels match.
    a = _grid((1, 1, 1), (2, 1, 1), (3, 1, 1))
    b = _grid((1, 1, 1), (2, 1, 1))
    assert metrics.surface_dice(a, b, (1.0, 1.0, 1.0), tolerance=0.5) == pytest.approx(4 / 5)
    assert metrics.surface_dice(a, b, (1.0, 1.0, 1.0), tolerance=1.0) == 1.0
    # hd95 of the five distances 0, 0, 1, 0, 0 (numpy's linear interpolation): 0.8.
    assert metrics.hd95(a, b, (1.0, 1.0, 1.0)) == pytest.approx(0.8)


def test_an_empty_mask() -> None:
    a, empty = _grid((1, 1, 1)), _grid()
    diagonal = math.sqrt((9 * 2.0) ** 2 + 5**2 + 3**2)
    assert metrics.hd95(a, empty, (2.0, 1.0, 1.0)) == pytest.approx(diagonal)
    assert metrics.surface_dice(a, empty, (1.0, 1.0, 1.0), 1.0) == 0.0
    assert metrics.hd95(empty, empty, (1.0, 1.0, 1.0)) == 0.0
    assert metrics.surface_dice(empty, empty, (1.0, 1.0, 1.0), 1.0) == 1.0


def _boundary_points(mask: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Voxels of the mask with a face-neighbour outside it, in mm (written independently)."""
    padded = np.pad(mask, 1)
    inside = np.ones_like(mask)
    for axis in range(3):
        for shift in (-1, 1):
            inside &= np.roll(padded, shift, axis=axis)[1:-1, 1:-1, 1:-1]
    return np.argwhere(mask & ~inside) * spacing


def test_hd95_and_surface_dice_match_a_brute_force_computation() -> None:
    rng = np.random.default_rng(7)
    spacing = np.array([0.8, 1.0, 2.5])
    a = np.zeros((14, 12, 7), dtype=bool)
    b = np.zeros_like(a)
    a[3:11, 2:9, 1:6] = True
    b[4:12, 3:10, 2:6] = True
    a[rng.random(a.shape) < 0.05] = True
    points_a, points_b = _boundary_points(a, spacing), _boundary_points(b, spacing)
    pairwise = np.linalg.norm(points_a[:, None, :] - points_b[None, :, :], axis=2)
    d_ab, d_ba = pairwise.min(axis=1), pairwise.min(axis=0)
    expected_hd95 = np.percentile(np.hstack((d_ab, d_ba)), 95)
    expected_sd = ((d_ab <= 1.5).sum() + (d_ba <= 1.5).sum()) / (len(d_ab) + len(d_ba))
    assert metrics.hd95(a, b, tuple(spacing)) == pytest.approx(expected_hd95)
    assert metrics.surface_dice(a, b, tuple(spacing), 1.5) == pytest.approx(expected_sd)


def test_the_mean_and_its_t_interval_stay_in_the_metric_range() -> None:
    # mean 0.9, sd 0.1, t(0.975, 2) = 4.302653: half-width 0.248414.
    found = metrics.mean_interval([0.8, 0.9, 1.0], 0.95, 0.0, 1.0)
    assert found == {"value": 0.9, "lower": 0.6516, "upper": 1.0}
    assert metrics.mean_interval([3.0], 0.95, 0.0, math.inf) == {
        "value": 3.0,
        "lower": 3.0,
        "upper": 3.0,
    }


def _case(folder: Path, name: str, mask: np.ndarray, affine: np.ndarray) -> None:
    folder.mkdir(exist_ok=True)
    nib.save(nib.Nifti1Image(mask.astype(np.uint8), affine), folder / f"{name}.nii.gz")


def test_the_task_writes_aggregates_only_and_they_need_no_positive_count(tmp_path: Path) -> None:
    affine = np.diag([2.0, 1.0, 1.0, 1.0])
    truth = _grid((1, 2, 2), (2, 2, 2))
    for number in range(10):
        _case(tmp_path / "labels", f"c{number}", truth, affine)
        # 3 exact, 7 half-found: means of 0.7667 that pin no c/10 (medval withholds a
        # value in 0..1 that is a small count over n_cases, whatever the metric).
        guess = truth if number < 3 else _grid((1, 2, 2))
        _case(tmp_path / "predictions", f"c{number}", guess, affine)
    (tmp_path / "out").mkdir()
    done = run_script(
        "imaging_evaluator",
        "evaluate.py",
        predictions=tmp_path / "predictions",
        labels=tmp_path / "labels",
        output_path=tmp_path / "out",
    )
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(document) == {"n_cases", "metrics"}
    assert document["metrics"]["dice"]["value"] == pytest.approx((3 + 7 * 2 / 3) / 10, abs=1e-4)
    # In the 7 others the distances are 0, 0 and 2 mm, whose 95th percentile (numpy's
    # linear interpolation, at 1.9 of 0..2) is 1.8 mm; the exact ones: 0 mm.
    assert document["metrics"]["hd95"]["value"] == pytest.approx(7 * 1.8 / 10, abs=1e-4)
    # Tolerance 1 mm: 2 of the 3 boundary voxels match in the 7 others.
    expected = (3 + 7 * 2 / 3) / 10
    assert document["metrics"]["surface_dice"]["value"] == pytest.approx(expected, abs=1e-4)
    result = ResultDocument.model_validate(document)
    assert result.n_positive is None
    assert small_cells_in_result(result, 10) == []
    few = ResultDocument.model_validate({**document, "n_cases": 4})
    assert [cell.path for cell in small_cells_in_result(few, 10)] == [
        "n_cases",
        "metrics.dice",
        "metrics.hd95",
        "metrics.surface_dice",
    ]


def test_a_missing_prediction_is_one_line(tmp_path: Path) -> None:
    affine = np.eye(4)
    _case(tmp_path / "labels", "c1", _grid((1, 1, 1)), affine)
    _case(tmp_path / "labels", "c2", _grid((1, 1, 1)), affine)
    _case(tmp_path / "predictions", "c1", _grid((1, 1, 1)), affine)
    (tmp_path / "out").mkdir()
    done = run_script(
        "imaging_evaluator",
        "evaluate.py",
        predictions=tmp_path / "predictions",
        labels=tmp_path / "labels",
        output_path=tmp_path / "out",
    )
    assert (done.returncode, done.stderr) == (2, "evaluate: error: no prediction for case c2\n")
