"""Registering what a benchmark owner or a model owner ships: cubes and demo data.

Both travel as deterministic archives, uploaded once as content-addressed blobs and
pinned by their hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medval.client.http import MedvalClient
from medval.core.cube_spec import CubeSpec, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.hashing import pack_directory, sha256_bytes
from medval.core.schemas import CubeCreate, CubePublic
from medval.core.states import CubeKind, Stage


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


def register_cube(
    client: MedvalClient,
    folder: Path,
    *,
    name: str | None = None,
    expected_kind: CubeKind | None = None,
    stage: Stage = Stage.OPERATION,
) -> CubePublic:
    packed = pack_cube(folder)
    if expected_kind is not None and packed.spec.kind != expected_kind:
        raise InvalidInput(
            f"{folder} is a {packed.spec.kind.value} cube, not a {expected_kind.value} cube"
        )
    client.upload_blob(packed.sha256, packed.archive)
    body = CubeCreate(
        name=name or packed.spec.name,
        kind=packed.spec.kind,
        archive_hash=packed.sha256,
        stage=stage,
    )
    return client.register_cube(body)


def pack_demo_data(folder: Path) -> tuple[bytes, str]:
    """A benchmark's demo data: a folder with ``data/`` and ``labels/`` in the raw format."""
    for sub in ("data", "labels"):
        if not (folder / sub).is_dir():
            raise InvalidInput(f"demo data {folder} needs a '{sub}' folder")
    archive = pack_directory(folder)
    return archive, sha256_bytes(archive)
