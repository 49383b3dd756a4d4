"""Registering a cube the MedPerf way, through the CLI: a container config, a parameters
file and an additional-files tarball as separate files; an image archive named by the
config (DockerArchive) or given with --image-archive, which must hold the spec's image;
and what medval does not honour said at registration and by ``cube show``."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from pathlib import Path

import pytest

from medval.core.hashing import sha256_bytes, unpack_archive
from tests.core.format_samples import write_additional_files
from tests.e2e.people import Person, assert_clean_failure
from tests.runner.tiny_image import archive_id, tiny_image_archive

pytestmark = [pytest.mark.e2e]

CONFIG = """\
container_type: DockerArchive
image: {image}
tasks:
  infer:
    run_args:
      command: python3 /app/infer.py
      shm_size: 2gb
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
      parameters_file: {{mount_path: /mlcommons/volumes/parameters/parameters.yaml, type: file}}
      additional_files: {{mount_path: /mlcommons/volumes/additional_files, type: directory}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/predictions, type: directory}}
"""
SHM_NOTE = (
    "note: container_config.yaml: medval does not honour tasks.infer.run_args.shm_size "
    "(/dev/shm is the runner's, within the task's memory limit)"
)


def write_parts(folder: Path, image: str = "model.tar") -> dict[str, Path]:
    """A MedPerf model's three files, as its author has them, and its image archive."""
    folder.mkdir(parents=True)
    (folder / "container_config.yaml").write_text(CONFIG.format(image=image))
    (folder / "model.tar").write_bytes(tiny_image_archive("m", tags=("vendor/model:1.0",)))
    (folder / "parameters.yaml").write_text("threshold: 0.5\n")
    write_additional_files(folder, {"weights/w.txt": b"0.1"})
    return {
        "-m": folder / "container_config.yaml",
        "-p": folder / "parameters.yaml",
        "-a": folder / "additional_files.tar.gz",
    }


def parts_args(parts: dict[str, Path]) -> list[str]:
    return [word for flag, path in parts.items() for word in (flag, str(path))]


def test_three_files_and_a_docker_archive_register_as_one_pinned_cube(
    people: dict[str, Person], tmp_path: Path
) -> None:
    vendor = people["vendor"]
    parts = write_parts(tmp_path / "chest_model")

    result = vendor.medval("model", "register", *parts_args(parts), "--format", "json")

    assert result.code == 0, result.stderr
    assert SHM_NOTE in result.stderr.splitlines()
    cube = json.loads(result.stdout)
    image = (tmp_path / "chest_model" / "model.tar").read_bytes()
    assert cube["name"] == "chest_model"  # MedPerf's config names none: its folder's
    assert cube["image_digest"] == archive_id(image)
    assert cube["image_archive_hash"] == sha256_bytes(image)
    shown = vendor.medval("cube", "show", str(cube["id"]))
    assert shown.code == 0, shown.stderr
    assert SHM_NOTE in shown.stderr.splitlines()
    # The cube archive (cached by cube show) holds the three parts as a folder would.
    unpacked = tmp_path / "unpacked"
    cached = vendor.home / "cubes" / f"{cube['archive_hash']}.tar.gz"
    unpack_archive(cached.read_bytes(), unpacked)
    files = [p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()]
    assert sorted(files) == [
        "container_config.yaml",
        "workspace/additional_files.tar.gz",
        "workspace/parameters.yaml",
    ]
    # The same parts give the same pinned hash as a folder holding them.
    folder = tmp_path / "as-folder"
    (folder / "workspace").mkdir(parents=True)
    for source, target in (
        (parts["-m"], "container_config.yaml"),
        (parts["-p"], "workspace/parameters.yaml"),
        (parts["-a"], "workspace/additional_files.tar.gz"),
    ):
        (folder / target).write_bytes(source.read_bytes())
    again = vendor.json(
        "model", "register", str(folder), "--name", "as-folder",
        "--image-archive", str(tmp_path / "chest_model" / "model.tar"),
    )  # fmt: skip
    assert again["archive_hash"] == cube["archive_hash"]


def _broken_tarball(path: Path) -> Path:
    path.write_bytes(b"\x1f\x8b\x08\x00 this is no gzip stream")
    return path


def _escaping_tarball(path: Path) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("weights")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc"
        tar.addfile(link)
    path.write_bytes(buffer.getvalue())
    return path


def test_bad_parts_are_one_line_and_register_nothing(
    people: dict[str, Person], tmp_path: Path
) -> None:
    vendor = people["vendor"]
    parts = write_parts(tmp_path / "m")
    before = vendor.json("model", "list", "--mine")
    missing = tmp_path / "absent.yaml"
    cases = [
        (
            [str(tmp_path / "m"), "-m", str(parts["-m"])],
            "give a cube folder or --container-config, not both",
        ),
        (
            ["-p", str(parts["-p"])],
            "--parameters and --additional-files go with --container-config",
        ),
        ([], "give a cube folder, or --container-config FILE"),
        (["-m", str(missing)], f"--container-config {missing} is not a file"),
        (["-m", str(parts["-m"]), "-p", str(missing)], f"--parameters {missing} is not a file"),
        (
            ["-m", str(parts["-m"]), "-a", str(_broken_tarball(tmp_path / "broken.tar.gz"))],
            f"additional files {tmp_path / 'broken.tar.gz'} are not a .tar.gz archive",
        ),
        (
            ["-m", str(parts["-m"]), "-a", str(_escaping_tarball(tmp_path / "link.tar.gz"))],
            "archive member is not a plain file: weights",
        ),
        (
            ["-m", str(parts["-m"])],
            f"{parts['-m']}: task 'infer' input 'parameters_file' needs a parameters.yaml",
        ),
    ]
    refusals = (
        ("/", "'mount_path' must be an absolute path below /"),
        ("/proc/data", "cannot be mounted at /proc/data: the sandbox makes /proc itself"),
    )
    for mount, why in refusals:
        config = tmp_path / "at" / mount.strip("/").replace("/", "-") / "container_config.yaml"
        config.parent.mkdir(parents=True)
        config.write_text(parts["-m"].read_text().replace("/mlcommons/volumes/data", mount))
        cases.append(
            (
                ["-m", str(config), "-p", str(parts["-p"]), "-a", str(parts["-a"])],
                f"{config}: task 'infer' volume 'data_path' {why}",
            )
        )
    for args, message in cases:
        assert_clean_failure(vendor.medval("model", "register", *args), 2, message)
    assert vendor.json("model", "list", "--mine") == before


def test_an_image_archive_must_hold_the_image_the_spec_names(
    people: dict[str, Person], tmp_path: Path
) -> None:
    vendor = people["vendor"]
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / "medval-cube.yaml").write_text(
        textwrap.dedent(
            """\
            name: tagged-model
            kind: model
            image: vendor/model:1.0
            tasks:
              infer: {entrypoint: [sh, /opt/tool/infer.sh]}
            """
        )
    )
    other = tmp_path / "other.tar"
    other.write_bytes(tiny_image_archive("m", tags=("docker.io/vendor/other:2.0",)))
    untagged = tmp_path / "untagged.tar"
    untagged.write_bytes(tiny_image_archive("u"))
    same = tmp_path / "same.tar"
    same.write_bytes(tiny_image_archive("s", tags=("docker.io/vendor/model:1.0",)))

    assert_clean_failure(
        vendor.medval("cube", "register", str(folder), "--image-archive", str(other)),
        2,
        f"image archive {other} holds docker.io/vendor/other:2.0, not the spec's vendor/model:1.0",
    )
    untagged_id = archive_id(untagged.read_bytes())
    assert_clean_failure(
        vendor.medval("cube", "register", str(folder), "--image-archive", str(untagged)),
        2,
        f"image archive {untagged} holds an untagged image {untagged_id[:19]}…, not the "
        "spec's vendor/model:1.0",
    )
    cube = vendor.json("cube", "register", str(folder), "--image-archive", str(same))
    assert cube["image_digest"] == archive_id(same.read_bytes())
    # A digest in the spec must be the archive's image ID.
    (folder / "medval-cube.yaml").write_text(
        (folder / "medval-cube.yaml")
        .read_text()
        .replace("vendor/model:1.0", f"vendor/model@{untagged_id}")
    )
    assert_clean_failure(
        vendor.medval("cube", "register", str(folder), "--image-archive", str(same)),
        2,
        f"image archive {same} holds image {cube['image_digest'][:19]}…, not the spec's "
        f"vendor/model@{untagged_id}",
    )
    by_digest = vendor.json(
        "cube", "register", str(folder), "--name", "by-digest", "--image-archive", str(untagged)
    )
    assert by_digest["image_digest"] == untagged_id


def test_a_docker_archive_named_by_url_needs_the_archive_given(
    people: dict[str, Person], tmp_path: Path
) -> None:
    vendor = people["vendor"]
    parts = write_parts(tmp_path / "m", image="https://example.org/model.tar")
    assert_clean_failure(
        vendor.medval("model", "register", *parts_args(parts)),
        2,
        "its image archive is https://example.org/model.tar, which medval does not download: "
        "give the archive with --image-archive PATH",
    )
    cube = vendor.json(
        "model", "register", *parts_args(parts), "--image-archive", str(tmp_path / "m/model.tar")
    )
    assert cube["image_digest"] == archive_id((tmp_path / "m" / "model.tar").read_bytes())
