"""Cubes: registered by the hash of an archive already uploaded as a blob (by the
registering account, unless it is public: ``blob_use``).

A cube with a container image is also pinned by the image's ID and the hash of an image
archive, uploaded as a blob too (the schema checks that both come together). A private
model's archive is uploaded sealed only (``core.sealed_models``).
"""

from __future__ import annotations

from medval.core.errors import InvalidInput
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.schemas import CubeCreate
from medval.core.states import CubeKind, Stage, check_stage_move
from medval.server.services.blob_use import require_usable_blob
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import can_see_draft, not_found, require_owner_or_admin
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import CubeRecord, UserRecord


def register_cube(ctx: ServiceContext, caller: UserRecord, body: CubeCreate) -> CubeRecord:
    with ctx.transaction(caller) as tx:
        if body.sealed is None:
            require_usable_blob(ctx, tx, caller, body.archive_hash, "cube archive")
            if body.image_archive_hash is not None:
                require_usable_blob(ctx, tx, caller, body.image_archive_hash, "image archive")
        else:  # a private model: the server holds its archive and image sealed only
            require_usable_blob(ctx, tx, caller, body.sealed.sealed_hash, "sealed cube archive")
            image = body.sealed.image_sealed_hash
            if (image is None) != (body.image_archive_hash is None):
                raise InvalidInput(
                    "a private model with an image gives both its image archive's hash in "
                    "clear (image_archive_hash) and its sealed one (sealed.image_sealed_hash), "
                    "a model without one neither"
                )
            if image is not None:
                require_usable_blob(ctx, tx, caller, image, "sealed image archive")
        return tx.add_cube(caller.id, body, ctx.clock())


def visible_cube(tx: StoreTransaction, caller: UserRecord | None, cube_id: int) -> CubeRecord:
    cube = tx.cube(cube_id)
    if cube is None or not can_see_draft(caller, cube.owner_id, cube.stage):
        raise not_found("cube", cube_id)
    return cube


def cube_of_kind(
    tx: StoreTransaction, caller: UserRecord, cube_id: int, kind: CubeKind, role: str
) -> CubeRecord:
    """A visible cube that must be of ``kind`` to play ``role`` (e.g. a benchmark's evaluator)."""
    cube = visible_cube(tx, caller, cube_id)
    if cube.kind is not kind:
        raise InvalidInput(
            f"{role} must be a cube of kind {kind.value}; "
            f"cube {cube_id} ({cube.name}) is a {cube.kind.value}"
        )
    return cube


def get_cube(ctx: ServiceContext, caller: UserRecord, cube_id: int) -> CubeRecord:
    with ctx.store.transaction() as tx:
        return visible_cube(tx, caller, cube_id)


def list_cubes(
    ctx: ServiceContext,
    caller: UserRecord,
    kind: CubeKind | None,
    mine: bool,
    page: PageRequest = EVERYTHING,
) -> Page[CubeRecord]:
    owner_id = caller.id if mine else None
    with ctx.store.transaction() as tx:
        return visible_page(
            page,
            lambda after, n: tx.list_cubes(kind, owner_id, after=after, limit=n),
            by_id,
            lambda c: can_see_draft(caller, c.owner_id, c.stage),
        )


def change_cube_stage(
    ctx: ServiceContext, caller: UserRecord, cube_id: int, stage: Stage
) -> CubeRecord:
    with ctx.transaction(caller) as tx:
        cube = visible_cube(tx, caller, cube_id)
        require_owner_or_admin(caller, cube.owner_id, f"cube {cube.name}")
        check_stage_move(f"cube {cube.name}", cube.stage, stage)
        return tx.set_cube_stage(cube_id, stage)
