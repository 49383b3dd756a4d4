"""MLCube and MedPerf folders read as they are, and every malformed one in one line."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from tests.core.format_samples import (
    MEDPERF_EVALUATOR,
    MEDPERF_MODEL,
    MEDPERF_PREPARATOR,
    MLCUBE_EVALUATOR,
    MLCUBE_MODEL,
    MLCUBE_PREPARATOR,
    write_additional_files,
    write_cube,
)

from medval.core.cube_spec import SPEC_FILE, TASKS, MountPoint, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.states import CubeKind

MLCUBE, MEDPERF = "mlcube.yaml", "container_config.yaml"


def _replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("spec_file", "text", "kind", "image"),
    [
        (MLCUBE, MLCUBE_MODEL, CubeKind.MODEL, "example/chest-model:0.1"),
        (MLCUBE, MLCUBE_PREPARATOR, CubeKind.DATA_PREPARATOR, "example/chest-prep:0.1"),
        (MLCUBE, MLCUBE_EVALUATOR, CubeKind.EVALUATOR, "example/chest-metrics:0.1"),
        (MEDPERF, MEDPERF_MODEL, CubeKind.MODEL, "example/chest-model:0.1"),
        (MEDPERF, MEDPERF_PREPARATOR, CubeKind.DATA_PREPARATOR, "example/chest-prep:0.1"),
        (MEDPERF, MEDPERF_EVALUATOR, CubeKind.EVALUATOR, "example/chest-metrics:0.1"),
    ],
)
def test_each_kind_in_each_format_is_read_with_medval_mounts(
    tmp_path: Path, spec_file: str, text: str, kind: CubeKind, image: str
) -> None:
    folder = write_cube(tmp_path / "cube", spec_file, text, parameters=True)
    write_additional_files(folder, {"weights.txt": b"1 2 3"})
    spec = load_cube_spec(folder)
    assert (spec.kind, spec.image, spec.spec_file) == (kind, image, spec_file)
    assert set(spec.tasks) == set(TASKS[kind])  # Tasks no kind has (download) are left out.
    assert all(task.io == TASKS[kind][name] for name, task in spec.tasks.items())
    assert spec.has_parameters and spec.parameters_path == "workspace/parameters.yaml"
    assert spec.additional_files == "additional_files.tar.gz"


def test_mlcube_tasks_get_the_task_name_or_their_own_entrypoint(tmp_path: Path) -> None:
    model = load_cube_spec(write_cube(tmp_path / "m", MLCUBE, MLCUBE_MODEL, parameters=True))
    infer = model.task("infer")
    assert (infer.entrypoint, infer.leading_arguments) == ((), ("infer",))
    assert infer.mount_points == (
        MountPoint("data_path"),
        MountPoint("parameters_file", None, "parameters.yaml"),
        MountPoint("output_path"),
    )
    evaluator = load_cube_spec(write_cube(tmp_path / "e", MLCUBE, MLCUBE_EVALUATOR))
    evaluate = evaluator.task("evaluate")
    assert evaluate.entrypoint == ("python3", "/app/metrics.py")
    assert evaluate.replaces_image_entrypoint and evaluate.leading_arguments == ()
    assert not evaluator.has_parameters


def test_medperf_volumes_keep_their_mount_paths(tmp_path: Path) -> None:
    spec = load_cube_spec(write_cube(tmp_path / "p", MEDPERF, MEDPERF_PREPARATOR))
    assert spec.name == "p"  # MedPerf's config has no name: the folder's.
    statistics = spec.task("statistics")
    assert statistics.mount_points is not None
    assert statistics.mount_points[-1] == MountPoint(
        "output_path", PurePosixPath("/volumes/statistics"), "statistics.json", bind_file=True
    )
    assert statistics.entrypoint == ("python3", "/app/main.py", "statistics")
    assert statistics.replaces_image_entrypoint and not statistics.path_arguments
    prepare = spec.task("prepare")
    assert prepare.entrypoint == ("python3", "/app/main.py", "prepare")
    assert not prepare.replaces_image_entrypoint


_WITH_METADATA = _replace(
    _replace(
        MEDPERF_PREPARATOR,
        "      output_labels_path: {mount_path: /volumes/labels, type: directory}\n",
        "      output_labels_path: {mount_path: /volumes/labels, type: directory}\n"
        "      metadata_path: {mount_path: /volumes/metadata, type: directory}\n"
        "      report_file: {mount_path: /volumes/report/report.yaml, type: file}\n",
    ),
    "      labels_path: {mount_path: /volumes/labels, type: directory}\n    output_volumes:\n"
    "      output_path: {mount_path: /volumes/statistics",
    "      labels_path: {mount_path: /volumes/labels, type: directory}\n"
    "      metadata_path: {mount_path: /volumes/metadata, type: directory}\n"
    "    output_volumes:\n      output_path: {mount_path: /volumes/statistics",
)


def test_medperfs_preparation_metadata_and_report_are_mounted_where_declared(
    tmp_path: Path,
) -> None:
    spec = load_cube_spec(write_cube(tmp_path / "p", MEDPERF, _WITH_METADATA))
    prepare = spec.task("prepare").mount_points or ()
    assert prepare[-2:] == (
        MountPoint("metadata_path", PurePosixPath("/volumes/metadata")),
        MountPoint("report_file", PurePosixPath("/volumes/report"), "report.yaml", True),
    )
    statistics = spec.task("statistics").mount_points or ()
    assert MountPoint("metadata_path", PurePosixPath("/volumes/metadata")) in statistics


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "report/report.yaml, type: file}",
            "report, type: directory}",
            "task 'prepare' output 'report_file' must be a file",
        ),
        (
            "metadata_path: {mount_path: /volumes/metadata, type: directory}\n      report",
            "metadata_path: {mount_path: /volumes/metadata, type: file}\n      report",
            "task 'prepare' output 'metadata_path' must be a directory",
        ),
    ],
)
def test_medperfs_optional_preparation_volumes_have_their_types(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    folder = write_cube(tmp_path / "p", MEDPERF, _replace(_WITH_METADATA, old, new))
    with pytest.raises(InvalidInput, match=message):
        load_cube_spec(folder)


def test_an_unpacked_additional_files_folder_in_the_workspace_is_used(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "m", MEDPERF, MEDPERF_MODEL, parameters=True)
    (folder / "workspace" / "additional_files").mkdir()
    assert load_cube_spec(folder).additional_files == "workspace/additional_files"


def test_the_kind_settles_task_names_that_fit_two_kinds(tmp_path: Path) -> None:
    both = MLCUBE_MODEL + "  evaluate:\n    parameters: {inputs: {predictions: p, labels: l}}\n"
    folder = write_cube(tmp_path / "both", MLCUBE, both, parameters=True)
    with pytest.raises(InvalidInput, match="fit a model and evaluator cube; say which"):
        load_cube_spec(folder)
    assert load_cube_spec(folder, CubeKind.EVALUATOR).kind is CubeKind.EVALUATOR
    with pytest.raises(InvalidInput, match="a data_preparator cube needs task prepare"):
        load_cube_spec(folder, CubeKind.DATA_PREPARATOR)


@pytest.mark.parametrize(
    ("spec_file", "text", "message"),
    [
        (MLCUBE, "name: [unclosed", "mlcube.yaml: not valid YAML"),
        (MLCUBE, "- a list\n", "expected a mapping at the top level"),
        (MLCUBE, _replace(MLCUBE_MODEL, "name: chest-model\n", ""), "'name' must be"),
        (
            MLCUBE,
            _replace(MLCUBE_MODEL, "  image: example/chest-model:0.1\n", "  x: 1\n"),
            "'docker.image' must be",
        ),
        (MLCUBE, "name: m\ndocker: {image: i}\n", "'tasks' must be a mapping"),
        (
            MLCUBE,
            "name: m\ndocker: {image: i}\ntasks: {train: {}}\n",
            r"its tasks \(train\) fit no kind of cube",
        ),
        (
            MLCUBE,
            _replace(MLCUBE_MODEL, "data_path: {type: directory", "data_dir: {type: directory"),
            "task 'infer' input 'data_dir' cannot be mapped: a model cube's infer takes inputs "
            "data_path, parameters_file, additional_files; outputs output_path",
        ),
        (
            MLCUBE,
            _replace(
                MLCUBE_MODEL, "{type: directory, default: data}", "{type: file, default: d.csv}"
            ),
            "input 'data_path' must be a directory",
        ),
        (
            MLCUBE,
            _replace(MLCUBE_MODEL, "{type: directory, default: data}", "{type: socket}"),
            "'type' must be file or directory",
        ),
        (
            MLCUBE,
            _replace(MLCUBE_PREPARATOR, "{type: file, default: statistics.json}", "{type: file}"),
            "is a file: its 'default' gives the file's name",
        ),
        (
            MLCUBE,
            _replace(MLCUBE_EVALUATOR, "python3 /app/metrics.py", '"python3 \x27unclosed"'),
            "'entrypoint' cannot be split into words",
        ),
        (
            MEDPERF,
            _replace(MEDPERF_EVALUATOR, "DockerImage", "SingularityFile"),
            "container_type 'SingularityFile' is not supported",
        ),
        (
            MEDPERF,
            _replace(MEDPERF_EVALUATOR, "image: example/chest-metrics:0.1\n", ""),
            "'image' must be a non-empty string",
        ),
        (MEDPERF, "image: i\ntasks: {prepare: {}}\n", r"its tasks \(prepare\) fit no kind"),
        (
            MEDPERF,
            _replace(MEDPERF_EVALUATOR, "output_path:", "report_file:"),
            "task 'evaluate' output 'report_file' cannot be mapped",
        ),
        (
            MEDPERF,
            _replace(MEDPERF_EVALUATOR, "labels: {mount_path", "output_path: {mount_path"),
            "task 'evaluate' input 'output_path' cannot be mapped",
        ),
        (
            MEDPERF,
            _replace(MEDPERF_EVALUATOR, "mount_path: /volumes/labels", "mount_path: vol"),
            "'mount_path' must be an absolute path below /",
        ),
        (
            MEDPERF,
            _replace(MEDPERF_EVALUATOR, "/volumes/labels", "/proc/labels"),
            "cannot be mounted at /proc/labels",
        ),
        (
            MEDPERF,
            _replace(MEDPERF_EVALUATOR, "/volumes/labels", "/volumes/predictions"),
            "'labels' and 'predictions' share /volumes/predictions",
        ),
        (
            MEDPERF,
            _replace(MEDPERF_EVALUATOR, ", type: directory}\n    output", "}\n    output"),
            "volume 'labels' 'type' must be file or directory",
        ),
        (MEDPERF, MEDPERF_MODEL, "input 'parameters_file' needs a parameters.yaml"),
    ],
)
def test_malformed_format_folders_are_refused_in_one_line(
    tmp_path: Path, spec_file: str, text: str, message: str
) -> None:
    folder = write_cube(tmp_path / "cube", spec_file, text)
    with pytest.raises(InvalidInput, match=message) as info:
        load_cube_spec(folder)
    assert "\n" not in str(info.value)


def test_two_spec_files_in_one_folder_are_refused(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "cube", MLCUBE, MLCUBE_MODEL)
    write_cube(folder, MEDPERF, MEDPERF_MODEL)
    (folder / SPEC_FILE).write_text("name: m\n")
    with pytest.raises(InvalidInput, match=r"has medval-cube\.yaml and mlcube\.yaml and container"):
        load_cube_spec(folder)


def test_additional_files_both_packed_and_unpacked_are_refused(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "m", MEDPERF, MEDPERF_MODEL, parameters=True)
    write_additional_files(folder, {"w.txt": b"1"})
    (folder / "additional_files").mkdir()
    with pytest.raises(InvalidInput, match="keep only one of them"):
        load_cube_spec(folder)


def test_a_declared_parameters_file_must_be_a_file(tmp_path: Path) -> None:
    text = _replace(MEDPERF_MODEL, "parameters_file.yaml, type: file", "params, type: directory")
    folder = write_cube(tmp_path / "m", MEDPERF, text, parameters=True)
    write_additional_files(folder, {"w.txt": b"1"})
    with pytest.raises(InvalidInput, match="input 'parameters_file' must be a file"):
        load_cube_spec(folder)
