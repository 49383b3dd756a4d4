"""The HTTP calls of blobs (cubes' archives, images, demo data): whole, or in parts that
``medval.client.transfers`` resumes after a broken connection. A part of
``MedvalClient`` (its base), kept apart because these speak HTTP themselves (ranges,
offsets, streams) where every other call goes through ``MedvalClient._call``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from medval.client import transfers
from medval.core import api
from medval.core.errors import MedvalError
from medval.core.schemas import BlobUploadState

T = TypeVar("T")


class BlobTransfers(ABC):
    """Blob calls, on the client's HTTP connection and its errors."""

    base_url: str
    _http: httpx.Client
    transfer_report: transfers.TransferReport | None

    @abstractmethod
    def _send(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """``MedvalClient``'s."""

    @abstractmethod
    def _call(self, kind: type[T], method: str, path: str, **kwargs: Any) -> T:
        """``MedvalClient``'s."""

    @abstractmethod
    def _error(self, response: httpx.Response) -> MedvalError:
        """``MedvalClient``'s."""

    def upload_blob(self, sha256: str, source: bytes | Path, what: str = "a blob") -> None:
        """Stream a blob (bytes, or a file chunk by chunk), resuming where the server
        stopped (``medval.client.transfers``)."""
        transfers.upload(self, sha256, source, what, self.transfer_report)

    def download_blob_to(self, sha256: str, target: Path, what: str = "a blob") -> None:
        """Stream a blob into ``target``, resumed and verified (``medval.client.transfers``)."""
        transfers.download(self, sha256, target, what, self.transfer_report)

    def download_blob(self, sha256: str) -> bytes:
        """A small blob, whole in memory (not verified: callers check it)."""
        return self._send("GET", api.BLOB.format(sha256=sha256)).content

    def blob_upload_state(self, sha256: str) -> BlobUploadState:
        return self._call(BlobUploadState, "GET", api.BLOB_UPLOAD.format(sha256=sha256))

    def put_blob_part(self, sha256: str, chunks: Iterable[bytes], offset: int, length: int) -> None:
        """Send ``length`` bytes of a blob from byte ``offset``. A broken connection is
        raised as httpx's ``TransportError``, for the caller to continue."""
        headers = {api.UPLOAD_OFFSET: str(offset), "Content-Length": str(length)}
        path = api.BLOB.format(sha256=sha256)
        response = self._http.request("PUT", path, content=chunks, headers=headers)
        if not response.is_success:
            raise self._error(response)

    @contextmanager
    def get_blob_part(self, sha256: str, offset: int) -> Iterator[tuple[int, int, Iterator[bytes]]]:
        """A blob from byte ``offset``: (where the answer starts, the blob's size, chunks).
        The answer may start at 0 if the server sends it whole. A broken connection is
        raised as httpx's ``TransportError``, for the caller to continue."""
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        path = api.BLOB.format(sha256=sha256)
        with self._http.stream("GET", path, headers=headers) as response:
            if response.status_code == 416:  # nothing after offset: the caller checks
                yield offset, offset, iter(())
                return
            if not response.is_success:
                response.read()
                raise self._error(response)
            start, total = 0, int(response.headers.get("content-length", "0"))
            if response.status_code == 206:
                # Content-Range: bytes START-END/TOTAL
                span, _, size = response.headers["content-range"].partition("/")
                start, total = int(span.split()[-1].split("-")[0]), int(size)
            yield start, total, response.iter_bytes(transfers.CHUNK)
