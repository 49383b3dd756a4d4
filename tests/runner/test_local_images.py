"""A cube's own image under the local runner: no engine, only its verified archive.

A real server and the client's own registration and Executor: the tiny image's archive
is built here by hand (no engine, no daemon), registered with its cube, and run by the
data owner's Executor under bubblewrap, which unpacks the image once into its workspace.
"""

from __future__ import annotations

import shutil
import socket
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.registration import register_cube
from medval.client.workspace import Workspace
from medval.core.cube_spec import SPEC_FILE, load_cube_spec
from medval.core.errors import SandboxError
from medval.core.schemas import CubePublic
from medval.runner import BubblewrapRunner
from medval.runner.image_rootfs import ImageStore
from medval.runner.interface import Limits

from .tiny_image import (
    archive_id,
    tiny_image_archive,
    write_image_cube,
    write_medperf,
    write_mlcube,
)

pytestmark = pytest.mark.sandbox

LIMITS = Limits(timeout_seconds=60, memory_bytes=256 << 20)


@pytest.fixture
def local_runner() -> BubblewrapRunner:
    if shutil.which("bwrap") is None:
        pytest.fail(
            "bubblewrap is not installed: `make test` installs it (apt-get install bubblewrap)"
        )
    return BubblewrapRunner()


def register_with_archive(
    author: MedvalClient, folder: Path, archive: bytes, tmp_path: Path
) -> CubePublic:
    path = tmp_path / f"image-{uuid.uuid4().hex[:8]}.tar"
    path.write_bytes(archive)
    return register_cube(author, folder, runner_kind="local", image_archive=path)


def run_infer(executor: Executor, cube: CubePublic, tmp_path: Path) -> Path:
    data, output = tmp_path / "data", tmp_path / "output"
    data.mkdir(exist_ok=True)
    executor.run_task(cube, "infer", {"data_path": data, "output_path": output})
    return output


def test_an_image_cube_runs_in_its_unpacked_image_without_any_engine(
    local_runner: BubblewrapRunner, author: MedvalClient, tmp_path: Path
) -> None:
    marker = f"marker-{uuid.uuid4().hex[:12]}"
    archive = tiny_image_archive(marker, tags=("tiny:never-run-by-tag",))
    folder = write_image_cube(tmp_path / "cube", "tiny:never-run-by-tag")
    cube = register_with_archive(author, folder, archive, tmp_path)
    assert cube.image_digest == archive_id(archive)
    workspace = Workspace(tmp_path / "home")
    executor = Executor(author, workspace, local_runner, LIMITS)

    output = run_infer(executor, cube, tmp_path)

    assert (output / "marker.txt").read_text().strip() == marker
    rootfs = workspace.images_dir / cube.image_digest.removeprefix("sha256:") / "rootfs"
    assert (rootfs / "opt/tool/marker").read_text().strip() == marker
    # Unpacked once: the second run finds the same folder.
    unpacked_at = rootfs.stat().st_ino
    (output / "marker.txt").unlink()
    run_infer(executor, cube, tmp_path)
    assert (output / "marker.txt").read_text().strip() == marker
    assert rootfs.stat().st_ino == unpacked_at


def test_an_mlcube_runs_through_its_images_own_entrypoint_under_bubblewrap(
    local_runner: BubblewrapRunner, author: MedvalClient, tmp_path: Path
) -> None:
    marker = f"marker-{uuid.uuid4().hex[:12]}"
    archive = tiny_image_archive(marker, with_entrypoint=True, tags=("tiny:x",))
    cube = register_with_archive(
        author, write_mlcube(tmp_path / "cube", "tiny:x"), archive, tmp_path
    )
    executor = Executor(author, Workspace(tmp_path / "home"), local_runner, LIMITS)

    output = run_infer(executor, cube, tmp_path)

    assert (output / "marker.txt").read_text().strip() == marker


def test_a_medperf_cube_runs_with_its_volumes_at_their_paths_under_bubblewrap(
    local_runner: BubblewrapRunner, author: MedvalClient, tmp_path: Path
) -> None:
    marker = f"marker-{uuid.uuid4().hex[:12]}"
    archive = tiny_image_archive(marker, tags=("docker.io/library/tiny:x",))
    cube = register_with_archive(
        author, write_medperf(tmp_path / "cube", "tiny:x"), archive, tmp_path
    )
    executor = Executor(author, Workspace(tmp_path / "home"), local_runner, LIMITS)

    output = run_infer(executor, cube, tmp_path)

    assert (output / "marker.txt").read_text().strip() == marker


def test_an_image_that_is_not_unpacked_is_one_line(
    local_runner: BubblewrapRunner, tmp_path: Path
) -> None:
    archive = tiny_image_archive("m")
    folder = write_image_cube(tmp_path / "cube", "tiny:x")
    runner = BubblewrapRunner(image_store=ImageStore(tmp_path / "empty"))
    (tmp_path / "data").mkdir()
    mounts = {"data_path": tmp_path / "data", "output_path": tmp_path / "out"}
    with pytest.raises(SandboxError) as refused:
        runner.run(
            folder, load_cube_spec(folder), "infer", mounts, LIMITS, image=archive_id(archive)
        )
    assert str(refused.value) == (
        f"the image {archive_id(archive)[:19]}… of cube tiny-image-model is not unpacked here: "
        "run it through the medval client, which unpacks its verified archive"
    )


# Bash built-ins only: the image holds bash and sh, nothing else.
PROBE = """\
for arg in "$@"; do
  case "$arg" in --output_path=*) out="${arg#--output_path=}" ;; esac
done
{
  ( exec 3<>/dev/tcp/127.0.0.1/PORT ) 2>/dev/null && echo "network=connected" || echo "network=none"
  [ -e PLANTED ] && echo "planted=visible" || echo "planted=invisible"
  [ -e PYTHON ] && echo "host_python=visible" || echo "host_python=invisible"
  ( : > /opt/tool/escape ) 2>/dev/null && echo "image=writable" || echo "image=read-only"
  ( : > /cube/escape ) 2>/dev/null && echo "cube=writable" || echo "cube=read-only"
  echo "euid=$EUID"
  echo "cwd=$PWD"
  echo "path=$PATH"
  echo "home=$HOME"
  while read -r key value rest; do
    case "$key" in CapEff:|CapPrm:) echo "${key%:}=$value" ;; esac
  done < /proc/self/status
} > "$out/report"
"""


@pytest.fixture
def host_listener() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


def test_an_image_cube_cannot_get_out(
    local_runner: BubblewrapRunner,
    author: MedvalClient,
    host_listener: socket.socket,
    tmp_path: Path,
) -> None:
    planted = tmp_path / "planted-secret.txt"
    planted.write_text("patient list")
    probe = PROBE.replace("PORT", str(host_listener.getsockname()[1]))
    probe = probe.replace("PLANTED", str(planted)).replace("PYTHON", sys.executable)
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / SPEC_FILE).write_text(
        textwrap.dedent(
            """\
            name: escape-probe
            kind: model
            image: probe:x
            tasks:
              infer: {entrypoint: [bash, /cube/probe.sh]}
            """
        )
    )
    (folder / "probe.sh").write_text(probe)
    archive = tiny_image_archive("m", programs=("sh", "bash"), tags=("probe:x",))
    cube = register_with_archive(author, folder, archive, tmp_path)
    executor = Executor(author, Workspace(tmp_path / "home"), local_runner, LIMITS)

    output = run_infer(executor, cube, tmp_path)

    report = dict(line.split("=", 1) for line in (output / "report").read_text().splitlines())
    assert report == {
        "network": "none",
        "planted": "invisible",
        "host_python": "invisible",
        "image": "read-only",
        "cube": "read-only",
        "euid": "65534",
        "cwd": "/cube",
        "path": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "home": "/tmp",
        "CapEff": "0000000000000000",
        "CapPrm": "0000000000000000",
    }
    with pytest.raises(BlockingIOError):
        host_listener.accept()  # nobody knocked
