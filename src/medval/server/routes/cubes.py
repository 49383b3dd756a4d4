from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from medval.core import api
from medval.core.schemas import CubeCreate, CubePublic, Id, StageChange
from medval.core.states import CubeKind
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute, errors
from medval.server.services import cubes, invalidation

router = APIRouter(tags=["cubes"], route_class=DocumentedRoute)


@router.post(api.CUBES, status_code=201, responses=errors(409))
def register_cube(ctx: ContextDep, user: CurrentUser, body: CubeCreate) -> CubePublic:
    return cubes.register_cube(ctx, user, body)


@router.get(api.CUBES)
def list_cubes(
    ctx: ContextDep,
    user: CurrentUser,
    pager: PagerDep,
    kind: CubeKind | None = None,
    mine: bool = False,
) -> Sequence[CubePublic]:
    return pager.send(cubes.list_cubes(ctx, user, kind, mine, pager.page))


@router.get(api.CUBE, responses=errors(404))
def get_cube(ctx: ContextDep, user: CurrentUser, cube_id: Id) -> CubePublic:
    return cubes.get_cube(ctx, user, cube_id)


@router.put(api.CUBE_STAGE, responses=errors(403, 404, 409))
def change_stage(ctx: ContextDep, user: CurrentUser, cube_id: Id, body: StageChange) -> CubePublic:
    return cubes.change_cube_stage(ctx, user, cube_id, body.stage)


@router.post(api.CUBE_INVALIDATION, responses=errors(403, 404, 409))
def invalidate(ctx: ContextDep, user: CurrentUser, cube_id: Id) -> CubePublic:
    """For good: it stays in the record, but nothing new runs against it."""
    return invalidation.invalidate_cube(ctx, user, cube_id)
