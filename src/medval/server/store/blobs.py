"""Blobs on disk, addressed by the sha256 of their content: ``<blob_dir>/<sha256>``.

A blob is written to a temporary file while its hash is computed and moved into place
only when the hash matches, so a reader never sees a partial or wrong blob.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from types import TracebackType

from medval.core.errors import HashMismatch, NotFound, TooLarge


class BlobStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

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

    def writer(self, sha256: str) -> BlobWriter:
        self.root.mkdir(parents=True, exist_ok=True)
        return BlobWriter(self, sha256)


class BlobWriter:
    """Receives a blob in chunks; ``commit`` checks the hash and publishes it."""

    def __init__(self, blobs: BlobStore, sha256: str) -> None:
        self.blobs = blobs
        self.sha256 = sha256
        self.size = 0
        self._digest = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=blobs.root, prefix=".incoming-")
        self._tmp = Path(name)
        self._file = os.fdopen(fd, "wb")

    def check_declared_size(self, size: int) -> None:
        """Refuse early, before reading the body, when Content-Length is already too big."""
        if size > self.blobs.max_bytes:
            raise TooLarge(self._too_large())

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.blobs.max_bytes:
            raise TooLarge(self._too_large())
        self._digest.update(chunk)
        self._file.write(chunk)

    def commit(self) -> None:
        self._file.close()
        actual = self._digest.hexdigest()
        if actual != self.sha256:
            raise HashMismatch(
                f"blob content hashes to {actual[:12]}…, not the {self.sha256[:12]}… in the URL"
            )
        os.replace(self._tmp, self.blobs.path(self.sha256))

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
        self._file.close()
        self._tmp.unlink(missing_ok=True)
