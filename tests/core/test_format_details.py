"""What the MLCube and MedPerf readers make of the rest of a spec: declared variables,
inputs from the cube's own files, DockerArchive, mount paths, and notes on everything
medval does not honour."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from tests.core.format_samples import (
    MEDPERF_EVALUATOR,
    MEDPERF_MODEL,
    MLCUBE_MODEL,
    MLCUBE_PREPARATOR,
    write_additional_files,
    write_cube,
)

from medval.core.cube_spec import MountPoint, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.gpus import GpuNeed
from medval.core.states import CubeKind

MLCUBE, MEDPERF = "mlcube.yaml", "container_config.yaml"


def _replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_medperf_notes_name_every_key_medval_does_not_honour(tmp_path: Path) -> None:
    text = _replace(
        MEDPERF_EVALUATOR,
        "  evaluate:\n",
        "  evaluate:\n"
        "    run_args:\n"
        "      gpus: all\n      shm_size: 1gb\n      user: 0:0\n      ports: ['8080:80']\n"
        "      network: host\n      ipc: host\n"
        "      environment: {MODE: fast, LC_ALL: C, THREADS: 4}\n"
        "    resources: {cpus: 2}\n",
    )
    text += "  infer: {}\nextra_key: 1\n"
    spec = load_cube_spec(write_cube(tmp_path / "e", MEDPERF, text), CubeKind.EVALUATOR)
    assert spec.unhonoured == (
        "extra_key (not read by medval)",
        "tasks.infer (evaluator cubes run only evaluate)",
        "tasks.evaluate.resources (not read by medval)",
        "tasks.evaluate.run_args.shm_size (/dev/shm is the runner's, within the task's "
        "memory limit)",
        "tasks.evaluate.run_args.user (a task runs as the runner's unprivileged user)",
        "tasks.evaluate.run_args.ports (a task has no network)",
        "tasks.evaluate.run_args.network (a task has no network)",
        "tasks.evaluate.run_args.ipc (not read by medval)",
        "tasks.evaluate.run_args.environment.LC_ALL (medval sets LC_ALL=C.UTF-8 itself)",
    )
    assert spec.gpu is GpuNeed.CAN_USE  # gpus: all is read, not a note (core.gpus)
    assert spec.task("evaluate").environment == (
        ("MODE", "fast"),
        ("LC_ALL", "C"),
        ("THREADS", "4"),
    )
    assert spec.task("evaluate").in_image_workdir


def test_what_asks_for_nothing_is_no_note(tmp_path: Path) -> None:
    text = _replace(MEDPERF_EVALUATOR, "  evaluate:\n", "  evaluate:\n    run_args: {gpus: 0}\n")
    assert load_cube_spec(write_cube(tmp_path / "e", MEDPERF, text)).unhonoured == ()


def test_mlcube_notes_and_env_args(tmp_path: Path) -> None:
    text = _replace(
        MLCUBE_MODEL,
        "  image: example/chest-model:0.1\n",
        "  image: example/chest-model:0.1\n  build_context: ../project\n  gpu_args: --gpus=all\n"
        "  env_args: [MODE=fast, HOME=/root]\n",
    )
    text = _replace(text, "platform: {accelerator_count: 0}", "platform: {accelerator_count: 1}")
    text = _replace(
        text,
        "data_path: {type: directory, default: data}",
        "data_path: {type: directory, default: data, opts: rw}",
    )
    text += "singularity: {image: m.sif}\n"
    spec = load_cube_spec(write_cube(tmp_path / "m", MLCUBE, text, parameters=True))
    assert spec.gpu is GpuNeed.CAN_USE  # accelerator_count: 1 is read, not a note
    assert spec.unhonoured == (
        "singularity (medval runs the docker image)",
        "docker.build_context (images are pinned at registration, never built)",
        "docker.gpu_args (medval sets every option of a task's container itself)",
        "docker.env_args.HOME (medval sets HOME=/tmp itself)",
        "tasks.infer.parameters.inputs.data_path.opts (inputs are read-only, outputs writable)",
    )
    assert spec.task("infer").environment == (("MODE", "fast"), ("HOME", "/root"))
    # The sample's own platform (accelerator_count: 0) and tasks no kind has are noted
    # only when they ask for something.
    prep = load_cube_spec(write_cube(tmp_path / "p", MLCUBE, MLCUBE_PREPARATOR))
    assert prep.unhonoured == (
        "tasks.download (data_preparator cubes run only prepare, sanity_check, statistics)",
    )
    assert prep.gpu is GpuNeed.NONE


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ("[1, 2]", "run_args.environment must be a mapping of NAME: value"),
        ("{'BAD-NAME': x}", "'BAD-NAME' is not a variable name"),
        ("{X: [1]}", "X must be a string or a number"),
        ("{X: true}", "X must be a string or a number"),
    ],
)
def test_bad_declared_variables_are_one_line(
    tmp_path: Path, environment: str, message: str
) -> None:
    text = _replace(
        MEDPERF_EVALUATOR,
        "  evaluate:\n",
        f"  evaluate:\n    run_args: {{environment: {environment}}}\n",
    )
    with pytest.raises(InvalidInput, match=message):
        load_cube_spec(write_cube(tmp_path / "e", MEDPERF, text))


def test_a_docker_archive_names_its_image_archive(tmp_path: Path) -> None:
    text = _replace(
        MEDPERF_EVALUATOR,
        "DockerImage\nimage: example/chest-metrics:0.1",
        "DockerArchive\nimage: image/metrics.tar",
    )
    spec = load_cube_spec(write_cube(tmp_path / "e", MEDPERF, text))
    assert spec.image == "image/metrics.tar" and spec.image_is_archive


@pytest.mark.parametrize(
    ("mount_path", "message"),
    [
        ("/", "'mount_path' must be an absolute path below /"),
        ("//volumes/labels", "'mount_path' must be an absolute path below /"),
        ("/volumes/../labels", "'mount_path' must be an absolute path below /"),
        ("/dev/shm/labels", "cannot be mounted at /dev/shm/labels: the sandbox makes /dev itself"),
        ("/sys", "cannot be mounted at /sys: the sandbox makes /sys itself"),
        ("/cube/labels", "cannot be mounted at /cube/labels: the sandbox makes /cube itself"),
        ("/tmp", "cannot be mounted at /tmp: every task gets a fresh, empty /tmp"),
        ("/etc/hosts", "cannot be mounted at /etc/hosts: the container engines manage it"),
        ("/volumes/a,b", "holds a character a container mount cannot name"),
        (
            "/volumes/predictions/labels",
            "volume 'labels' \\(/volumes/predictions/labels\\) is inside volume 'predictions' "
            "\\(/volumes/predictions\\): medval does not mount one volume inside another",
        ),
    ],
)
def test_mount_paths_no_runner_can_honour_are_refused_in_one_line(
    tmp_path: Path, mount_path: str, message: str
) -> None:
    text = _replace(MEDPERF_EVALUATOR, "mount_path: /volumes/labels", f"mount_path: '{mount_path}'")
    with pytest.raises(InvalidInput, match=message) as refused:
        load_cube_spec(write_cube(tmp_path / "e", MEDPERF, text))
    assert "volume 'labels'" in str(refused.value) and "\n" not in str(refused.value)


def test_mounts_inside_tmp_and_image_folders_are_fine(tmp_path: Path) -> None:
    text = _replace(MEDPERF_EVALUATOR, "mount_path: /volumes/labels", "mount_path: /tmp/labels")
    text = _replace(text, "mount_path: /volumes/results", "mount_path: /opt/app/results")
    spec = load_cube_spec(write_cube(tmp_path / "e", MEDPERF, text))
    points = spec.task("evaluate").mount_points
    assert points is not None
    assert [point.path for point in points] == [
        PurePosixPath("/volumes/predictions"),
        PurePosixPath("/tmp/labels"),
        PurePosixPath("/opt/app/results"),
    ]


MLCUBE_WEIGHTS = """\
name: chest-model
docker: {image: example/chest-model:0.1}
tasks:
  infer:
    parameters:
      inputs:
        data_path: data
        weights: additional_files/weights/model.h5
        vocabulary: {type: directory, default: vocab}
      outputs: {output_path: predictions}
"""


def test_mlcube_inputs_from_the_cubes_own_files(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "m", MLCUBE, MLCUBE_WEIGHTS)
    write_additional_files(folder, {"weights/model.h5": b"w"})
    (folder / "workspace" / "vocab").mkdir(parents=True)
    spec = load_cube_spec(folder)
    assert spec.task("infer").mount_points == (
        MountPoint("data_path"),
        MountPoint(
            "weights", None, "model.h5", source=PurePosixPath("weights/model.h5"),
            in_additional_files=True,
        ),
        MountPoint("vocabulary", None, None, source=PurePosixPath("workspace/vocab")),
        MountPoint("output_path"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "vocabulary: {type: directory, default: vocab}",
            "vocabulary: {type: directory}",
            "input 'vocabulary' cannot be mapped: a model cube's infer takes inputs data_path, "
            "parameters_file, additional_files; outputs output_path; nor is its default a path "
            "into the cube's workspace/",
        ),
        (
            "default: vocab}",
            "default: /opt/vocab}",
            "nor is its default a path into the cube's workspace/",
        ),
        ("default: vocab}", "default: ../vocab}", "nor is its default a path into"),
        (
            "default: vocab}",
            "default: other}",
            "nor is its default other a folder of the cube's workspace/ or additional_files/",
        ),
        (
            "outputs: {output_path: predictions}",
            "outputs: {output_path: predictions, logs: logs}",
            "task 'infer' output 'logs' cannot be mapped",
        ),
    ],
)
def test_mlcube_inputs_with_no_source_in_the_cube_are_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    folder = write_cube(tmp_path / "m", MLCUBE, _replace(MLCUBE_WEIGHTS, old, new))
    write_additional_files(folder, {"weights/model.h5": b"w"})
    (folder / "workspace" / "vocab").mkdir(parents=True)
    with pytest.raises(InvalidInput, match=message):
        load_cube_spec(folder)


def test_weights_in_additional_files_need_additional_files(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "m", MLCUBE, MLCUBE_WEIGHTS)
    (folder / "workspace" / "vocab").mkdir(parents=True)
    with pytest.raises(InvalidInput, match="is in the cube's additional files, and it has none"):
        load_cube_spec(folder)


def test_a_medperf_input_medval_has_no_source_for_is_refused(tmp_path: Path) -> None:
    text = _replace(
        MEDPERF_MODEL,
        "      additional_files:",
        "      weights: {mount_path: /volumes/weights, type: directory}\n      additional_files:",
    )
    folder = write_cube(tmp_path / "m", MEDPERF, text, parameters=True)
    write_additional_files(folder, {"w": b"1"})
    with pytest.raises(InvalidInput, match="task 'infer' input 'weights' cannot be mapped"):
        load_cube_spec(folder)
