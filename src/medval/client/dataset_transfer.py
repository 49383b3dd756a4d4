"""Moving a prepared dataset and its local results to another machine of the same data
owner: ``medval dataset export`` and ``medval dataset import``.

An export is one gzip'd tar, written to a path the data owner names::

    medval-export.json            the manifest: the local dataset record and its local
                                  results (uploaded or not, with their upload state)
    dataset/data/…, dataset/labels/…   the prepared data, exactly what its hash covers
    dataset/statistics/…          what the preparation cube's statistics task wrote
    results/<key>/…               each result's local files (predictions, outputs)

The raw data is never in it (the record keeps only where it was on the first machine).
Everything in it stays at the hospital: it holds labels and per-case predictions, so it
goes where the prepared data may go, and nowhere else.

An import unpacks into a scratch folder (refusing links and paths that leave it),
re-hashes the prepared data against the recorded hash (and, for a registered dataset,
against the hash registered on the server, as the same account), and only then moves
the dataset and its results into the workspace, each folder in one rename, so a
refused or interrupted import leaves nothing half-imported. An existing local dataset
or result is overwritten only when asked, and a result uploaded here is never replaced
by a copy that says it was not.

Imports: the workspace, the HTTP client, the core (hashing, errors, schemas).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from medval.client.http import MedvalClient
from medval.client.workspace import LocalDataset, LocalResult, Workspace, write_json_atomically
from medval.core.errors import (
    Conflict,
    HashMismatch,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from medval.core.hashing import pack_trees, tree_hash, unpack_archive_file
from medval.core.nesting import load_json

MANIFEST = "medval-export.json"
_MANIFEST_MAX_BYTES = 64 * 1024 * 1024
_PREPARED = ("data", "labels", "statistics")


class ExportManifest(BaseModel):
    """What an export says it holds; the files are checked against it on import."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[1] = 1
    dataset: LocalDataset
    results: list[LocalResult]


@dataclass(frozen=True)
class Exported:
    path: Path
    dataset: LocalDataset
    results: list[LocalResult]
    size: int


def results_of(workspace: Workspace, dataset: LocalDataset) -> list[LocalResult]:
    """The local results computed on ``dataset`` (only a registered one has any)."""
    if dataset.server_id is None:
        return []
    return [r for r in workspace.results() if r.dataset_id == dataset.server_id]


def _require_hash(data: Path, labels: Path, expected: str, what: str, after: str) -> None:
    for folder in (data, labels):
        if folder.is_symlink() or not folder.is_dir():
            raise InvalidInput(f"{what} has no prepared {folder.name} folder{after}")
    actual = tree_hash(data, labels)
    if actual != expected:
        raise HashMismatch(
            f"{what} does not match its recorded hash "
            f"({actual[:12]}… instead of {expected[:12]}…){after}"
        )


def export_dataset(workspace: Workspace, name: str, destination: Path) -> Exported:
    """Write the dataset ``name``, its prepared data and its local results to one new
    archive at ``destination`` (never over an existing file)."""
    dataset = workspace.dataset(name)
    destination = destination.expanduser()
    if destination.exists() or destination.is_symlink():
        raise Conflict(f"{destination} already exists; name a new file for the export")
    if not destination.parent.is_dir():
        raise InvalidInput(f"folder {destination.parent} does not exist")
    folder = workspace.dataset_dir(name)
    _require_hash(
        folder / "data",
        folder / "labels",
        dataset.data_hash,
        f"the prepared data of {name}",
        "; prepare it again before exporting",
    )
    results = results_of(workspace, dataset)
    manifest = ExportManifest(dataset=dataset, results=results)
    members: list[tuple[str, Path]] = []
    for part in _PREPARED:
        if (folder / part).is_dir():
            members.append((f"dataset/{part}", folder / part))
    for result in results:
        for item in sorted(workspace.result_dir(result.key).iterdir()):
            if item.name != "result.json":  # the manifest holds the record
                members.append((f"results/{result.key}/{item.name}", item))
    staging = workspace.scratch("export-")
    fd, partial = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    try:
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2))
        with os.fdopen(fd, "wb") as handle:
            pack_trees([(MANIFEST, staging / MANIFEST), *members], handle)
        os.replace(partial, destination)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Exported(destination, dataset, results, destination.stat().st_size)


@dataclass
class StagedImport:
    """An export unpacked in scratch and checked; nothing is in the workspace yet."""

    archive: Path
    folder: Path
    manifest: ExportManifest

    @property
    def dataset(self) -> LocalDataset:
        return self.manifest.dataset


@contextmanager
def staged_import(workspace: Workspace, archive: Path) -> Iterator[StagedImport]:
    """Unpack and check an export; the scratch folder is removed whatever happens."""
    if archive.is_symlink() or not archive.is_file():
        raise InvalidInput(f"{archive} is not a file")
    folder = workspace.scratch("import-")
    try:
        try:
            unpack_archive_file(archive, folder)
        except InvalidInput as exc:
            raise InvalidInput(f"{archive} is not a medval dataset export: {exc}") from None
        staged = StagedImport(archive, folder, _read_manifest(archive, folder))
        _check_contents(staged)
        yield staged
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read_manifest(archive: Path, folder: Path) -> ExportManifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise InvalidInput(f"{archive} is not a medval dataset export: it has no {MANIFEST}")
    if path.stat().st_size > _MANIFEST_MAX_BYTES:
        raise InvalidInput(f"{archive}: {MANIFEST} is too large")
    try:
        return ExportManifest.model_validate(load_json(path.read_text()))
    except (ValueError, ValidationError) as exc:
        raise InvalidInput(
            f"{archive} is not a medval dataset export: {MANIFEST} is damaged "
            f"({exc.__class__.__name__})"
        ) from None


def _check_contents(staged: StagedImport) -> None:
    """Only what the manifest names, its results on this dataset, its data as hashed."""
    dataset, folder = staged.dataset, staged.folder
    allowed = {MANIFEST, "dataset", "results"}
    allowed |= {f"dataset/{part}" for part in _PREPARED}
    allowed |= {f"results/{result.key}" for result in staged.manifest.results}
    present = {item.name for item in folder.iterdir()}
    for top in ("dataset", "results"):
        present |= {f"{top}/{item.name}" for item in _children(folder / top)}
    unexpected = sorted(present - allowed)
    if unexpected:
        raise InvalidInput(f"{staged.archive} holds what its manifest does not: {unexpected[0]}")
    for result in staged.manifest.results:
        if (
            dataset.server_id is None
            or result.dataset_id != dataset.server_id
            or result.provenance.dataset_hash != dataset.data_hash
        ):
            raise InvalidInput(
                f"{staged.archive}: result {result.key} was not computed on dataset {dataset.name}"
            )
    _require_hash(
        folder / "dataset" / "data",
        folder / "dataset" / "labels",
        dataset.data_hash,
        f"the prepared data in {staged.archive}",
        "; nothing was imported",
    )


def _children(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


def check_registered(client: MedvalClient, staged: StagedImport) -> None:
    """A registered dataset: the server's record must be this account's, with this hash."""
    dataset = staged.dataset
    if dataset.server_id is None:
        return
    me = client.me()
    try:
        registered = client.dataset(dataset.server_id)
    except NotFound:  # hidden from this account (or gone): not its dataset either way
        raise PermissionDenied(
            f"dataset {dataset.name} ({dataset.server_id}) is not registered to "
            f"{me.username} on this server; log in as its owner to import it"
        ) from None
    if registered.owner_id != me.id:
        raise PermissionDenied(
            f"dataset {dataset.name} is registered as {dataset.server_id} by "
            f"{registered.owner}; log in as its owner to import it (not {me.username})"
        )
    if registered.data_hash != dataset.data_hash:
        raise HashMismatch(
            f"the prepared data in {staged.archive} does not match the hash registered for "
            f"dataset {dataset.server_id} ({dataset.data_hash[:12]}… instead of "
            f"{registered.data_hash[:12]}…); nothing was imported"
        )


@dataclass(frozen=True)
class Imported:
    dataset: LocalDataset
    results: list[LocalResult]  # installed from the archive
    kept: list[LocalResult]  # uploaded here already, kept instead of the archive's copy


def install(workspace: Workspace, staged: StagedImport, replace: bool) -> Imported:
    """Move a checked import into the workspace: all of it, or (on any error) none."""
    dataset = staged.dataset
    target = workspace.dataset_dir(dataset.name)
    same_id = (
        workspace.dataset_by_server_id(dataset.server_id) if dataset.server_id is not None else None
    )
    if same_id is not None and same_id.name != dataset.name:
        raise Conflict(
            f"dataset {dataset.server_id} is already here as {same_id.name!r}; nothing was imported"
        )
    existing = [r for r in staged.manifest.results if workspace.result(r.key) is not None]
    if not replace and (target.exists() or existing):
        what = f"a dataset named {dataset.name!r}" if target.exists() else "its local results"
        raise Conflict(
            f"{what} is already here ({workspace.home}); pass --replace to overwrite it; "
            "nothing was imported"
        )
    installed, kept = [], []
    moves: list[tuple[Path, Path]] = []
    for result in staged.manifest.results:
        local = workspace.result(result.key)
        if local is not None and local.uploaded_at is not None and result.uploaded_at is None:
            kept.append(local)  # never make an uploaded result look unsent
            continue
        folder = staged.folder / "results" / result.key
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomically(folder / "result.json", result.model_dump_json(indent=2))
        moves.append((folder, workspace.result_dir(result.key)))
        installed.append(result)
    prepared = staged.folder / "dataset"
    write_json_atomically(prepared / "dataset.json", dataset.model_dump_json(indent=2))
    moves.append((prepared, target))  # last: the dataset appears when all else is there
    _move_all(workspace, moves)
    for result in installed:  # as they came out of the archive: made owner-only here
        workspace.make_result_private(result.key)
    return Imported(dataset, installed, kept)


def _move_all(workspace: Workspace, moves: list[tuple[Path, Path]]) -> None:
    """Rename each staged folder into place, the replaced ones set aside until all are
    done; on any error every move is undone."""
    aside = workspace.scratch("replaced-")
    done: list[tuple[Path, Path, Path | None]] = []
    try:
        for number, (source, target) in enumerate(moves):
            old = None
            if target.exists() or target.is_symlink():
                old = aside / str(number)
                os.replace(target, old)
            # Recorded before the move in, so that an error between the two is undone too.
            done.append((source, target, old))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    except BaseException:
        for source, target, old in reversed(done):
            if target.exists() and not source.exists():
                os.replace(target, source)
            if old is not None:
                os.replace(old, target)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)
