"""Model cubes from a hub repository, pinned: registered from the model owner's mirror,
checked against the site's own mirror before they run.

Registering (``medval model register --hub REPO@REVISION``): the revision is resolved to
its commit in the mirror; the snapshot's files are copied out, each hashed, packed and
registered like any cube folder (so the archive's hash pins them all, and the server
holds the archive), with a :class:`~medval.core.hub_pins.HubPin`: the repository, the
revision, the commit and every file's sha256.

At the site (:func:`mirrored_cube_archive`, called by the executor before the cube
runs): the commit is found in the site's own mirror, every file is hashed again and
compared with the pin; a missing revision or file is NotFound, a file that differs (or
one the pin does not name) is HashMismatch, each one line. Nothing in the mirror or the
workspace is changed or removed by a check that fails.

Imports: the client's registration and names, the core; huggingface_hub only through
:mod:`medval.client.hub_mirror`.
"""

from __future__ import annotations

import os
from pathlib import Path

from medval.client.cube_names import describe, folder_named
from medval.client.http import MedvalClient
from medval.client.hub_mirror import copy_snapshot, find_snapshot, require_mirror
from medval.client.registration import Say, pack_cube, register_cube
from medval.core.errors import HashMismatch, InvalidInput, NotFound
from medval.core.formats import spec_files_in
from medval.core.hashing import verify_sha256
from medval.core.hub_pins import HubPin, HubReference
from medval.core.schemas import CubePublic
from medval.core.scratch import scratch_folder
from medval.core.states import CubeKind, Stage


def register_hub_model(
    client: MedvalClient,
    reference: HubReference,
    mirror: Path | None,
    *,
    name: str | None = None,
    stage: Stage = Stage.OPERATION,
    runner_kind: str = "local",
    say: Say | None = None,
) -> CubePublic:
    """Register the model cube that ``reference`` names in ``mirror``, pinned to the
    commit it resolves to and to every file's hash."""
    asked = f"--hub {reference.repo}@{reference.revision}"
    snapshot = find_snapshot(require_mirror(mirror, asked), reference)
    label = f"hub repository {reference.repo} at commit {snapshot.commit}"
    with scratch_folder("medval-hub-") as scratch:
        folder = scratch / "cube"
        files = copy_snapshot(snapshot, folder)
        if not spec_files_in(folder):
            raise InvalidInput(
                f"{label} holds no cube: none of medval-cube.yaml, mlcube.yaml, "
                "container_config.yaml at its top"
            )
        pin = HubPin(
            repo=reference.repo, revision=reference.revision, commit=snapshot.commit, files=files
        )
        with folder_named(label, folder):
            return register_cube(
                client,
                folder,
                name=name,
                expected_kind=CubeKind.MODEL,
                stage=stage,
                runner_kind=runner_kind,
                say=say,
                hub=pin,
            )


def mirrored_cube_archive(mirror: Path | None, cube: CubePublic, path: Path) -> Path:
    """The cube's archive written at ``path``, made from the site's mirror after every
    file of the pinned commit is checked against its registered hash, and the archive
    against the registered archive hash (the caller checks it once more before use)."""
    pin = cube.hub
    if pin is None:
        raise InvalidInput(f"{describe(cube)} was not registered from a hub repository")
    what = f"{describe(cube)} ({pin.label})"
    pinned = HubReference(repo=pin.repo, revision=pin.commit)
    # A partial snapshot goes on to the comparison, which names the file that is missing.
    snapshot = find_snapshot(require_mirror(mirror, what), pinned, partial_ok=True)
    with scratch_folder("medval-hub-") as scratch:
        folder = scratch / "cube"
        with folder_named(what, folder):
            copied = copy_snapshot(snapshot, folder)
            check_against_pin(copied, pin, what, snapshot.folder)
            archive = pack_cube(folder, CubeKind.MODEL).archive
    verify_sha256(archive, cube.archive_hash, f"{what}, packed from the mirror")
    # Written beside, then moved into place: a reader never sees half an archive.
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(archive)
    partial.replace(path)
    return path


def check_against_pin(copied: dict[str, str], pin: HubPin, what: str, where: Path) -> None:
    """Each pinned file there with its registered hash, and no other file; one line for
    the first that is not (in order of path)."""
    for file, expected in sorted(pin.files.items()):
        found = copied.get(file)
        if found is None:
            raise NotFound(f"{what}: {file} is missing from the mirror ({where})")
        if found != expected:
            raise HashMismatch(
                f"{what}: {file} in the mirror ({where}) does not match its registered hash "
                f"(sha256 {found[:12]}…, registered {expected[:12]}…); it was changed"
            )
    extra = sorted(set(copied) - set(pin.files))
    if extra:
        raise HashMismatch(f"{what}: {extra[0]} in the mirror ({where}) was never registered")
