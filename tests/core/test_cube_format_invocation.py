"""The command line and mounts planned for MLCube and MedPerf cubes (no engine needed)."""

from __future__ import annotations

import gc
import io
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import pytest
from tests.core.format_samples import (
    MEDPERF_MODEL,
    MEDPERF_PREPARATOR,
    MLCUBE_EVALUATOR,
    MLCUBE_MODEL,
    MLCUBE_PREPARATOR,
    write_additional_files,
    write_cube,
)

from medval.core.cube_spec import load_cube_spec
from medval.core.errors import InvalidInput, SandboxError
from medval.runner.invocation import Mount, TaskInvocation, plan_invocation

# A pinned image ID, as registration records it; planning needs no engine.
PINNED = "sha256:" + "a" * 64


def _folders(root: Path, *names: str) -> dict[str, Path]:
    mounts = {name: root / name for name in names}
    for path in mounts.values():
        path.mkdir(parents=True, exist_ok=True)
    return mounts


def _where(plan: TaskInvocation) -> dict[str, tuple[str, bool]]:
    return {m.name: (str(m.sandbox_path), m.writable) for m in plan.mounts}


def test_mlcube_image_entrypoint_gets_the_task_name_and_paths(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "cube", "mlcube.yaml", MLCUBE_MODEL, parameters=True)
    mounts = _folders(tmp_path, "data_path") | {"output_path": tmp_path / "predictions"}
    plan = plan_invocation(folder, load_cube_spec(folder), "infer", mounts, image=PINNED)
    assert plan.image_command() == (
        None,
        [
            "infer",
            "--data_path=/mlcube_io/data_path",
            "--parameters_file=/mlcube_io/parameters_file/parameters.yaml",
            "--output_path=/mlcube_io/output_path",
        ],
    )
    assert _where(plan) == {
        "data_path": ("/mlcube_io/data_path", False),
        "parameters_file": ("/mlcube_io/parameters_file/parameters.yaml", False),
        "output_path": ("/mlcube_io/output_path", True),
    }
    parameters = next(m for m in plan.mounts if m.name == "parameters_file")
    assert parameters.host_path == folder.resolve() / "workspace" / "parameters.yaml"
    assert (tmp_path / "predictions").is_dir()
    # Without its image, nothing can run the image's own entrypoint.
    with pytest.raises(SandboxError, match="runs its image's own entrypoint"):
        plan.command("/usr/bin/python3")


def test_mlcube_file_output_is_a_file_in_the_mounted_folder(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "cube", "mlcube.yaml", MLCUBE_PREPARATOR)
    mounts = _folders(tmp_path, "data_path", "labels_path") | {"output_path": tmp_path / "s"}
    plan = plan_invocation(folder, load_cube_spec(folder), "statistics", mounts, image=PINNED)
    assert plan.image_command()[1][-1] == "--output_path=/mlcube_io/output_path/statistics.json"
    assert _where(plan)["output_path"] == ("/mlcube_io/output_path", True)


def test_mlcube_task_entrypoint_replaces_the_image_one(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "cube", "mlcube.yaml", MLCUBE_EVALUATOR)
    mounts = _folders(tmp_path, "predictions", "labels") | {"output_path": tmp_path / "r"}
    plan = plan_invocation(folder, load_cube_spec(folder), "evaluate", mounts, image=PINNED)
    assert plan.image_command() == (
        "python3",
        [
            "/app/metrics.py",
            "--predictions=/mlcube_io/predictions",
            "--labels=/mlcube_io/labels",
            "--output_path=/mlcube_io/output_path",
        ],
    )
    assert plan.command("/venv/bin/python")[:2] == ["/venv/bin/python", "/app/metrics.py"]


def test_medperf_volumes_at_their_paths_and_no_path_arguments(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "cube", "container_config.yaml", MEDPERF_PREPARATOR)
    spec = load_cube_spec(folder)
    prepared = _folders(tmp_path, "data", "labels")
    plan = plan_invocation(
        folder,
        spec,
        "statistics",
        {
            "data_path": prepared["data"],
            "labels_path": prepared["labels"],
            "output_path": tmp_path / "s",
        },
        image=PINNED,
    )
    assert plan.image_command() == ("python3", ["/app/main.py", "statistics"])
    assert _where(plan) == {
        "data_path": ("/volumes/data", False),
        "labels_path": ("/volumes/labels", False),
        # MedPerf binds a file output itself, at its path.
        "output_path": ("/volumes/statistics/statistics.json", True),
    }
    statistics_file = next(m for m in plan.mounts if m.name == "output_path")
    assert (
        statistics_file.is_file and statistics_file.host_path == tmp_path / "s" / "statistics.json"
    )
    assert statistics_file.host_path.is_file()  # Made empty for the bind.
    prepare = plan_invocation(
        folder,
        spec,
        "prepare",
        _folders(tmp_path, "data_path", "labels_path")
        | {"output_path": tmp_path / "o", "output_labels_path": tmp_path / "ol"},
        image=PINNED,
    )
    assert prepare.image_command() == (None, ["python3", "/app/main.py", "prepare"])
    # sanity_check declares only data_path: labels_path is given but not shown.
    check = plan_invocation(
        folder,
        spec,
        "sanity_check",
        {"data_path": prepared["data"], "labels_path": prepared["labels"]},
        image=PINNED,
    )
    assert _where(check) == {"data_path": ("/volumes/data", False)}


def test_medperf_additional_files_are_unpacked_readable_and_removed(tmp_path: Path) -> None:
    folder = write_cube(tmp_path / "cube", "container_config.yaml", MEDPERF_MODEL, parameters=True)
    write_additional_files(folder, {"weights/w.txt": b"0.1 0.2"})
    mounts = _folders(tmp_path, "data_path") | {"output_path": tmp_path / "p"}
    plan = plan_invocation(folder, load_cube_spec(folder), "infer", mounts, image=PINNED)
    assert plan.image_command() == (None, [])
    additional = next(m for m in plan.mounts if m.name == "additional_files")
    assert additional.sandbox_path == PurePosixPath("/volumes/additional_files")
    assert not additional.writable
    weights = additional.host_path / "weights" / "w.txt"
    assert weights.read_bytes() == b"0.1 0.2"
    assert weights.stat().st_mode & 0o777 == 0o644  # 0600 in the archive.
    assert _where(plan)["parameters_file"] == ("/volumes/params/parameters_file.yaml", False)
    unpacked_root = additional.host_path.parent
    del plan, additional
    gc.collect()
    assert not unpacked_root.exists()


def test_an_unsafe_additional_files_archive_is_one_line_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    folder = write_cube(tmp_path / "cube", "container_config.yaml", MEDPERF_MODEL, parameters=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("escape")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    (folder / "additional_files.tar.gz").write_bytes(buffer.getvalue())
    before = set(Path(tempfile.gettempdir()).glob("medval-additional-files-*"))
    mounts = _folders(tmp_path, "data_path") | {"output_path": tmp_path / "p"}
    with pytest.raises(
        InvalidInput, match=r"additional_files\.tar\.gz: archive member is not"
    ) as info:
        plan_invocation(folder, load_cube_spec(folder), "infer", mounts, image=PINNED)
    assert "\n" not in str(info.value)
    assert set(Path(tempfile.gettempdir()).glob("medval-additional-files-*")) == before


def test_a_medval_cube_in_its_own_image_runs_its_entrypoint_instead_of_the_images(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / "medval-cube.yaml").write_text(
        "name: m\nkind: model\nimage: v/m:1\ntasks:\n  infer: {entrypoint: [python, i.py]}\n"
    )
    mounts = _folders(tmp_path, "data_path") | {"output_path": tmp_path / "p"}
    plan = plan_invocation(folder, load_cube_spec(folder), "infer", mounts, image=PINNED)
    args = ["--data_path=/mlcube_io/data_path", "--output_path=/mlcube_io/output_path"]
    assert plan.image_command() == ("python", ["i.py", *args])
    assert plan.mounts[0] == Mount(
        "data_path",
        (tmp_path / "data_path").resolve(),
        PurePosixPath("/mlcube_io/data_path"),
        False,
    )
