"""Who may read a blob, continue its upload, and register an entity with it.

A blob is owned by every account that uploaded it whole (content-addressed: sending all
of its bytes proves one holds them). The bytes live in ``BlobStore``; who owns them in
the store. The rules:

- **read**: its owners; admins; and anyone who can see an entity it belongs to: the
  archive or image archive of a cube they can see (a cube in operation: every account; a
  draft: its owner), the demo data of a benchmark they can see (so those who may run a
  benchmark can test on its demo data). Anyone else gets the same 404 as for a blob
  that does not exist, so hashes leak nothing.
- **upload**: anyone; the part of an upload cut short belongs to whoever started it,
  and only they may continue it (others start afresh from byte 0).
- **register with it**: see ``blob_use``.

Imports the store and the other services' visibility rules only.
"""

from __future__ import annotations

from medval.core.errors import Conflict, NotFound
from medval.server.services.benchmarks import can_see_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.permissions import can_see_draft
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import UserRecord


def _blob_not_found(sha256: str) -> NotFound:
    # The same message as BlobStore's for a blob that does not exist.
    return NotFound(f"blob {sha256[:12]}… does not exist")


def _may_read(tx: StoreTransaction, caller: UserRecord, sha256: str) -> bool:
    if caller.is_admin or caller.id in tx.blob_owner_ids(sha256):
        return True
    if any(can_see_draft(caller, c.owner_id, c.stage) for c in tx.cubes_with_blob(sha256)):
        return True
    return any(can_see_benchmark(caller, b) for b in tx.benchmarks_with_demo_data(sha256))


def require_readable_blob(ctx: ServiceContext, caller: UserRecord, sha256: str) -> None:
    with ctx.store.transaction() as tx:
        if not _may_read(tx, caller, sha256):
            raise _blob_not_found(sha256)


def upload_state(ctx: ServiceContext, caller: UserRecord, sha256: str) -> tuple[int, bool]:
    """What the server holds of the blob *for the caller*: complete only if the caller
    owns it (others must send it whole to own it), the part held only if the caller
    started that upload."""
    size, complete = ctx.blobs.upload_state(sha256)
    with ctx.store.transaction() as tx:
        if complete and caller.id in tx.blob_owner_ids(sha256):
            return size, True
        if tx.blob_uploader_id(sha256) == caller.id:
            return ctx.blobs.partial_size(sha256), False
    return 0, False


def begin_upload(ctx: ServiceContext, caller: UserRecord, sha256: str, offset: int) -> None:
    """From byte 0 the upload is the caller's; from further on it must already be."""
    with ctx.store.transaction() as tx:
        if offset == 0:
            tx.start_blob_upload(sha256, caller.id, ctx.clock())
        elif tx.blob_uploader_id(sha256) != caller.id:
            raise Conflict(
                f"the server holds no upload of blob {sha256[:12]}… started by you: "
                f"start it from byte 0, not from byte {offset}"
            )


def finish_upload(ctx: ServiceContext, caller: UserRecord, sha256: str) -> None:
    """The caller uploaded the blob whole: they own it, and the upload is audited (the
    blob is named by its sha256, which is also its content hash)."""
    with ctx.transaction(caller) as tx:
        tx.add_blob_owner(sha256, caller.id, ctx.clock())
        tx.record_change("blob", sha256, "upload", None, sha256)
