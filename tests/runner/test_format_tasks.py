"""MedPerf and MLCube cubes run as their authors declared them, on every runner.

A real server, the client's own registration and Executor, and the three runners: the
image's ``Env`` and ``WORKDIR``, the cube's declared variables under medval's own, its
additional files and workspace files as read-only inputs, and mounts at paths the image
lacks (inside one of its folders), inside ``/tmp`` and at the root.
"""

from __future__ import annotations

import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.registration import register_cube
from medval.client.workspace import Workspace
from medval.core.schemas import CubePublic
from medval.runner.container import ContainerRunner
from medval.runner.interface import Limits, Runner
from tests.core.format_samples import write_additional_files

from .tiny_image import build_tiny_image, tiny_image_archive

pytestmark = pytest.mark.sandbox

LIMITS = Limits(timeout_seconds=60, memory_bytes=256 << 20)
IMAGE_ENV = ("FOO=from-image", "IMAGEVAR=kept")
WORKDIR = "/opt/tool"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Image:
    """The tiny image with its own Env and WORKDIR, as a runner gets it registered."""

    tag: str
    marker: str
    archive: Path | None  # For the local runner: a saved archive naming the tag.


@pytest.fixture
def image(runner: Runner, tmp_path: Path) -> Iterator[Image]:
    tag = f"medval-test-format:{uuid.uuid4().hex[:12]}"
    marker = f"marker-{uuid.uuid4().hex[:12]}"
    if not isinstance(runner, ContainerRunner):
        archive = tmp_path / "image.tar"
        archive.write_bytes(tiny_image_archive(marker, tags=(tag,), env=IMAGE_ENV, workdir=WORKDIR))
        yield Image(tag, marker, archive)
        return
    image_id = build_tiny_image(runner.program, tag, marker, env=IMAGE_ENV, workdir=WORKDIR)
    yield Image(tag, marker, None)
    subprocess.run(
        [runner.program, "rmi", "--force", image_id], capture_output=True, check=False, timeout=60
    )


def register(
    author: MedvalClient, runner: Runner, image: Image, folder: Path, notes: list[str]
) -> CubePublic:
    return register_cube(
        author, folder, runner_kind=runner.kind, image_archive=image.archive, say=notes.append
    )


def run_infer(author: MedvalClient, runner: Runner, cube: CubePublic, tmp_path: Path) -> Path:
    data, output = tmp_path / "data", tmp_path / "output"
    data.mkdir(exist_ok=True)
    (data / "case.txt").write_text("case-1\n")
    executor = Executor(author, Workspace(tmp_path / "home"), runner, LIMITS)
    executor.run_task(cube, "infer", {"data_path": data, "output_path": output})
    return output


def report(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


# dash built-ins only: the image holds /bin/sh and nothing else.
MEDPERF_PROBE = """\
{
  echo "cwd=$PWD"
  echo "FOO=$FOO"
  echo "IMAGEVAR=$IMAGEVAR"
  echo "DECLARED=$DECLARED"
  echo "HOME=$HOME"
  echo "PATH=$PATH"
  read -r weights < /opt/tool/extra/weights/w.txt; echo "weights=$weights"
  ( : > /opt/tool/extra/new ) 2>/dev/null && echo "extra=writable" || echo "extra=read-only"
  read -r data < /tmp/inputs/data/case.txt; echo "data=$data"
  read -r marker < /opt/tool/marker; echo "image=$marker"
} > /report.txt
"""


def write_medperf_probe(folder: Path, tag: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "container_config.yaml").write_text(
        textwrap.dedent(
            f"""\
            container_type: DockerImage
            image: {tag}
            tasks:
              infer:
                run_args:
                  entrypoint: sh
                  command: /cube/probe.sh
                  environment: {{DECLARED: from-config, FOO: from-config, HOME: /root}}
                  gpus: 1
                input_volumes:
                  data_path: {{mount_path: /tmp/inputs/data, type: directory}}
                  additional_files: {{mount_path: /opt/tool/extra, type: directory}}
                output_volumes:
                  output_path: {{mount_path: /report.txt, type: file}}
            """
        )
    )
    (folder / "probe.sh").write_text(MEDPERF_PROBE)
    write_additional_files(folder, {"weights/w.txt": b"0.25\n"})
    folder.chmod(0o755)
    return folder


def test_a_medperf_cube_gets_its_environment_workdir_and_mounts_anywhere_on_every_runner(
    runner: Runner, image: Image, author: MedvalClient, tmp_path: Path
) -> None:
    notes: list[str] = []
    folder = write_medperf_probe(tmp_path / "probe", image.tag)
    cube = register(author, runner, image, folder, notes)

    output = run_infer(author, runner, cube, tmp_path)

    assert report(output / "report.txt") == {
        "cwd": WORKDIR,  # the image's WORKDIR, not /cube
        "FOO": "from-config",  # declared over the image's own
        "IMAGEVAR": "kept",
        "DECLARED": "from-config",
        "HOME": "/tmp",  # medval's own variables win
        "PATH": SYSTEM_PATH,
        "weights": "0.25",  # additional files inside an image folder that lacks the place
        "extra": "read-only",
        "data": "case-1",  # an input inside the fresh /tmp
        "image": image.marker,  # the image's folder is still whole around the new mount
    }
    assert notes == [
        "GPU: the cube can use a GPU (runs without one)",  # gpus: 1
        "note: container_config.yaml: medval does not honour "
        "tasks.infer.run_args.environment.HOME (medval sets HOME=/tmp itself)",
    ]


MLCUBE_PROBE = """\
for arg in "$@"; do
  case "$arg" in
    --weights=*) weights="${arg#--weights=}" ;;
    --config=*) config="${arg#--config=}" ;;
    --output_path=*) out="${arg#--output_path=}" ;;
  esac
done
{
  echo "cwd=$PWD"
  echo "DECLARED=$DECLARED"
  echo "weights_at=$weights"
  read -r value < "$weights"; echo "weights=$value"
  read -r value < "$config"; echo "config=$value"
  ( : >> "$weights" ) 2>/dev/null && echo "weights_file=writable" || echo "weights_file=read-only"
} > "$out/report.txt"
"""


def test_mlcube_inputs_from_the_cubes_own_files_are_mounted_read_only_on_every_runner(
    runner: Runner, image: Image, author: MedvalClient, tmp_path: Path
) -> None:
    folder = tmp_path / "mlcube"
    (folder / "workspace").mkdir(parents=True)
    (folder / "mlcube.yaml").write_text(
        textwrap.dedent(
            f"""\
            name: probe-mlcube
            docker: {{image: {image.tag}, env_args: {{DECLARED: from-env-args}}}}
            platform: {{accelerator_count: 1}}
            tasks:
              infer:
                entrypoint: sh /cube/probe.sh
                parameters:
                  inputs:
                    data_path: data
                    weights: additional_files/weights/w.h5
                    config: {{type: file, default: config.yaml}}
                  outputs: {{output_path: predictions}}
            """
        )
    )
    (folder / "probe.sh").write_text(MLCUBE_PROBE)
    (folder / "workspace" / "config.yaml").write_text("threshold: 3\n")
    (folder / "workspace" / "additional_files").mkdir()
    (folder / "workspace" / "additional_files" / "weights").mkdir()
    (folder / "workspace" / "additional_files" / "weights" / "w.h5").write_text("0.75\n")
    for path in (folder, *folder.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    notes: list[str] = []
    cube = register(author, runner, image, folder, notes)

    output = run_infer(author, runner, cube, tmp_path)

    assert report(output / "report.txt") == {
        "cwd": WORKDIR,
        "DECLARED": "from-env-args",
        "weights_at": "/mlcube_io/weights/w.h5",
        "weights": "0.75",
        "config": "threshold: 3",
        "weights_file": "read-only",
    }
    assert notes == [
        "GPU: the cube can use a GPU (runs without one)"  # accelerator_count: 1
    ]
