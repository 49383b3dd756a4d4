"""The segmenter cubes (tiny U-Net on PyTorch, ONNX Runtime, OpenVINO) through the real
local runner (bubblewrap: no network, only the declared mounts), each on the Python
environment it declares (built here from its wheels: `make segmenter-wheels` fetches
them), on two real MR slabs in the imaging contract's format.

Checked: the predictions follow the contract (one uint8 {0, 1} mask per case, the image's
shape and affine, nothing else but ``infer.json``); the three runtimes agree (Dice > 0.99
against PyTorch, computed here); the committed weights segment the brain; a missing or
malformed image is one line and exit code 2, with no prediction left.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medval.core.cube_spec import load_cube_spec
from medval.demo.segmenter_cases import PreparedCases, dice, missing_templates, write_cases
from medval.runner import BubblewrapRunner, Limits, TaskFailed

pytestmark = pytest.mark.sandbox

CUBES = Path(__file__).resolve().parents[2] / "src" / "medval" / "demo" / "cubes"
RUNTIMES = ("torch", "onnxruntime", "openvino")
# Building an environment (PyTorch's wheel is 190 MB) and a first import take a while.
LIMITS = Limits(timeout_seconds=600, memory_bytes=2 << 30)
AGREEMENT_BAR = 0.99


def _cube(runtime: str) -> Path:
    cube = CUBES / f"segmenter_{runtime}"
    if not any((cube / "wheels").glob("*.whl")):
        pytest.fail(f"{cube}/wheels holds no wheel: `make segmenter-wheels` fetches them")
    return cube


@pytest.fixture(scope="module")
def runner(machine_environments: Path) -> BubblewrapRunner:
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is not installed: `make test` installs it")
    runner = BubblewrapRunner().with_environment_cache(machine_environments)
    assert isinstance(runner, BubblewrapRunner)
    return runner


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> PreparedCases:
    reason = missing_templates()
    if reason is not None:
        pytest.fail(reason)
    return write_cases(tmp_path_factory.mktemp("segmenter-cases"))


@pytest.fixture(scope="module")
def predictions(
    runner: BubblewrapRunner, cases: PreparedCases, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each runtime's predictions folder, from one run of its cube's ``infer``."""
    found = {}
    for runtime in RUNTIMES:
        cube = _cube(runtime)
        output = tmp_path_factory.mktemp(f"predictions-{runtime}")
        mounts = {"data_path": cases.data, "output_path": output}
        runner.run(cube, load_cube_spec(cube), "infer", mounts, LIMITS)
        found[runtime] = output
    return found


def _mask(folder: Path, case_id: str) -> nib.Nifti1Image:
    image = nib.load(folder / f"{case_id}.nii.gz")
    assert isinstance(image, nib.Nifti1Image)
    return image


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_predictions_follow_the_contract(
    runtime: str, predictions: dict[str, Path], cases: PreparedCases
) -> None:
    folder = predictions[runtime]
    assert len(cases.case_ids) == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{case_id}.nii.gz" for case_id in cases.case_ids] + ["infer.json"]
    )
    info = json.loads((folder / "infer.json").read_text())
    assert info["runtime"] == {"torch": "pytorch"}.get(runtime, runtime)
    assert sorted(info["case_seconds"]) == cases.case_ids
    for case_id in cases.case_ids:
        image, mask = cases.image(case_id), _mask(folder, case_id)
        assert mask.get_data_dtype() == np.uint8
        assert mask.shape == image.shape
        np.testing.assert_array_equal(mask.affine, image.affine)
        values = np.asarray(mask.dataobj)
        assert values.dtype == np.uint8
        assert set(np.unique(values)) == {0, 1}


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_each_runtime_agrees_with_pytorch(
    runtime: str, predictions: dict[str, Path], cases: PreparedCases
) -> None:
    for case_id in cases.case_ids:
        reference = np.asarray(_mask(predictions["torch"], case_id).dataobj)
        other = np.asarray(_mask(predictions[runtime], case_id).dataobj)
        assert reference.sum() > 1000  # a real brain slab, not two empty masks agreeing
        assert dice(other, reference) > AGREEMENT_BAR, case_id


def test_the_committed_weights_segment_the_brain(
    predictions: dict[str, Path], cases: PreparedCases
) -> None:
    """The held-out slabs (never trained on): the shipped model learned the task."""
    for case_id in cases.case_ids:
        truth = np.asarray(cases.label(case_id).dataobj)
        predicted = np.asarray(_mask(predictions["torch"], case_id).dataobj)
        assert dice(predicted, truth) > 0.9, case_id


def test_the_shared_code_is_the_same_in_the_three_cubes() -> None:
    shared = (CUBES / "segmenter_torch" / "segment.py").read_bytes()
    for runtime in RUNTIMES[1:]:
        assert (CUBES / f"segmenter_{runtime}" / "segment.py").read_bytes() == shared
    onnx = (CUBES / "segmenter_onnxruntime" / "additional_files" / "segmenter.onnx").read_bytes()
    assert (CUBES / "segmenter_openvino" / "additional_files" / "segmenter.onnx").read_bytes() == (
        onnx
    )


def _broken_data(cases: PreparedCases, dest: Path, how: str) -> tuple[Path, str]:
    """A copy of the cases whose last one is broken ``how``; its case id."""
    shutil.copytree(cases.data, dest)
    case_id = cases.case_ids[-1]
    image = dest / "images" / f"{case_id}.nii.gz"
    if how == "missing":
        image.unlink()
    elif how == "garbage":
        image.write_bytes(gzip.compress(b"not a NIfTI header" * 40))
    elif how == "truncated":  # a valid header, the voxels cut off half way
        data = gzip.decompress(image.read_bytes())
        image.write_bytes(gzip.compress(data[: len(data) // 2]))
    else:  # a 4D image
        volume = np.zeros((4, 4, 4, 2), dtype=np.float32)
        nib.save(nib.Nifti1Image(volume, np.eye(4)), image)
    return dest, case_id


@pytest.mark.parametrize(
    ("runtime", "how", "line"),
    [
        ("torch", "missing", "images/{case}.nii.gz is missing"),
        ("onnxruntime", "missing", "images/{case}.nii.gz is missing"),
        ("openvino", "missing", "images/{case}.nii.gz is missing"),
        ("onnxruntime", "4d", "the image is 4D (4, 4, 4, 2), not a 3D volume"),
        ("openvino", "truncated", "the image's voxels cannot be read"),
        ("torch", "garbage", "images/{case}.nii.gz is not a NIfTI image"),
    ],
)
def test_a_missing_or_malformed_image_is_one_line_and_exit_code_2(
    runtime: str,
    how: str,
    line: str,
    runner: BubblewrapRunner,
    cases: PreparedCases,
    tmp_path: Path,
) -> None:
    data, case_id = _broken_data(cases, tmp_path / "data", how)
    output = tmp_path / "predictions"
    output.mkdir()
    cube = _cube(runtime)

    with pytest.raises(TaskFailed) as failure:
        mounts = {"data_path": data, "output_path": output}
        runner.run(cube, load_cube_spec(cube), "infer", mounts, LIMITS)

    prefix = (
        f"task 'infer' of cube 'segmenter-{runtime}' failed with exit code 2: "
        f"infer: error: case {case_id}: {line.format(case=case_id)}"
    )
    assert str(failure.value).startswith(prefix), str(failure.value)
    assert "\n" not in str(failure.value)
    assert not any("Traceback" in entry for entry in failure.value.log_tail)
    assert list(output.iterdir()) == []  # even the first case's, written before, is gone
