"""Blobs to and from the server, streamed with bounded memory, and resumed when cut short.

Cube archives are small; container images are 200 MB to several GB. Both go the same
way, one chunk (1 MiB) at a time:

- **upload**: the client asks how much of the blob the server holds (all of it: done;
  an earlier upload cut short: its size) and sends the rest from that byte
  (``Upload-Offset``). The server hashes as it writes and publishes the blob only when
  the whole content hashes to its name.
- **download**: into ``<file>.partial`` beside the target, hashed as it is written; a
  ``.partial`` left by a download cut short (now, or by an earlier command) is hashed
  again from disk and continued with a ``Range`` request. Only a file whose whole content
  hashes to the registered hash is renamed into place; any other is deleted.

A connection that breaks mid-transfer is retried from where it stopped, after a short
pause, up to ``ATTEMPTS`` times; after that the command fails in one line, and running
it again continues from the same place. ``TransferReport`` hears how far each transfer is.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

import httpx

from medval.core.errors import Conflict, HashMismatch, ServerUnavailable

if TYPE_CHECKING:
    from medval.client.blob_http import BlobTransfers

CHUNK = 1 << 20
ATTEMPTS = 5
PAUSE_SECONDS = 0.2  # before attempt n+1: n times this


class TransferReport(Protocol):
    """Where a transfer says how far it is: ``done`` of ``total`` bytes of ``what``."""

    def __call__(self, what: str, done: int, total: int) -> None: ...


def _silent(what: str, done: int, total: int) -> None:
    return None


def upload(
    client: BlobTransfers,
    sha256: str,
    source: bytes | Path,
    what: str,
    report: TransferReport | None = None,
) -> None:
    """Send a blob (bytes, or a file read chunk by chunk), continuing what the server
    holds of it; the server checks the hash."""
    report = report or _silent
    total = len(source) if isinstance(source, bytes) else source.stat().st_size
    for attempt in range(1, ATTEMPTS + 1):
        state = client.blob_upload_state(sha256)
        if state.complete:
            report(what, total, total)
            return
        offset = state.size if state.size <= total else 0  # more than ours: start afresh
        with _opened(source) as handle:
            handle.seek(offset)
            chunks = _chunks(handle, what, offset, total, report)
            try:
                client.put_blob_part(sha256, chunks, offset, total - offset)
                return
            except httpx.TransportError as exc:
                if attempt == ATTEMPTS:
                    raise _broken(client, "upload", what, attempt, exc) from exc
            except Conflict:
                # The server may still be settling the attempt that broke (or another
                # upload of the same blob runs): ask again in a moment.
                if attempt == ATTEMPTS:
                    raise
        time.sleep(PAUSE_SECONDS * attempt)


def download(
    client: BlobTransfers,
    sha256: str,
    target: Path,
    what: str,
    report: TransferReport | None = None,
) -> None:
    """Fetch a blob into ``target``, verified before it appears there."""
    report = report or _silent
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    for attempt in range(1, ATTEMPTS + 1):
        digest, held = _hash_of(partial)
        try:
            with client.get_blob_part(sha256, held) as (start, total, chunks):
                if start not in (0, held):
                    raise ServerUnavailable(
                        f"{client.base_url} sent {what} from byte {start}, not {held} or 0"
                    )
                if start != held:  # the server sent it all again: start afresh
                    digest, held = hashlib.sha256(), 0
                with partial.open("r+b" if held else "wb") as out:
                    out.truncate(held)
                    out.seek(held)
                    for chunk in chunks:
                        out.write(chunk)
                        digest.update(chunk)
                        held += len(chunk)
                        report(what, held, total)
            break
        except httpx.TransportError as exc:
            if attempt == ATTEMPTS:
                raise _broken(client, "download", what, attempt, exc) from exc
            time.sleep(PAUSE_SECONDS * attempt)
    if digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        raise HashMismatch(
            f"{what}: the server sent content hashing to {digest.hexdigest()[:12]}…, "
            f"not the registered {sha256[:12]}…"
        )
    partial.replace(target)


def _opened(source: bytes | Path) -> AbstractContextManager[BinaryIO]:
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def _chunks(
    handle: BinaryIO, what: str, offset: int, total: int, report: TransferReport
) -> Iterator[bytes]:
    sent = offset
    while chunk := handle.read(CHUNK):
        yield chunk
        sent += len(chunk)
        report(what, sent, total)


def _hash_of(partial: Path) -> tuple[hashlib._Hash, int]:
    """The hash of what an earlier download left, read from disk, and its size."""
    digest, size = hashlib.sha256(), 0
    if partial.is_file() and not partial.is_symlink():
        with partial.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    return digest, size


def _broken(
    client: BlobTransfers, verb: str, what: str, attempts: int, exc: Exception
) -> ServerUnavailable:
    towards = "to" if verb == "upload" else "from"
    return ServerUnavailable(
        f"the {verb} of {what} {towards} {client.base_url} broke off {attempts} times "
        f"({exc.__class__.__name__}); run the command again to continue where it stopped"
    )
