"""A cube's own image: registered by digest with its archive, verified and run by that ID.

Real engines, a real server, the client's own registration and Executor: an image is
built here without a registry, registered from the engine (or from a saved archive),
removed from the engine, and then loaded back from the server's archive by the data
owner's Executor before the task runs.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.registration import pack_cube, register_cube
from medval.client.workspace import Workspace
from medval.core.errors import HashMismatch
from medval.core.hashing import sha256_bytes, sha256_file
from medval.core.schemas import CubeCreate, CubePublic
from medval.runner import BubblewrapRunner
from medval.runner.container import ContainerRunner
from medval.runner.image_archive import save_image
from medval.runner.interface import Limits, Runner
from tests.conftest import LiveServer

from .conftest import RUNNER_FACTORIES
from .tiny_image import (
    build_tiny_image,
    save_tagged,
    write_image_cube,
    write_medperf,
    write_mlcube,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.container]

LIMITS = Limits(timeout_seconds=60, memory_bytes=256 << 20)


ImageMaker = Callable[[str], tuple[str, str]]


@pytest.fixture
def make_image(engine: ContainerRunner) -> Iterator[ImageMaker]:
    """``make_image(tag)`` -> (image ID, its marker); every image is removed afterwards."""
    made: list[str] = []

    def make(tag: str) -> tuple[str, str]:
        marker = f"marker-{uuid.uuid4().hex[:12]}"
        image_id = build_tiny_image(engine.program, tag, marker)
        made.append(image_id)
        return image_id, marker

    yield make
    for image_id in made:
        remove_image(engine, image_id)


@pytest.fixture(params=["docker", "podman"])
def engine(request: pytest.FixtureRequest) -> ContainerRunner:
    runner = RUNNER_FACTORIES[request.param](request)
    assert isinstance(runner, ContainerRunner)
    return runner


def remove_image(engine: ContainerRunner, image_id: str) -> None:
    subprocess.run(
        [engine.program, "rmi", "--force", image_id], capture_output=True, check=False, timeout=60
    )


def fresh_tag() -> str:
    return f"medval-test-tiny:{uuid.uuid4().hex[:12]}"


def run_infer(executor: Executor, cube: CubePublic, tmp_path: Path) -> Path:
    data, output = tmp_path / "data", tmp_path / "output"
    data.mkdir(exist_ok=True)
    executor.run_task(cube, "infer", {"data_path": data, "output_path": output})
    return output


def executor_for(author: MedvalClient, runner: Runner, home: Path) -> Executor:
    return Executor(author, Workspace(home), runner, LIMITS)


def test_an_image_cube_is_registered_by_digest_and_run_by_it_never_by_its_tag(
    engine: ContainerRunner, make_image: ImageMaker, author: MedvalClient, tmp_path: Path
) -> None:
    tag = fresh_tag()
    registered, marker = make_image(tag)
    folder = write_image_cube(tmp_path / "cube", tag)

    cube = register_cube(author, folder, runner_kind=engine.kind)

    assert cube.image_digest == registered
    assert cube.image_archive_hash is not None
    archive = author.download_blob(cube.image_archive_hash)
    assert sha256_bytes(archive) == cube.image_archive_hash
    # The hospital does not have the image; the tag now names another one.
    remove_image(engine, registered)
    impostor, impostor_marker = make_image(tag)
    assert engine.image_id(registered) is None and impostor != registered

    executor = executor_for(author, engine, tmp_path / "home")
    output = run_infer(executor, cube, tmp_path)

    assert (output / "marker.txt").read_text().strip() == marker != impostor_marker
    assert engine.image_id(registered) == registered  # loaded from the verified archive
    # Already loaded: run again without loading, the same image by its ID.
    (output / "marker.txt").unlink()
    run_infer(executor, cube, tmp_path)
    assert (output / "marker.txt").read_text().strip() == marker


def test_an_image_the_engine_holds_runs_without_its_archive_being_downloaded(
    engine: ContainerRunner,
    make_image: ImageMaker,
    author: MedvalClient,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    # The model owner's compatibility test, say: the image was built in this engine.
    tag = fresh_tag()
    registered, marker = make_image(tag)
    cube = register_cube(author, write_image_cube(tmp_path / "cube", tag), runner_kind=engine.kind)
    assert cube.image_digest == registered and cube.image_archive_hash is not None
    # The server's copy of the archive is gone: only the engine's image can run it.
    (live_server.settings.blob_dir / cube.image_archive_hash).unlink()
    home = tmp_path / "home"

    output = run_infer(executor_for(author, engine, home), cube, tmp_path)

    assert (output / "marker.txt").read_text().strip() == marker
    assert not Workspace(home).image_archive(cube.image_archive_hash).exists()


@pytest.mark.parametrize("engine", ["docker"], indirect=True)  # to build and save the image
def test_an_image_unpacked_here_runs_again_without_its_archive(
    engine: ContainerRunner,
    make_image: ImageMaker,
    author: MedvalClient,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    tag = fresh_tag()
    image_id, marker = make_image(tag)
    archive = tmp_path / "saved.tar"
    save_tagged(engine.program, tag, archive)
    cube = register_cube(
        author, write_image_cube(tmp_path / "cube", tag), runner_kind="local", image_archive=archive
    )
    assert cube.image_archive_hash is not None
    remove_image(engine, image_id)
    home = tmp_path / "home"
    local = executor_for(author, BubblewrapRunner(), home)
    output = run_infer(local, cube, tmp_path)  # unpacked from the downloaded archive
    assert (output / "marker.txt").read_text().strip() == marker
    # The archive gone from the client's cache and from the server: the unpacked image runs.
    Workspace(home).image_archive(cube.image_archive_hash).unlink()
    (live_server.settings.blob_dir / cube.image_archive_hash).unlink()
    (output / "marker.txt").unlink()

    run_infer(local, cube, tmp_path)

    assert (output / "marker.txt").read_text().strip() == marker
    assert not Workspace(home).image_archive(cube.image_archive_hash).exists()


@pytest.mark.parametrize("engine", ["docker"], indirect=True)  # No engine is involved.
@pytest.mark.parametrize("where", ["on the server", "in the client's cache"])
def test_a_tampered_image_archive_is_refused_before_anything_runs(
    where: str,
    engine: ContainerRunner,
    make_image: ImageMaker,
    author: MedvalClient,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    tag = fresh_tag()
    registered, _ = make_image(tag)
    cube = register_cube(author, write_image_cube(tmp_path / "cube", tag), runner_kind="docker")
    assert cube.image_archive_hash is not None
    remove_image(engine, registered)
    workspace_home = tmp_path / "home"
    if where == "on the server":
        target = live_server.settings.blob_dir / cube.image_archive_hash
    else:
        target = Workspace(workspace_home).image_archive(cube.image_archive_hash)
        target.parent.mkdir(parents=True)
        target.write_bytes(author.download_blob(cube.image_archive_hash))
    target.write_bytes(target.read_bytes() + b"\0")

    with pytest.raises(HashMismatch, match="image archive of cube tiny-image-model"):
        run_infer(executor_for(author, engine, workspace_home), cube, tmp_path)

    assert engine.image_id(registered) is None  # nothing was loaded
    assert not (tmp_path / "output").exists()  # nothing ran


def test_an_archive_holding_another_image_than_the_registered_digest_is_refused(
    engine: ContainerRunner, make_image: ImageMaker, author: MedvalClient, tmp_path: Path
) -> None:
    registered, _ = make_image(fresh_tag())
    other, _ = make_image(fresh_tag())
    other_archive = tmp_path / "other.tar"
    save_image(engine, other, other_archive)
    remove_image(engine, registered)
    remove_image(engine, other)
    packed = pack_cube(write_image_cube(tmp_path / "cube", "whatever:tag"))
    author.upload_blob(packed.sha256, packed.archive)
    archive_hash = sha256_file(other_archive)
    author.upload_blob(archive_hash, other_archive.read_bytes())
    cube = author.register_cube(
        CubeCreate(
            name="swapped",
            kind=packed.spec.kind,
            archive_hash=packed.sha256,
            image_digest=registered,
            image_archive_hash=archive_hash,
        )
    )

    with pytest.raises(HashMismatch, match=r"holds image .* not the registered"):
        run_infer(executor_for(author, engine, tmp_path / "home"), cube, tmp_path)

    assert engine.image_id(registered) is None and engine.image_id(other) is None
    assert not (tmp_path / "output").exists()


def test_a_saved_archive_registers_without_an_engine_and_runs_under_bubblewrap(
    engine: ContainerRunner, make_image: ImageMaker, author: MedvalClient, tmp_path: Path
) -> None:
    tag = fresh_tag()
    image_id, marker = make_image(tag)
    archive = tmp_path / "saved.tar"
    save_tagged(engine.program, tag, archive)

    cube = register_cube(
        author, write_image_cube(tmp_path / "cube", tag), runner_kind="local", image_archive=archive
    )

    assert cube.image_digest == image_id
    assert cube.image_archive_hash == sha256_file(archive)
    remove_image(engine, image_id)  # The local runner needs no engine's copy.
    local = executor_for(author, BubblewrapRunner(), tmp_path / "home")
    output = run_infer(local, cube, tmp_path)
    assert (output / "marker.txt").read_text().strip() == marker


def test_an_mlcube_runs_as_it_is_through_its_images_own_entrypoint(
    engine: ContainerRunner, author: MedvalClient, tmp_path: Path
) -> None:
    tag = fresh_tag()
    marker = f"marker-{uuid.uuid4().hex[:12]}"
    image_id = build_tiny_image(engine.program, tag, marker, with_entrypoint=True)
    try:
        cube = register_cube(author, write_mlcube(tmp_path / "cube", tag), runner_kind=engine.kind)
        assert cube.image_digest == image_id
        output = run_infer(executor_for(author, engine, tmp_path / "home"), cube, tmp_path)
        assert (output / "marker.txt").read_text().strip() == marker
    finally:
        remove_image(engine, image_id)


def test_a_medperf_cube_runs_as_it_is_with_its_volumes_at_their_paths(
    engine: ContainerRunner, make_image: ImageMaker, author: MedvalClient, tmp_path: Path
) -> None:
    tag = fresh_tag()
    image_id, marker = make_image(tag)
    cube = register_cube(author, write_medperf(tmp_path / "cube", tag), runner_kind=engine.kind)
    assert cube.image_digest == image_id
    output = run_infer(executor_for(author, engine, tmp_path / "home"), cube, tmp_path)
    assert (output / "marker.txt").read_text().strip() == marker


def test_a_medperf_output_file_at_the_root_is_bound_as_that_file_on_every_runner(
    engine: ContainerRunner, make_image: ImageMaker, author: MedvalClient, tmp_path: Path
) -> None:
    """``output_path: {mount_path: /marker.txt, type: file}``: the file itself is bound
    there (not its folder over /), on this engine and under bubblewrap."""
    tag = fresh_tag()
    image_id, marker = make_image(tag)
    archive = tmp_path / "saved.tar"
    save_tagged(engine.program, tag, archive)
    for runner in (engine, BubblewrapRunner()):
        place = tmp_path / runner.kind
        folder = write_medperf(place / f"at-root-{runner.kind}-{tag[-8:]}", tag, file_at_root=True)
        cube = register_cube(author, folder, runner_kind=runner.kind, image_archive=archive)
        output = run_infer(executor_for(author, runner, place / "home"), cube, place)
        assert (output / "marker.txt").read_text().strip() == marker
        assert sorted(path.name for path in output.iterdir()) == ["marker.txt"]
    remove_image(engine, image_id)
