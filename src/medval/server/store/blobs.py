"""Blobs on disk, addressed by the sha256 of their content: ``<blob_dir>/<sha256>``.

A blob arrives in chunks into ``<blob_dir>/.partial/<sha256>`` while its hash is
computed, and is moved into place only when the whole content hashes to its name, so a
reader never sees a partial or wrong blob. Memory stays bounded: chunks go straight to
disk, and nothing holds a whole blob.

An upload cut short (the connection broke) keeps what arrived: ``upload_state`` says how
many bytes the server holds, and an upload that starts at that offset continues it (the
part already on disk is hashed again from disk first). The limits: one upload at a time
per blob (another gets ``Conflict``), the whole blob within ``max_bytes``, and a partial
upload untouched for ``partial_hours`` is deleted (when any upload starts).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from medval.core.errors import Conflict, HashMismatch, NotFound, TooLarge

_CHUNK = 1 << 20


class BlobStore:
    def __init__(self, root: Path, max_bytes: int, partial_hours: float = 24.0) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.partial_hours = partial_hours

    @property
    def partial_dir(self) -> Path:
        return self.root / ".partial"

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open_path(self, sha256: str) -> Path:
        """The file of an existing blob, or NotFound."""
        path = self.path(sha256)
        if not path.is_file():
            raise NotFound(f"blob {sha256[:12]}… does not exist")
        return path

    def upload_state(self, sha256: str) -> tuple[int, bool]:
        """How many bytes of the blob the server holds, and whether it is complete."""
        if self.exists(sha256):
            return self.path(sha256).stat().st_size, True
        return self.partial_size(sha256), False

    def partial_size(self, sha256: str) -> int:
        """How many bytes of an upload cut short are held (0: none)."""
        try:
            return (self.partial_dir / sha256).stat().st_size
        except FileNotFoundError:
            return 0

    def writer(self, sha256: str, offset: int = 0) -> BlobWriter:
        """Receive the blob from byte ``offset``: 0 starts afresh, anything else must be
        exactly the size of the partial upload held (see ``upload_state``)."""
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        self._forget_stale_partials()
        return BlobWriter(self, sha256, offset)

    def _forget_stale_partials(self) -> None:
        deadline = time.time() - self.partial_hours * 3600
        for partial in self.partial_dir.iterdir():
            with contextlib.suppress(OSError):
                if partial.stat().st_mtime < deadline:
                    partial.unlink()


class BlobWriter:
    """Receives a blob in chunks; ``commit`` checks the hash and publishes it.

    Leaving the ``with`` block without a commit deletes what arrived, unless ``keep``
    was called (a broken connection: the upload may continue later).
    """

    def __init__(self, blobs: BlobStore, sha256: str, offset: int) -> None:
        self.blobs = blobs
        self.sha256 = sha256
        self._partial = blobs.partial_dir / sha256
        self._digest = hashlib.sha256()
        self._keep = False
        self._committed = False
        self._file: BinaryIO = self._partial.open("ab")
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._file.close()
            self._keep = True  # someone else's upload: not ours to delete
            raise Conflict(f"an upload of blob {sha256[:12]}… is already in progress") from exc
        held = os.fstat(self._file.fileno()).st_size
        if offset not in (0, held):
            self._keep = True
            self._file.close()
            raise Conflict(
                f"the server holds {held} bytes of blob {sha256[:12]}…: "
                f"continue the upload from there, not from byte {offset}"
            )
        if offset == 0:
            self._file.truncate(0)
        else:
            self._hash_held(held)
        self.size = offset

    def _hash_held(self, held: int) -> None:
        with self._partial.open("rb") as earlier:
            while held > 0 and (chunk := earlier.read(min(_CHUNK, held))):
                self._digest.update(chunk)
                held -= len(chunk)

    def check_declared_size(self, size: int) -> None:
        """Refuse early, before reading the body, when the declared length (with what is
        already held) is already too big."""
        if self.size + size > self.blobs.max_bytes:
            raise TooLarge(self._too_large())

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.blobs.max_bytes:
            raise TooLarge(self._too_large())
        self._digest.update(chunk)
        self._file.write(chunk)

    def keep(self) -> None:
        """Keep what arrived for a later upload to continue (the connection broke)."""
        self._keep = True

    def commit(self) -> None:
        self._file.close()
        actual = self._digest.hexdigest()
        if actual != self.sha256:
            raise HashMismatch(
                f"blob content hashes to {actual[:12]}…, not the {self.sha256[:12]}… in the URL"
            )
        os.replace(self._partial, self.blobs.path(self.sha256))
        self._committed = True

    def _too_large(self) -> str:
        return f"blob is larger than the server's limit of {self.blobs.max_bytes} bytes"

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._file.closed:
            self._file.flush()
        if not (self._committed or self._keep):
            self._partial.unlink(missing_ok=True)
        self._file.close()  # releases the lock, after the partial is settled
