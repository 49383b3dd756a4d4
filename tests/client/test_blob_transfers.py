"""Big blobs: streamed with bounded memory on both sides, and resumed when cut short.

Against a real server (uvicorn in this process, so ``tracemalloc`` sees the client and
the server together). The connection is broken by a seam: an httpx transport that cuts
one upload's body or one download's answer midway, as a dropped network would.
"""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medval.client import transfers
from medval.client.http import MedvalClient
from medval.core.errors import HashMismatch, ServerUnavailable
from medval.core.hashing import sha256_file
from tests.conftest import LiveServer

MIB = 1 << 20


class Breaking(httpx.BaseTransport):
    """The real transport, but the ``breaks`` next blob PUTs (or GETs) stop after
    ``after`` bytes with a broken connection; records each blob request's headers."""

    def __init__(self, method: str, after: int, breaks: int = 1) -> None:
        self.inner = httpx.HTTPTransport()
        self.method, self.after, self.breaks = method, after, breaks
        self.seen: list[tuple[str, dict[str, str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        is_blob = "/blobs/" in request.url.path and not request.url.path.endswith("/upload")
        if is_blob:
            self.seen.append((request.method, dict(request.headers)))
        cut = is_blob and request.method == self.method and self.breaks > 0
        if cut:
            self.breaks -= 1
        if cut and request.method == "PUT":
            request.stream = _Cut(request.stream, self.after, httpx.WriteError)  # type: ignore[arg-type]
        response = self.inner.handle_request(request)
        if cut and request.method == "GET":
            response.stream = _Cut(response.stream, self.after, httpx.ReadError)  # type: ignore[arg-type]
        return response

    def close(self) -> None:
        self.inner.close()


class _Cut(httpx.SyncByteStream):
    """A request body or an answer that breaks after ``after`` bytes."""

    def __init__(self, stream: httpx.SyncByteStream, after: int, error: type[Exception]) -> None:
        self.stream, self.after, self.error = stream, after, error

    def __iter__(self) -> Iterator[bytes]:
        got = 0
        for chunk in self.stream:
            if got + len(chunk) > self.after:
                yield chunk[: self.after - got]
                raise self.error("connection broken (test seam)")
            got += len(chunk)
            yield chunk

    def close(self) -> None:
        self.stream.close()


@pytest.fixture
def token(live_server: LiveServer) -> str:
    live_server.make_admin("admin", "admin-password")
    with MedvalClient(live_server.url) as anonymous:
        return anonymous.login("admin", "admin-password").token


def _client(
    live_server: LiveServer, token: str, transport: httpx.BaseTransport | None = None
) -> MedvalClient:
    return MedvalClient(live_server.url, token, transport=transport)


def _big_file(path: Path, size: int) -> str:
    """A file of ``size`` bytes that does not compress (written a chunk at a time)."""
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for _ in range(size // MIB):
            chunk = os.urandom(MIB)
            handle.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _blob_on_server(live_server: LiveServer, sha256: str) -> Path:
    return live_server.settings.blob_dir / sha256


def test_a_blob_much_larger_than_a_chunk_streams_with_bounded_memory(
    live_server: LiveServer, token: str, tmp_path: Path
) -> None:
    size = 48 * MIB  # 48 chunks
    source = tmp_path / "image.tar"
    sha = _big_file(source, size)
    reported: list[tuple[int, int]] = []
    warm = tmp_path / "warm.tar"  # a first small transfer: what is imported or cached once
    warm_sha = _big_file(warm, 2 * MIB)  # (modules, pools) is not counted as streaming
    with _client(live_server, token) as client:
        client.upload_blob(warm_sha, warm, "warm-up")
        client.download_blob_to(warm_sha, tmp_path / "warm-copy.tar", "warm-up")
        client.transfer_report = lambda what, done, total: reported.append((done, total))
        tracemalloc.start()
        try:
            client.upload_blob(sha, source, "image archive")
            client.download_blob_to(sha, tmp_path / "copy.tar", "image archive")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # Client and server together: a few chunks at most, never the blob (48 MiB).
    assert peak < 8 * MIB, f"peak {peak / MIB:.1f} MiB"
    assert sha256_file(tmp_path / "copy.tar") == sha
    assert _blob_on_server(live_server, sha).stat().st_size == size
    assert reported[-1] == (size, size) and len(reported) >= 2 * size // MIB
    assert not (tmp_path / "copy.tar.partial").exists()


def test_an_upload_cut_short_continues_from_what_the_server_holds(
    live_server: LiveServer, token: str, tmp_path: Path
) -> None:
    size = 8 * MIB
    source = tmp_path / "image.tar"
    sha = _big_file(source, size)
    seam = Breaking("PUT", after=3 * MIB + 12345, breaks=2)
    with _client(live_server, token, seam) as client:
        client.upload_blob(sha, source, "image archive")
        state = client.blob_upload_state(sha)
    assert (state.size, state.complete) == (size, True)
    offsets = [int(headers["upload-offset"]) for method, headers in seam.seen if method == "PUT"]
    # Three attempts: from 0, then twice from what the server had kept when it broke.
    assert len(offsets) == 3 and offsets[0] == 0
    assert 0 < offsets[1] <= 3 * MIB + 12345 < offsets[2] <= 2 * (3 * MIB + 12345)
    assert hashlib.sha256(_blob_on_server(live_server, sha).read_bytes()).hexdigest() == sha
    assert list((live_server.settings.blob_dir / ".partial").iterdir()) == []


def test_a_download_cut_short_continues_with_a_range_request(
    live_server: LiveServer, token: str, tmp_path: Path
) -> None:
    size = 6 * MIB
    source = tmp_path / "image.tar"
    sha = _big_file(source, size)
    with _client(live_server, token) as client:
        client.upload_blob(sha, source)
    seam = Breaking("GET", after=2 * MIB + 777)
    target = tmp_path / "cache" / "image.tar"
    with _client(live_server, token, seam) as client:
        client.download_blob_to(sha, target, "image archive")
    assert sha256_file(target) == sha
    ranges = [headers.get("range") for method, headers in seam.seen if method == "GET"]
    # Continued from what reached the disk before the break (whole chunks of it).
    assert ranges[0] is None and len(ranges) == 2
    start = int(str(ranges[1]).removeprefix("bytes=").removesuffix("-"))
    assert 0 < start <= 2 * MIB + 777


def test_a_partial_download_left_by_an_earlier_command_is_continued_or_refused(
    live_server: LiveServer, token: str, tmp_path: Path
) -> None:
    data = os.urandom(3 * MIB)
    sha = hashlib.sha256(data).hexdigest()
    target = tmp_path / "blob"
    partial = tmp_path / "blob.partial"
    seam = Breaking("none", after=0)
    with _client(live_server, token, seam) as client:
        client.upload_blob(sha, data)
        partial.write_bytes(data[: MIB + 5])  # what an interrupted `medval run` left
        client.download_blob_to(sha, target)
        assert target.read_bytes() == data
        assert [h.get("range") for m, h in seam.seen if m == "GET"] == [f"bytes={MIB + 5}-"]
        # A partial that is not a prefix of the blob: the whole is refused, and forgotten.
        target.unlink()
        partial.write_bytes(b"\x00" * MIB)
        with pytest.raises(HashMismatch, match="the server sent content hashing to"):
            client.download_blob_to(sha, target, "image archive")
        assert not partial.exists() and not target.exists()
        client.download_blob_to(sha, target)  # the next attempt starts afresh
        assert target.read_bytes() == data


def test_a_connection_that_keeps_breaking_is_one_line_and_keeps_its_progress(
    live_server: LiveServer, token: str, tmp_path: Path
) -> None:
    data = os.urandom(2 * MIB)
    sha = hashlib.sha256(data).hexdigest()
    seam = Breaking("PUT", after=MIB // 4, breaks=transfers.ATTEMPTS)
    with _client(live_server, token, seam) as client:
        with pytest.raises(ServerUnavailable) as error:
            client.upload_blob(sha, data, "image archive")
        assert error.value.message == (
            f"the upload of image archive to {live_server.url} broke off "
            f"{transfers.ATTEMPTS} times (WriteError); run the command again to continue "
            "where it stopped"
        )
        held = client.blob_upload_state(sha)
        assert 0 < held.size < len(data) and not held.complete
        client.upload_blob(sha, data)  # run again: continues
        assert client.blob_upload_state(sha).complete
