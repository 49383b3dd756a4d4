"""Container images that travel as archives, pinned by their ID.

No registry is reachable from a hospital, so a cube's image travels as the archive that
``docker save`` / ``podman save`` writes. An image's ID is the sha256 of its
configuration, which names the sha256 of every layer: the same bytes give the same ID
on every engine. The archive holds that configuration as a file named by its
``manifest.json``, so the ID of the image inside can be read without loading it.

On the author's machine :func:`save_image` writes the archive of exactly the image a
reference names (by its ID, so no tag travels). On the data owner's machine
:func:`load_pinned_image` makes the engine hold the registered ID, loading the archive
(whose hash the caller has verified) only when the engine does not hold it yet, and
refuses an archive that holds any other image.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from medval.core.errors import HashMismatch, InvalidInput, SandboxError
from medval.runner.invocation import IMAGE_ID
from medval.runner.sealed_images import SealedImageUses

if TYPE_CHECKING:  # The local runner reads archives too, and container.py imports it.
    from medval.runner.container import ContainerRunner

_MANIFEST = "manifest.json"
_ENGINE_SECONDS = 1800.0  # Saving or loading a few GB of layers takes a while.


def archive_image_id(archive: Path) -> str:
    """The ID (``sha256:…``) of the one image in a ``docker save`` / ``podman save`` archive."""
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            manifest = read_member(tar, _MANIFEST, str(archive))
            entries = json.loads(manifest)
            if not (isinstance(entries, list) and len(entries) == 1):
                count = len(entries) if isinstance(entries, list) else "no"
                raise InvalidInput(f"{archive} holds {count} images; an image archive holds one")
            config_name = entries[0].get("Config") if isinstance(entries[0], dict) else None
            if not isinstance(config_name, str):
                raise InvalidInput(f"{archive}: its {_MANIFEST} names no image configuration")
            config = read_member(tar, config_name, str(archive))
            return "sha256:" + hashlib.sha256(config).hexdigest()
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise InvalidInput(
            f"{archive} is not an image archive (as written by docker save or podman save): "
            f"{exc.__class__.__name__}"
        ) from exc


def read_member(tar: tarfile.TarFile, name: str, what: str) -> bytes:
    """One file of an image archive; a missing one means it is no image archive."""
    try:
        handle = tar.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise InvalidInput(f"{what}: no {name} inside: not an image archive")
    with handle:
        return handle.read()


def save_image(runner: ContainerRunner, reference: str, destination: Path) -> str:
    """Write the archive of the image ``reference`` names; return the image's ID."""
    image_id = runner.image_id(reference)
    if image_id is None:
        raise InvalidInput(
            f"image {reference!r} is not in {runner.program} on this machine: build or load "
            "it first, or pass --image-archive PATH"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Saved by its ID: exactly this image, and no tag of the author's travels with it.
    answer = runner.engine("save", "--output", str(destination), image_id, timeout=_ENGINE_SECONDS)
    if answer.returncode != 0:
        raise SandboxError(f"{runner.program} save {reference} failed: {_last(answer.stderr)}")
    inside = archive_image_id(destination)
    if inside != image_id:
        raise SandboxError(
            f"{runner.program} saved image {inside[:19]}… for {reference} ({image_id[:19]}…)"
        )
    return image_id


def load_pinned_image(runner: ContainerRunner, archive: Path, digest: str, what: str) -> None:
    """Make the engine hold image ``digest`` from ``archive``, or refuse to run ``what``.

    The caller has checked the archive's hash against the registered one. An engine that
    already holds an image with this ID is not asked to load it again: the ID is the
    digest of the image's content, computed by the engine itself.
    """
    if not IMAGE_ID.match(digest):
        raise InvalidInput(f"{what}: {digest!r} is not an image ID (sha256:<64 hex>)")
    if runner.image_id(digest) == digest:
        return
    inside = archive_image_id(archive)
    if inside != digest:
        raise HashMismatch(
            f"{what}: its image archive holds image {inside[:19]}…, "
            f"not the registered {digest[:19]}…; refusing to run it"
        )
    answer = runner.engine("load", "--input", str(archive), timeout=_ENGINE_SECONDS)
    if answer.returncode != 0:
        reason = _last(answer.stderr)
        raise SandboxError(f"{runner.program} could not load the image of {what}: {reason}")
    if runner.image_id(digest) != digest:
        raise HashMismatch(
            f"{what}: after loading its image archive, {runner.program} holds no image "
            f"{digest[:19]}…; refusing to run it"
        )


# Private models' images loaded for their runs, by engine and ID: for the whole process,
# since a runner is copied (``with_python_packages``) but the engine is one.
_SEALED_USES = SealedImageUses()


@contextmanager
def loaded_for_runs(
    runner: ContainerRunner,
    archive: Path,
    digest: str,
    what: str,
    say: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """A private model's image in the engine while runs hold it, removed from it after
    (its tags too); an image the engine held already is used as it is and kept
    (``Runner.sealed_image``)."""

    def make() -> bool:
        if runner.image_id(digest) == digest:
            return False
        if say is not None:
            say(f"loading the image of {what} (private, removed after its runs)")
        load_pinned_image(runner, archive, digest, what)
        return True

    def remove() -> None:
        answer = runner.engine("rmi", "--force", digest, timeout=120)
        if answer.returncode != 0 and say is not None:
            say(f"{runner.program} could not remove the image of {what}: {_last(answer.stderr)}")

    with _SEALED_USES.held(f"{runner.program} {digest}", make, remove):
        yield


def _last(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def archive_tags(archive: Path) -> list[str]:
    """The tags (``RepoTags``) the archive's manifest gives its image; none: []."""
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            entries = json.loads(read_member(tar, _MANIFEST, str(archive)))
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise InvalidInput(f"{archive} is not an image archive: {exc.__class__.__name__}") from exc
    tags = entries[0].get("RepoTags") if isinstance(entries, list) and entries else None
    return [tag for tag in tags or [] if isinstance(tag, str)]


def normal_reference(reference: str) -> str:
    """A tag as engines mean it: ``docker.io/library/x:latest``, ``localhost/x:latest``
    (Podman's local images) and ``x`` are all ``x:latest``."""
    name, tag = reference, "latest"
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = reference.rsplit(":", 1)
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/", "localhost/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    name = name.removeprefix("library/")
    return f"{name}:{tag}"


def check_archive_holds(archive: Path, image_id: str, reference: str) -> None:
    """Refuse, in one line, an archive that does not hold the image ``reference`` names:
    a digest must be the image's ID, a tag one of the archive's ``RepoTags``."""
    digest = reference.rsplit("@", 1)[-1] if "@" in reference else reference
    if digest.startswith("sha256:"):
        if digest != image_id:
            raise InvalidInput(
                f"image archive {archive} holds image {image_id[:19]}…, not the spec's {reference}"
            )
        return
    tags = archive_tags(archive)
    wanted = normal_reference(reference)
    if wanted not in {normal_reference(tag) for tag in tags}:
        held = ", ".join(tags) if tags else f"an untagged image {image_id[:19]}…"
        raise InvalidInput(f"image archive {archive} holds {held}, not the spec's {reference}")
