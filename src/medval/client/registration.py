"""Registering what a benchmark owner or a model owner ships: cubes and demo data.

Both travel as deterministic archives, uploaded once as content-addressed blobs and
pinned by their hash. A cube whose spec names a container image also ships the image:
its archive (``docker save`` / ``podman save`` of exactly that image, or one the author
saved before) is uploaded as a blob, and the image's ID is registered with its hash.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from medval.client.http import MedvalClient
from medval.core.cube_spec import CubeSpec, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.hashing import pack_directory, sha256_bytes, sha256_file
from medval.core.schemas import CubeCreate, CubePublic
from medval.core.states import CubeKind, Stage
from medval.runner.image_archive import archive_image_id, save_image
from medval.runner.registry import image_engine


@dataclass(frozen=True)
class PackedCube:
    spec: CubeSpec
    archive: bytes
    sha256: str


def pack_cube(folder: Path, kind: CubeKind | None = None) -> PackedCube:
    """Validate a cube folder and pack it whole; the hash is what the server will pin.

    The folder may be in medval's format, MLCube's or MedPerf's: the archive holds it
    as it is (spec, parameters, additional files), so the hash covers all of them.
    ``kind`` settles a container format whose tasks fit several kinds.
    """
    if not folder.is_dir():
        raise InvalidInput(f"cube folder {folder} does not exist")
    spec = load_cube_spec(folder, kind)
    archive = pack_directory(folder)
    return PackedCube(spec, archive, sha256_bytes(archive))


@dataclass(frozen=True)
class PinnedImage:
    """A cube's image as it is registered: its ID and its archive's hash."""

    digest: str
    archive_hash: str


def register_cube(
    client: MedvalClient,
    folder: Path,
    *,
    name: str | None = None,
    expected_kind: CubeKind | None = None,
    stage: Stage = Stage.OPERATION,
    runner_kind: str = "local",
    image_archive: Path | None = None,
) -> CubePublic:
    """Upload a cube (and its image, if its spec names one) and register it.

    The image is saved from ``runner_kind``'s engine (or Docker, else Podman, when that
    is the local runner), unless ``image_archive`` is an archive saved before.
    """
    packed = pack_cube(folder, expected_kind)
    if expected_kind is not None and packed.spec.kind != expected_kind:
        raise InvalidInput(
            f"{folder} is a {packed.spec.kind.value} cube, not a {expected_kind.value} cube"
        )
    image = upload_image(client, packed.spec, runner_kind, image_archive)
    client.upload_blob(packed.sha256, packed.archive)
    body = CubeCreate(
        name=name or packed.spec.name,
        kind=packed.spec.kind,
        archive_hash=packed.sha256,
        stage=stage,
        image_digest=image.digest if image else None,
        image_archive_hash=image.archive_hash if image else None,
    )
    return client.register_cube(body)


def upload_image(
    client: MedvalClient, spec: CubeSpec, runner_kind: str, image_archive: Path | None
) -> PinnedImage | None:
    """Pin and upload the cube's image; None for a cube without one."""
    if spec.image is None:
        if image_archive is not None:
            raise InvalidInput(
                f"cube {spec.name} names no image in its spec; --image-archive is for cubes "
                "with an 'image'"
            )
        return None
    if image_archive is not None:
        if not image_archive.is_file():
            raise InvalidInput(f"image archive {image_archive} does not exist")
        return _upload_archive(client, image_archive, archive_image_id(image_archive))
    engine = image_engine(runner_kind, f"the image {spec.image} of cube {spec.name}")
    with tempfile.TemporaryDirectory(prefix="medval-image-") as scratch:
        archive = Path(scratch) / "image.tar"
        digest = save_image(engine, spec.image, archive)
        return _upload_archive(client, archive, digest)


def _upload_archive(client: MedvalClient, archive: Path, digest: str) -> PinnedImage:
    archive_hash = sha256_file(archive)
    client.upload_blob(archive_hash, archive, f"image archive {digest[:19]}…")  # streamed
    return PinnedImage(digest, archive_hash)


def pack_demo_data(folder: Path) -> tuple[bytes, str]:
    """A benchmark's demo data: a folder with ``data/`` and ``labels/`` in the raw format."""
    for sub in ("data", "labels"):
        if not (folder / sub).is_dir():
            raise InvalidInput(f"demo data {folder} needs a '{sub}' folder")
    archive = pack_directory(folder)
    return archive, sha256_bytes(archive)
