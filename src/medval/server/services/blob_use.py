"""Which blobs an account may register an entity with (a cube's archive or image
archive, a benchmark's demo data).

Its owners (who uploaded it whole, see ``blobs``), or anyone when it is already public:
used by a cube in operation or as the demo data of an approved benchmark in operation.
Admins get no exception here: an entity registered in one's name must use bytes one
uploaded or that are public, so a draft's archive cannot be re-registered by another.

Imports the store only (the registration services import this).
"""

from __future__ import annotations

from medval.core.errors import InvalidInput
from medval.core.states import ApprovalStatus, Stage
from medval.server.services.context import ServiceContext
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import UserRecord


def _is_public(tx: StoreTransaction, sha256: str) -> bool:
    if any(c.stage is Stage.OPERATION for c in tx.cubes_with_blob(sha256)):
        return True
    return any(
        b.stage is Stage.OPERATION and b.approval is ApprovalStatus.APPROVED
        for b in tx.benchmarks_with_demo_data(sha256)
    )


def require_usable_blob(
    ctx: ServiceContext, tx: StoreTransaction, caller: UserRecord, sha256: str, what: str
) -> None:
    """``what`` (e.g. "cube archive") may be registered with this blob by the caller.

    A blob held but not the caller's to use gets the same message as one never uploaded.
    """
    if ctx.blobs.exists(sha256) and (
        caller.id in tx.blob_owner_ids(sha256) or _is_public(tx, sha256)
    ):
        return
    raise InvalidInput(f"{what} {sha256[:12]}… has not been uploaded by you; upload the blob first")
