"""Content hashes that pin every artifact: files, directory trees and archives.

An archive made by :func:`pack_directory` is deterministic (sorted members, fixed
mtimes, owners and modes), so the same directory always gives the same bytes and the
same hash on every machine.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path, PurePosixPath

from medval.core.errors import HashMismatch, InvalidInput

_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_hash(*roots: Path) -> str:
    """Hash of one or more directory trees: every relative path and every file's content.

    Used for prepared datasets (data and labels together). Symlinks are refused so that
    the hash covers what a cube will actually read.
    """
    digest = hashlib.sha256()
    for index, root in enumerate(roots):
        if not root.is_dir():
            raise InvalidInput(f"not a directory: {root}")
        digest.update(f"root {index}\n".encode())
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise InvalidInput(f"symbolic links are not allowed in hashed data: {path}")
            if path.is_dir():
                digest.update(f"dir {rel}\n".encode())
            else:
                digest.update(f"file {rel} {sha256_file(path)}\n".encode())
    return digest.hexdigest()


def pack_directory(root: Path) -> bytes:
    """A deterministic gzip'd tar of ``root``'s contents (paths relative to ``root``)."""
    if not root.is_dir():
        raise InvalidInput(f"not a directory: {root}")
    buffer = io.BytesIO()
    # mtime=0 in the gzip header too, or the archive bytes change every second.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise InvalidInput(f"symbolic links are not allowed in a cube or archive: {path}")
            if "__pycache__" in path.parts:
                continue
            info = tar.gettarinfo(str(path), arcname=rel)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path.is_dir():
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
    return buffer.getvalue()


def unpack_archive(data: bytes, destination: Path) -> None:
    """Extract an archive made by :func:`pack_directory`, refusing unsafe members."""
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts:
                    raise InvalidInput(f"archive member escapes its folder: {member.name}")
                if not (member.isfile() or member.isdir()):
                    raise InvalidInput(f"archive member is not a plain file: {member.name}")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(destination, filter="data")
            else:
                # Python before 3.11.4 (Debian 12's own 3.11.2) has no filters: the checks
                # above, and the modes cleared as the "data" filter clears them.
                for member in tar.getmembers():
                    member.mode &= 0o755
                tar.extractall(destination)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidInput(f"not a valid archive: {exc}") from exc


def verify_sha256_file(path: Path, expected: str, what: str) -> None:
    """Refuse a cached file whose hash is not the one registered."""
    actual = sha256_file(path)
    if actual != expected:
        raise HashMismatch(
            f"{what} (cached at {path}): content hash {actual[:12]}… "
            f"does not match the registered {expected[:12]}…"
        )


def verify_sha256(data: bytes, expected: str, what: str) -> None:
    """Refuse bytes whose hash is not the one registered."""
    actual = sha256_bytes(data)
    if actual != expected:
        raise HashMismatch(
            f"{what}: content hash {actual[:12]}… does not match the registered {expected[:12]}…"
        )
