from __future__ import annotations

from fastapi import APIRouter

from medval import __version__
from medval.core import api
from medval.server.routes.documented import DocumentedRoute

router = APIRouter(tags=["health"], route_class=DocumentedRoute)


@router.get(api.HEALTH)
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
