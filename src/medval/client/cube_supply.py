"""Where a cube run here comes from: its archive fetched from the server once and checked
against its registered hash *every time* before it is unpacked (a private model's
unsealed in memory, into a private scratch folder), its image loaded or unpacked once by
its registered ID, and a benchmark's demo data. The :class:`~medval.client.execution.Executor`
is a :class:`CubeSupply`; kept apart so that how cubes are obtained reads on its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from medval.client.cube_names import named_as
from medval.client.http import MedvalClient
from medval.client.model_keys import ModelKeySource
from medval.client.run_locks import RunLocks
from medval.client.workspace import Workspace
from medval.core.cube_spec import CubeSpec, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.hashing import unpack_archive, verify_sha256, verify_sha256_file
from medval.core.schemas import CubePublic
from medval.trust.model_sealing import unseal_archive

if TYPE_CHECKING:  # only named here: a command that runs no cube starts without the runners
    from medval.client.execution import Progress
    from medval.runner.interface import Runner


def unpack_additional_files_here(folder: Path, spec: CubeSpec) -> None:
    """A private model's additional-files archive unpacked in place, in its private
    scratch folder: the runner would unpack an archive into the system's temporary folder
    (on disk), and finds a folder used as it is."""
    if spec.additional_files is None:
        return
    archive = folder / spec.additional_files
    if not archive.is_file():
        return
    data = archive.read_bytes()
    archive.unlink()
    try:
        unpack_archive(data, archive)  # a folder where the archive was: same name, same spec
    except InvalidInput as exc:
        raise InvalidInput(f"cube {spec.name!r}: {spec.additional_files}: {exc}") from exc


class CubeSupply:
    """Cubes, their images and demo data, fetched, checked and unpacked for this workspace."""

    client: MedvalClient
    workspace: Workspace
    runner: Runner
    progress: Progress
    locks: RunLocks
    model_keys: ModelKeySource
    hub_mirror: Path | None

    def cached_blob(self, sha256: str, path: Path, what: str) -> Path:
        """A registered blob at ``path``, downloaded and verified when it is not there yet
        (``medval.client.transfers``: bounded memory, resumed after a broken connection).

        Callers re-check the cached copy against ``sha256`` before each use.
        """
        with self.locks.held(("blob", sha256)):  # one download, whoever else needs it
            if not path.is_file():
                self.progress.step(f"downloading {what} ({sha256[:12]})")
                # Streamed to disk, continued if cut short, verified before it appears at path.
                self.client.download_blob_to(sha256, path, what)
        return path

    def fetch(self, cube: CubePublic, mirrored: bool = True) -> Path:
        """The cube's archive in the local cache, downloaded and verified if missing; a
        cube pinned to a hub commit, made from this site's mirror, every file checked
        (``mirrored``, as before it runs: ``client.hub_models``); a private model's,
        sealed (the cache never holds it in clear)."""
        if cube.sealed is not None:
            sealed = cube.sealed.sealed_hash
            path = self.workspace.sealed_archive(sealed)
            return self.cached_blob(sealed, path, f"sealed model {cube.name}")
        path = self.workspace.cube_archive(cube.archive_hash)
        if cube.hub is not None and mirrored:
            from medval.client.hub_models import mirrored_cube_archive

            with self.locks.held(("blob", cube.archive_hash)):
                return mirrored_cube_archive(self.hub_mirror, cube, path)
        return self.cached_blob(cube.archive_hash, path, f"cube {cube.name}")

    @contextmanager
    def unpacked(
        self, cube: CubePublic, mirrored: bool = True, key: bytes | None = None
    ) -> Iterator[tuple[Path, CubeSpec]]:
        """A fresh copy of the cube, unpacked only after its hash is checked again.

        The spec carries the cube's registered name, and any error inside names the cube
        by it, never by the scratch folder it was unpacked in. A private model is
        unsealed in memory first (:meth:`unsealed`) and unpacked, additional files too,
        into a private scratch folder (memory-backed where the machine has one), removed
        afterwards whatever happens (``key``: its key, if asked for already).
        """
        archive = self.fetch(cube, mirrored)
        data = archive.read_bytes()
        if cube.sealed is None:
            verify_sha256(data, cube.archive_hash, f"cube {cube.name} (cached at {archive})")
            folder = self.workspace.scratch(f"cube-{cube.id}-")
        else:
            data = self.unsealed(cube, data, archive, key)
            folder = self.workspace.private_scratch(f"model-{cube.id}-")
        try:
            with named_as(cube, folder):
                unpack_archive(data, folder)
                del data  # a private model's clear archive: no longer held than needed
                spec = replace(load_cube_spec(folder, cube.kind), name=cube.name)
                if spec.kind != cube.kind:
                    raise InvalidInput(
                        f"cube {cube.name} is registered as {cube.kind.value} "
                        f"but its spec says {spec.kind.value}"
                    )
                if cube.sealed is not None:
                    unpack_additional_files_here(folder, spec)
                yield folder, spec
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def unsealed(
        self, cube: CubePublic, sealed: bytes, cached: Path, key: bytes | None = None
    ) -> bytes:
        """A private model's archive in clear, in memory only: the cached ciphertext's hash
        checked, the key asked for (``model_keys``, unless given), the archive opened with
        it, and its hash in clear checked against the registered one, in that order; the
        first check that fails is one line, and nothing runs."""
        assert cube.sealed is not None
        verify_sha256(
            sealed, cube.sealed.sealed_hash, f"sealed model {cube.name} (cached at {cached})"
        )
        key = key or self.model_keys.key_for(cube)
        clear = unseal_archive(sealed, key, cube.archive_hash, f"model {cube.name}")
        verify_sha256(clear, cube.archive_hash, f"model {cube.name}, unsealed")
        return clear

    def pinned_image(self, cube: CubePublic) -> str | None:
        """The ID of the cube's image, verified and in the engine (or unpacked for the
        local runner); None without an image.

        An image the runner holds by that ID already (``Runner.holds_image``: the model
        owner's engine, say, where it was built) runs as it is: its archive, gigabytes for
        some models, is not fetched. Otherwise the archive's hash is checked every time;
        the engine's copy is checked by its ID, an unpacked one was checked against it
        (configuration and layers) when unpacked.
        """
        if cube.image_digest is None or cube.image_archive_hash is None:
            return None
        if self.runner.holds_image(cube.image_digest):
            self.progress.step(
                f"the image of cube {cube.name} is here already ({cube.image_digest[:19]}…): "
                "its archive is not downloaded"
            )
            return cube.image_digest
        expected = cube.image_archive_hash
        what = f"image archive of cube {cube.name}"
        path = self.cached_blob(expected, self.workspace.image_archive(expected), what)
        verify_sha256_file(path, expected, what)
        with self.locks.held(("image", cube.image_digest)):  # loaded or unpacked once
            self.runner.prepare_image(
                path, cube.image_digest, f"cube {cube.name}", self.progress.step
            )
        return cube.image_digest

    def run_key(self, cube: CubePublic) -> bytes | None:
        """A private model's key, asked for once for its image and its archive, once its
        ciphertext is cached; None for a cube in clear."""
        if cube.sealed is None:
            return None
        self.fetch(cube)
        return self.model_keys.key_for(cube)

    @contextmanager
    def image_ready(self, cube: CubePublic, key: bytes | None = None) -> Iterator[str | None]:
        """The ID of the cube's image, runnable inside the block (:meth:`pinned_image`);
        a private model's sealed image is unsealed for the block only (:meth:`unsealed_image`)."""
        if cube.sealed is None or cube.sealed.image_sealed_hash is None:
            yield self.pinned_image(cube)
            return
        with self.unsealed_image(cube, key or self.model_keys.key_for(cube)) as image_id:
            yield image_id

    @contextmanager
    def unsealed_image(self, cube: CubePublic, key: bytes) -> Iterator[str]:
        """A private model's image: its cached ciphertext's hash checked, opened with the
        model's key in memory, its hash in clear checked against the registered one,
        written to a private scratch folder (memory-backed where the machine has one) and
        handed to the runner, which loads or unpacks it for the block and removes it
        after (``Runner.sealed_image``); the clear archive is removed at once."""
        assert cube.sealed is not None and cube.sealed.image_sealed_hash is not None
        assert cube.image_digest is not None and cube.image_archive_hash is not None
        sealed_hash, clear_hash = cube.sealed.image_sealed_hash, cube.image_archive_hash
        what = f"sealed image of model {cube.name}"
        cached = self.cached_blob(sealed_hash, self.workspace.sealed_image(sealed_hash), what)
        data = cached.read_bytes()
        verify_sha256(data, sealed_hash, f"{what} (cached at {cached})")
        clear = unseal_archive(data, key, clear_hash, f"the image of model {cube.name}")
        del data
        verify_sha256(clear, clear_hash, f"the image of model {cube.name}, unsealed")
        folder = self.workspace.private_scratch(f"image-{cube.id}-")

        def private_folder() -> Path:  # the runner's, removed by it after the last run
            return self.workspace.private_scratch(f"image-{cube.id}-rootfs-")

        try:
            archive = folder / "image.tar"
            archive.write_bytes(clear)
            del clear
            with self.runner.sealed_image(
                archive, cube.image_digest, f"model {cube.name}", private_folder, self.progress.step
            ):
                archive.unlink()
                yield cube.image_digest
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def unpacked_demo_data(self, archive: bytes) -> Iterator[Path]:
        """Demo data as it will be pinned (packed), unpacked in a scratch folder: the
        benchmark owner's compatibility test runs on exactly what others will get."""
        folder = self.workspace.scratch("demo-data-")
        try:
            unpack_archive(archive, folder)
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def demo_data(self, demo_data_hash: str) -> Path:
        """A benchmark's demo data, downloaded, verified and unpacked in the workspace."""
        folder = self.workspace.demo_data_dir(demo_data_hash)
        archive = folder.with_suffix(".tar.gz")
        self.cached_blob(demo_data_hash, archive, "benchmark demo data")
        verify_sha256_file(archive, demo_data_hash, "benchmark demo data")
        if folder.exists():
            shutil.rmtree(folder)
        unpack_archive(archive.read_bytes(), folder)
        return folder
