"""Content hashes that pin every artifact: files, directory trees and archives.

An archive made by :func:`pack_directory` is deterministic (sorted members, fixed
mtimes, owners and modes), so the same directory always gives the same bytes and the
same hash on every machine.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import stat
import tarfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

from medval.core.cube_files import kind_of, walk
from medval.core.errors import HashMismatch, InvalidInput

_CHUNK = 1 << 20
_READ = 1 << 18  # a file hashed in 256 KiB reads (1 MiB reads cost more system time)
# A batch of files handed to a thread: about this many bytes, a file counting 64 KiB more.
_BATCH_BYTES = 16 << 20
_PER_FILE_BYTES = 1 << 16
# A file smaller than this is hashed by the walk itself, where it stands: handing small
# files to threads cost more in the GIL's hand-overs than it gained (20,000 files of
# 4 KiB: 0.41 s with threads, 0.25 s without; bench/dataset_hashing.py).
_INLINE_BYTES = 1 << 16
# Files hashed side by side: one per core, at most four (a disk gives no more).
HASHING_THREADS = max(1, min(4, os.cpu_count() or 1))


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

    Used for prepared datasets (data and labels together), which a cube wrote. Only files
    and folders are allowed: a link is refused so that the hash covers what a cube will
    actually read, and a FIFO, socket or device is refused without ever being opened.
    Paths come in order of their parts (``a/b`` before ``a-c``), as they always have.
    Files of 64 KiB or more are hashed side by side (``HASHING_THREADS``; hashlib lets go
    of the GIL while it hashes), in batches of about ``_BATCH_BYTES`` handed over as the
    walk finds them; smaller ones by the walk itself (``_INLINE_BYTES``); their lines are
    put together in tree order.
    """
    lines: list[str | int] = []  # a line, or the index of a file in ``paths``
    paths: list[str] = []  # strings, not Paths: 20,000 small files add up
    names: list[str] = []
    hashes: dict[int, str] = {}

    def hash_batch(batch: list[int]) -> None:
        for file in batch:
            hashes[file] = _sha256_regular(paths[file])

    # Batches go to the threads as the walk finds them, so hashing overlaps the walk.
    with ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="tree-hash") as pool:
        submitted = []
        batch: list[int] = []
        size = 0
        for index, root in enumerate(roots):
            if root.is_symlink() or not root.is_dir():
                raise InvalidInput(f"not a directory: {root}")
            lines.append(f"root {index}\n")
            top = os.fspath(root)
            for entry in walk(root):
                path = os.path.join(top, entry.path)
                if stat.S_ISLNK(entry.mode):
                    raise InvalidInput(f"symbolic links are not allowed in hashed data: {path}")
                if stat.S_ISDIR(entry.mode):
                    lines.append(f"dir {entry.path}\n")
                elif stat.S_ISREG(entry.mode):
                    lines.append(len(paths))
                    paths.append(path)
                    names.append(entry.path)
                    if entry.status.st_size < _INLINE_BYTES:
                        hashes[len(paths) - 1] = _sha256_regular(entry.name, entry.folder, path)
                        continue
                    batch.append(len(paths) - 1)
                    size += entry.status.st_size + _PER_FILE_BYTES
                    if size >= _BATCH_BYTES:
                        submitted.append(pool.submit(hash_batch, batch))
                        batch, size = [], 0
                else:
                    raise InvalidInput(
                        f"only files and folders are allowed in hashed data, "
                        f"not {kind_of(entry.mode)}: {path}"
                    )
        submitted.append(pool.submit(hash_batch, batch))
        for done in submitted:
            done.result()  # raises what a batch raised
    digest = hashlib.sha256()
    for line in lines:
        if isinstance(line, int):
            line = f"file {names[line]} {hashes[line]}\n"
        digest.update(line.encode())
    return digest.hexdigest()


class EntryState(NamedTuple):
    """One entry of a tree as ``lstat`` saw it (:func:`tree_state`)."""

    root: int
    path: str
    mode: int
    device: int
    inode: int
    size: int
    modified_ns: int
    changed_ns: int


TreeState = tuple[EntryState, ...]


def tree_state(*roots: Path) -> TreeState:
    """What the file system says of every entry of the trees, without reading a file:
    its path, mode, device and inode, size, and modification and change times (ns). Any
    write, truncation, rename, link, chmod or replacement of an entry changes this; the
    change time (ctime) is set by the kernel and no unprivileged process can set it back.
    Used to hash prepared data once per run (:func:`medval.client.datasets.verify_prepared`).
    """
    found = []
    for index, root in enumerate(roots):
        if root.is_symlink() or not root.is_dir():
            raise InvalidInput(f"not a directory: {root}")
        found.append(_entry_state(index, "", root.lstat()))
        for entry in walk(root):
            found.append(_entry_state(index, entry.path, entry.status))
    return tuple(found)


def _entry_state(root: int, path: str, s: os.stat_result) -> EntryState:
    return EntryState(
        root, path, s.st_mode, s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns
    )


def _sha256_regular(path: Path | str, folder: int | None = None, shown: str = "") -> str:
    """Like :func:`sha256_file`, but never through a link and never waiting on a FIFO;
    ``path`` relative to the ``folder`` descriptor when one is given (``shown`` in errors)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    descriptor = os.open(path, flags, dir_fd=folder)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise InvalidInput(
                f"only files and folders are allowed in hashed data: {shown or path}"
            )
        digest = hashlib.sha256()
        if status.st_size < _READ:
            # A small file: plain reads on the descriptor, no file object (thousands of
            # small files cost their per-file overhead more than their bytes).
            while block := os.read(descriptor, _READ):
                digest.update(block)
            return digest.hexdigest()
        with os.fdopen(descriptor, "rb", buffering=0, closefd=False) as handle:
            buffer = _buffer()  # read into one buffer: no new bytes object per block
            view = memoryview(buffer)
            while read := handle.readinto(buffer):
                digest.update(view[:read])
        return digest.hexdigest()
    finally:
        os.close(descriptor)


_buffers = threading.local()


def _buffer() -> bytearray:
    """This thread's read buffer, made once."""
    found: bytearray | None = getattr(_buffers, "buffer", None)
    if found is None:
        found = _buffers.buffer = bytearray(_READ)
    return found


def pack_directory(root: Path, exclude: frozenset[PurePosixPath] = frozenset()) -> bytes:
    """A deterministic gzip'd tar of ``root``'s contents (paths relative to ``root``),
    but for the files ``exclude`` names (relative to ``root``)."""
    if not root.is_dir():
        raise InvalidInput(f"not a directory: {root}")
    buffer = io.BytesIO()
    with _deterministic_tar(buffer) as tar:
        _add_tree(tar, root, "", skip=("__pycache__",), exclude=exclude)
    return buffer.getvalue()


def pack_trees(members: Sequence[tuple[str, Path]], destination: BinaryIO) -> None:
    """A deterministic gzip'd tar of several files and folders, each under its own name
    (``(name, path)``; an empty name puts a folder's contents at the top), written to
    ``destination`` as it goes (never whole in memory). The same rules as
    :func:`pack_directory`: only files and folders, no links; nothing is skipped."""
    with _deterministic_tar(destination) as tar:
        for name, path in members:
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                raise InvalidInput(f"only files and folders can be packed: {path}")
            if path.is_file():
                _add_member(tar, path, name)
                continue
            if name:
                _add_member(tar, path, name)
            _add_tree(tar, path, name, skip=())


@contextmanager
def _deterministic_tar(destination: BinaryIO) -> Iterator[tarfile.TarFile]:
    # mtime=0 in the gzip header too, or the archive bytes change every second.
    with (
        gzip.GzipFile(fileobj=destination, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        yield tar


def _add_tree(
    tar: tarfile.TarFile,
    root: Path,
    prefix: str,
    skip: Sequence[str],
    exclude: frozenset[PurePosixPath] = frozenset(),
) -> None:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if PurePosixPath(rel) in exclude:
            continue
        if path.is_symlink():
            raise InvalidInput(f"symbolic links are not allowed in a cube or archive: {path}")
        if any(part in path.parts for part in skip):
            continue
        _add_member(tar, path, f"{prefix}/{rel}" if prefix else rel)


def _add_member(tar: tarfile.TarFile, path: Path, name: str) -> None:
    """One file or folder, with fixed times, owners and modes."""
    mode = path.lstat().st_mode
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise InvalidInput(
            f"only files and folders are allowed in a cube or archive, not {kind_of(mode)}: {path}"
        )
    info = tar.gettarinfo(str(path), arcname=name)
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


def unpack_archive(data: bytes, destination: Path) -> None:
    """Extract an archive made by :func:`pack_directory`, refusing unsafe members.

    Every member is checked and written by this code, not by ``TarFile.extractall``: its
    ``filter`` argument (which would drop links, devices, owners and set-user-ID bits)
    only exists from Python 3.11.4, and medval runs on the 3.11.2 of Debian 12. Only
    plain files and folders are allowed, none outside ``destination``; a file is created
    afresh (never through a link, never over another member), owned by whoever unpacks
    it, with mode 644 or, if the archive marks it executable, 755; folders are 755.
    """
    _unpack(data, destination)


def unpack_archive_file(archive: Path, destination: Path) -> None:
    """:func:`unpack_archive` for an archive on disk, read as it goes (a big one never
    whole in memory), with the same checks."""
    _unpack(archive, destination)


def _unpack(source: bytes | Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with (
            tarfile.open(source, mode="r:gz")
            if isinstance(source, Path)
            else tarfile.open(fileobj=io.BytesIO(source), mode="r:gz")
        ) as tar:
            members = tar.getmembers()
            for member in members:
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts:
                    raise InvalidInput(f"archive member escapes its folder: {member.name}")
                if not (member.isfile() or member.isdir()):
                    raise InvalidInput(f"archive member is not a plain file: {member.name}")
                if not name.parts and not member.isdir():
                    raise InvalidInput(f"archive member has no name: {member.name!r}")
            for member in members:
                _extract(tar, member, destination)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"not a valid archive: {exc}") from exc


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, destination: Path) -> None:
    """Write one checked member (a plain file or a folder) under ``destination``."""
    parts = PurePosixPath(member.name).parts
    folder = destination
    for part in parts if member.isdir() else parts[:-1]:
        folder = folder / part
        if not folder.is_dir() or folder.is_symlink():
            folder.mkdir(mode=0o755)  # Fails on anything else in the way.
        folder.chmod(0o755)
    if member.isdir():
        return
    target = folder / parts[-1]
    mode = 0o755 if member.mode & 0o111 else 0o644
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    source = tar.extractfile(member)
    assert source is not None  # A regular member always has content to read.
    with source, os.fdopen(os.open(target, flags, 0o600), "wb") as handle:
        shutil.copyfileobj(source, handle, _CHUNK)
    target.chmod(mode)


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
