from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from medval.core import api
from medval.core.errors import InvalidInput
from medval.server.dependencies import ContextDep, CurrentUser

router = APIRouter(tags=["blobs"])

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.put(api.BLOB, status_code=201)
async def put_blob(
    ctx: ContextDep, _user: CurrentUser, sha256: Sha256Path, request: Request
) -> dict[str, str | int]:
    """Stream the body to disk (never whole into memory), checking size and hash."""
    with ctx.blobs.writer(sha256) as writer:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise InvalidInput("Content-Length must be a number")
            writer.check_declared_size(int(declared))
        async for chunk in request.stream():
            writer.write(chunk)
        await run_in_threadpool(writer.commit)
    return {"sha256": sha256, "size": writer.size}


@router.get(api.BLOB, response_class=FileResponse)
def get_blob(ctx: ContextDep, _user: CurrentUser, sha256: Sha256Path) -> FileResponse:
    return FileResponse(ctx.blobs.open_path(sha256), media_type="application/octet-stream")
