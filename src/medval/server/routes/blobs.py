"""Blobs: streamed to disk and from it, never whole in memory; uploads and downloads resume.

``PUT`` with ``Upload-Offset: N`` continues an upload cut short at byte N (``GET
…/upload`` says N); ``GET`` honours ``Range`` (Starlette's ``FileResponse``), so a
download cut short continues where it stopped.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from medval.core import api
from medval.core.errors import InvalidInput
from medval.core.schemas import BlobUploadState
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import blobs

router = APIRouter(tags=["blobs"], route_class=DocumentedRoute)

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


class BlobResponse(FileResponse):
    """A blob from disk in chunks of 1 MiB (Starlette's 64 KiB would take many more
    round trips through the event loop for a multi-GB image)."""

    chunk_size = 1 << 20


_BYTES = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def _number(header: str, value: str | None) -> int:
    if value is None:
        return 0
    if not value.isdigit():
        raise InvalidInput(f"{header} must be a number of bytes, not {value[:20]!r}")
    return int(value)


@router.put(
    api.BLOB,
    status_code=201,
    responses=errors(409, 413),
    openapi_extra={"requestBody": {"required": True, "content": _BYTES}},
)
async def put_blob(
    ctx: ContextDep, user: CurrentUser, sha256: Sha256Path, request: Request
) -> dict[str, str | int]:
    """Stream the body to disk (never whole into memory), checking size and hash; the
    caller owns the blob once it is whole."""
    offset = _number(api.UPLOAD_OFFSET, request.headers.get(api.UPLOAD_OFFSET))
    declared = request.headers.get("content-length")
    await run_in_threadpool(blobs.begin_upload, ctx, user, sha256, offset)
    with await run_in_threadpool(ctx.blobs.writer, sha256, offset) as writer:
        if declared is not None:
            writer.check_declared_size(_number("Content-Length", declared))
        try:
            async for chunk in request.stream():
                writer.write(chunk)
        except ClientDisconnect:
            writer.keep()
            raise InvalidInput(
                f"the upload of blob {sha256[:12]}… was cut short at byte {writer.size}; "
                f"continue it with {api.UPLOAD_OFFSET}: {writer.size}"
            ) from None
        await run_in_threadpool(writer.commit)
    await run_in_threadpool(blobs.finish_upload, ctx, user, sha256)
    return {"sha256": sha256, "size": writer.size}


@router.get(api.BLOB_UPLOAD)
def blob_upload_state(ctx: ContextDep, user: CurrentUser, sha256: Sha256Path) -> BlobUploadState:
    """Complete only for the blob's owners; anyone else must send it whole to own it."""
    size, complete = blobs.upload_state(ctx, user, sha256)
    return BlobUploadState(sha256=sha256, size=size, complete=complete)


@router.get(
    api.BLOB,
    # A plain Response has no media type, so the OpenAPI lists only the bytes below.
    response_class=Response,
    responses={
        200: {"description": "The blob's bytes", "content": _BYTES},
        206: {"description": "The bytes of the range asked for", "content": _BYTES},
        **errors(404),
    },
)
def get_blob(ctx: ContextDep, user: CurrentUser, sha256: Sha256Path) -> BlobResponse:
    """Only to whom may read it (``services.blobs``); anyone else gets a 404."""
    blobs.require_readable_blob(ctx, user, sha256)
    return BlobResponse(ctx.blobs.open_path(sha256), media_type="application/octet-stream")
