"""Blobs (cube archives, images, demo data): the record of an upload.

The bytes are streamed to disk by the route (``routes.blobs``); here the upload, once
its hash checked out, goes into the audit log: the blob is named by its sha256, which is
also its content hash.
"""

from __future__ import annotations

from medval.server.services.context import ServiceContext
from medval.server.store.records import UserRecord


def record_upload(ctx: ServiceContext, caller: UserRecord, sha256: str) -> None:
    with ctx.transaction(caller) as tx:
        tx.record_change("blob", sha256, "upload", None, sha256)
