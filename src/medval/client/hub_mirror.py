"""A local mirror of Hugging Face Hub repositories, read offline with ``huggingface_hub``.

A hospital reaches no hub: its mirror is huggingface_hub's own cache folder
(``models--ORG--NAME/{blobs,snapshots/<commit>,refs}``), made on a connected machine
(``hf download ORG/NAME --revision REV --cache-dir DIR``) and copied over. It is read
with huggingface_hub itself, ``local_files_only=True`` (and ``HF_HUB_OFFLINE=1``): a
branch or tag is resolved by the mirror's ``refs``, a commit by its snapshot folder, and
no call ever leaves the machine. What a snapshot holds is copied out (every link into
the repository's ``blobs``; nothing else is followed) and hashed as copied, so what is
checked is exactly what is then packed and run.

``huggingface_hub`` is an extra (``pip install 'medval[hub]'``), imported only here and
only when a mirror is read: the CLI starts without it.

Imports: ``core`` only (and huggingface_hub, lazily).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from medval.core.errors import InvalidInput, NotFound
from medval.core.hashing import sha256_file
from medval.core.hub_pins import HubReference

MIRROR_SETTING = "MEDVAL_HUB_MIRROR"
REPO_TYPE = "model"


@dataclass(frozen=True)
class Snapshot:
    """One commit of one repository, found in the mirror."""

    repo: str
    commit: str
    folder: Path  # snapshots/<commit>: links into the repository's blobs
    storage: Path  # models--ORG--NAME


def hub_library() -> ModuleType:
    """huggingface_hub, told to stay offline before it first loads (it reads
    ``HF_HUB_OFFLINE`` once, when imported); one line when it is not installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import huggingface_hub
    except ImportError:
        raise InvalidInput(
            "reading a hub mirror needs huggingface_hub: pip install 'medval[hub]'"
        ) from None
    return huggingface_hub


def require_mirror(mirror: Path | None, what: str) -> Path:
    """The mirror folder; one line when none is given or it is not there."""
    if mirror is None:
        raise InvalidInput(
            f"{what}: no hub mirror is set; give --hub-mirror DIR or set {MIRROR_SETTING} "
            "(a copy of huggingface_hub's cache folder, e.g. made with 'hf download')"
        )
    if not mirror.is_dir():
        raise InvalidInput(f"{what}: the hub mirror {mirror} does not exist (or is no folder)")
    return mirror


def find_snapshot(mirror: Path, reference: HubReference, partial_ok: bool = False) -> Snapshot:
    """The commit ``reference`` names in the mirror, read with huggingface_hub's own
    ``snapshot_download(..., local_files_only=True)``. NotFound, in one line, when the
    repository or that revision is not in the mirror, or only part of it is (files its
    listing names are missing), unless ``partial_ok``: the caller compares the files."""
    hub = hub_library()
    from huggingface_hub.errors import LocalEntryNotFoundError
    from huggingface_hub.file_download import repo_folder_name

    storage = mirror / repo_folder_name(repo_id=reference.repo, repo_type=REPO_TYPE)
    if not storage.is_dir():
        raise NotFound(f"hub repository {reference.repo} is not in the mirror {mirror}")
    what = f"revision {reference.revision} of hub repository {reference.repo}"
    try:
        found = hub.snapshot_download(
            reference.repo,
            repo_type=REPO_TYPE,
            revision=reference.revision,
            cache_dir=mirror,
            local_files_only=True,
        )
    except LocalEntryNotFoundError as error:
        # Its IncompleteSnapshotError (recent versions) says where the partial snapshot is.
        partial = getattr(error, "snapshot_path", None)
        if partial is None:
            raise NotFound(f"{what} is not in the mirror {mirror}") from None
        if not partial_ok:
            raise NotFound(
                f"{what} is only partly in the mirror {mirror} (files its listing names are "
                "missing): download it again"
            ) from None
        found = partial
    folder = Path(str(found))
    return Snapshot(reference.repo, folder.name, folder, storage)


def copy_snapshot(snapshot: Snapshot, destination: Path) -> dict[str, str]:
    """Every file of the snapshot copied into ``destination`` (a new folder), as regular
    files; returns each file's path (``a/b.txt``) and the sha256 of its copy.

    A snapshot's file is a link into the repository's ``blobs`` (or, where links cannot
    be made, the file itself); a link anywhere else, or one that leads nowhere, is
    refused in one line. ``missing`` files are the caller's to find (by comparing).
    """
    blobs = (snapshot.storage / "blobs").resolve()
    hashes: dict[str, str] = {}
    destination.mkdir(parents=True)
    for here, folders, files in os.walk(snapshot.folder):
        folders.sort()
        for name in sorted(files):
            source = Path(here) / name
            relative = source.relative_to(snapshot.folder).as_posix()
            target = source.resolve()
            if source.is_symlink() and not target.is_relative_to(blobs):
                raise InvalidInput(
                    f"{snapshot.repo} at commit {snapshot.commit}: {relative} in the mirror "
                    "links outside the repository's blobs"
                )
            if not target.is_file():
                raise NotFound(
                    f"{snapshot.repo} at commit {snapshot.commit}: {relative} is not in the "
                    "mirror (its blob is missing)"
                )
            copy = destination / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, copy)
            hashes[relative] = sha256_file(copy)
    return hashes
