"""A container image's root filesystem, unpacked from its archive without any engine.

The local runner runs a cube's own image as a read-only root under bubblewrap. The
image comes from the archive ``docker save`` / ``podman save`` wrote (its hash already
checked by the client): its ``manifest.json`` names the configuration, whose sha256 is
the image ID, and the layers, applied in order. Each layer must hash to the ``diff_id``
the configuration names, so the ID pins every byte of the root filesystem.

Layers are applied as engines apply them: ``.wh.NAME`` deletes ``NAME`` of the layers
below, ``.wh..wh..opq`` empties its folder of them. Extraction never leaves its folder:
a member with an absolute path or ``..`` is refused, and so is one whose parent is a
link (a link may point anywhere, it is never followed here). Device nodes and FIFOs are
skipped, set-user-ID and set-group-ID bits dropped, owners ignored (the files belong to
whoever runs the client, as the sandbox's user maps to them).

Each image is unpacked once, under ``<store>/<id hex>/`` (``rootfs/`` and the image's
``config.json``), into a temporary folder renamed into place when complete: an
interrupted extraction is never reused.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from medval.core.errors import HashMismatch, InvalidInput
from medval.runner.image_archive import archive_image_id, read_member
from medval.runner.invocation import IMAGE_ID

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_CONFIG = "config.json"
_ROOTFS = "rootfs"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImageConfig:
    """What an image says about how it runs (the ``config`` of its configuration)."""

    env: tuple[tuple[str, str], ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ImageConfig:
        config = document.get("config") or document.get("Config") or {}
        pairs = (item.partition("=") for item in config.get("Env") or [] if "=" in item)
        return cls(
            env=tuple((name, value) for name, _, value in pairs),
            entrypoint=tuple(config.get("Entrypoint") or ()),
            cmd=tuple(config.get("Cmd") or ()),
            working_dir=config.get("WorkingDir") or "",
        )

    def command(self, entrypoint: str | None, words: list[str]) -> list[str]:
        """The command an engine runs: a replaced entrypoint drops the image's Cmd; words
        given replace the image's Cmd after the image's own Entrypoint."""
        if entrypoint is not None:
            return [entrypoint, *words]
        return [*self.entrypoint, *(words or self.cmd)]


@dataclass(frozen=True)
class UnpackedImage:
    """One image's root filesystem and configuration, ready to run read-only."""

    image_id: str
    rootfs: Path
    config: ImageConfig


@dataclass(frozen=True)
class ImageStore:
    """Unpacked images under ``root``, one folder per image ID."""

    root: Path

    def folder(self, image_id: str) -> Path:
        return self.root / image_id.removeprefix("sha256:")

    def find(self, image_id: str) -> UnpackedImage | None:
        """The unpacked image, or None when it has not been (completely) unpacked here."""
        folder = self.folder(image_id)
        config_file, rootfs = folder / _CONFIG, folder / _ROOTFS
        if not (config_file.is_file() and rootfs.is_dir()):
            return None
        config = ImageConfig.from_document(json.loads(config_file.read_bytes()))
        return UnpackedImage(image_id, rootfs, config)

    def unpack(self, archive: Path, image_id: str, what: str) -> UnpackedImage:
        """Unpack the image ``image_id`` from ``archive`` unless it is here already.

        Refuses an archive holding any other image (HashMismatch) or one that is not a
        well-formed image archive (InvalidInput), each with one line naming ``what``.
        """
        if not IMAGE_ID.match(image_id):
            raise InvalidInput(f"{what}: {image_id!r} is not an image ID (sha256:<64 hex>)")
        found = self.find(image_id)
        if found is not None:
            return found
        inside = archive_image_id(archive)
        if inside != image_id:
            raise HashMismatch(
                f"{what}: its image archive holds image {inside[:19]}…, "
                f"not the registered {image_id[:19]}…; refusing to run it"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=self.root, prefix=".unpacking-"))
        try:
            _unpack_into(archive, work, what)
            work.chmod(0o755)
            try:
                work.rename(self.folder(image_id))
            except OSError:  # Unpacked meanwhile by another client: keep theirs.
                if self.find(image_id) is None:
                    raise
        finally:
            if work.exists():
                _remove(work)
        found = self.find(image_id)
        assert found is not None
        return found


def _unpack_into(archive: Path, work: Path, what: str) -> None:
    rootfs = work / _ROOTFS
    rootfs.mkdir(mode=0o755)
    with tarfile.open(archive, mode="r:*") as tar:
        entry = json.loads(read_member(tar, "manifest.json", what))[0]
        config_bytes = read_member(tar, entry["Config"], what)
        document = json.loads(config_bytes)
        layers = list(entry.get("Layers") or [])
        diff_ids = list((document.get("rootfs") or {}).get("diff_ids") or [])
        if len(layers) != len(diff_ids):
            raise InvalidInput(
                f"{what}: its image archive has {len(layers)} layers, its configuration "
                f"names {len(diff_ids)}"
            )
        modes: dict[Path, int] = {}
        for name, diff_id in zip(layers, diff_ids, strict=True):
            handle = tar.extractfile(name)
            if handle is None:
                raise InvalidInput(f"{what}: layer {name} is missing from its image archive")
            with handle:
                actual = apply_layer(handle, rootfs, modes)
            if actual != diff_id:
                raise HashMismatch(
                    f"{what}: layer {name} of its image hashes to {actual[:19]}…, "
                    f"not the {diff_id[:19]}… its configuration names; refusing to run it"
                )
        # Folder modes last (deepest first): a read-only folder still received its files.
        for folder in sorted(modes, key=lambda path: len(path.parts), reverse=True):
            if folder.is_dir() and not folder.is_symlink():
                folder.chmod(modes[folder])
    (work / _CONFIG).write_bytes(config_bytes)


class _Hashing:
    """A reader that hashes everything read through it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data

    def drain(self) -> str:
        while self.read(_CHUNK):
            pass
        return "sha256:" + self.digest.hexdigest()


def apply_layer(stream: IO[bytes], rootfs: Path, modes: dict[Path, int]) -> str:
    """Apply one layer (a tar, gzip-compressed or not) onto ``rootfs``; return its diff_id.

    Read twice: its whiteouts first (they hide what the layers below hold, never this
    layer's own entries, wherever they sit in the tar), then its entries. ``modes``
    collects the mode of every folder, applied once all layers are in place.
    """
    with tarfile.open(fileobj=_layer_tar(stream), mode="r|") as layer:
        whiteouts = [path for path in _paths(layer) if path.name.startswith(WHITEOUT)]
    for path in whiteouts:
        if path.name == OPAQUE:
            folder = _host_path(rootfs, path.parent)
            if folder.is_dir() and not folder.is_symlink():
                for child in folder.iterdir():
                    _remove(child)
        else:
            _remove(_host_path(rootfs, path.parent / path.name[len(WHITEOUT) :]))
    hashing = _Hashing(_layer_tar(stream))
    with tarfile.open(fileobj=cast(IO[bytes], hashing), mode="r|") as layer:
        for member in layer:
            entry = _member_path(member.name)
            if entry is None or entry.name.startswith(WHITEOUT):
                continue
            data = layer.extractfile(member) if member.isreg() else None
            _write_member(rootfs, entry, member, data, modes)
    return hashing.drain()


def _layer_tar(stream: IO[bytes]) -> IO[bytes]:
    """The layer's tar from its start, decompressed when it is gzip-compressed."""
    stream.seek(0)
    head = stream.read(2)
    stream.seek(0)
    return cast(IO[bytes], gzip.GzipFile(fileobj=stream)) if head == b"\x1f\x8b" else stream


def _paths(layer: tarfile.TarFile) -> list[PurePosixPath]:
    return [path for member in layer if (path := _member_path(member.name)) is not None]


def _member_path(name: str) -> PurePosixPath | None:
    """The member's path inside the root; None for the root itself. Refuses escapes."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise InvalidInput(f"image layer member {name!r} leaves the root filesystem")
    parts = [part for part in path.parts if part != "."]
    return PurePosixPath(*parts) if parts else None


def _host_path(rootfs: Path, path: PurePosixPath) -> Path:
    """Where ``path`` lives under ``rootfs``, refusing to go through any link."""
    current = rootfs
    for part in path.parts[:-1]:
        current = current / part
        if current.is_symlink():
            raise InvalidInput(f"image layer member {str(path)!r} goes through the link {part!r}")
    return current / path.name


def _write_member(
    rootfs: Path,
    path: PurePosixPath,
    member: tarfile.TarInfo,
    data: IO[bytes] | None,
    modes: dict[Path, int],
) -> None:
    target = _host_path(rootfs, path)
    _make_parents(rootfs, path, modes)
    mode = member.mode & 0o1777  # No set-user-ID or set-group-ID bit.
    if member.isdir():
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            _remove(target)
        target.mkdir(mode=0o755, exist_ok=True)
        modes[target] = mode
        return
    if member.ischr() or member.isblk() or member.isfifo():
        return  # A sandbox gets its own minimal /dev.
    if target.is_symlink() or target.exists():
        _remove(target)
    if member.issym():
        os.symlink(member.linkname, target)
    elif member.islnk():
        source = _member_path(member.linkname)
        if source is None:
            raise InvalidInput(f"image layer hard link {member.name!r} points at the root")
        origin = _host_path(rootfs, source)
        if origin.is_symlink() or not origin.is_file():
            raise InvalidInput(
                f"image layer hard link {member.name!r} points at {member.linkname!r}, "
                "which is no file of the image"
            )
        os.link(origin, target, follow_symlinks=False)
    elif member.isreg():
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        descriptor = os.open(target, flags, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            if data is not None:
                shutil.copyfileobj(data, handle, _CHUNK)
        target.chmod(mode)
    # Other kinds (GNU sparse parts and the like) have no place in an image: skipped.


def _make_parents(rootfs: Path, path: PurePosixPath, modes: dict[Path, int]) -> None:
    """Create the member's missing parent folders (writable until the end)."""
    current = rootfs
    for part in path.parts[:-1]:
        current = current / part
        if not current.is_dir():
            if current.exists():
                _remove(current)
            current.mkdir(mode=0o755)
            modes.setdefault(current, 0o755)


def _remove(path: Path) -> None:
    """Remove a file, link or folder tree; read-only folders included."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
        return
    if not path.exists():
        return

    def make_writable(function: Any, failed: str, _: Any) -> None:
        os.chmod(os.path.dirname(failed), stat.S_IRWXU)
        function(failed)

    for folder, subfolders, _ in os.walk(path):
        for name in subfolders:
            child = os.path.join(folder, name)
            if not os.path.islink(child):
                os.chmod(child, stat.S_IRWXU)
    path.chmod(stat.S_IRWXU)
    shutil.rmtree(path, onerror=make_writable)
