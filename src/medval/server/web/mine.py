"""/mine: the caller's own benchmarks, datasets, cubes, associations and results, each
with its state, from the same services as the API; for each private model, where every
approved site stands with its key (only the owner's client can wrap one, so the page
shows and does not grant). Logged out: off to the login page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from medval.server.dependencies import ContextDep
from medval.server.services.model_keys import key_recipients
from medval.server.web.participation import participation
from medval.server.web.rendering import page, to_login
from medval.server.web.session import PageCallerDep

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/mine")
def mine(request: Request, ctx: ContextDep, caller: PageCallerDep) -> Response:
    if caller.user is None:
        return to_login(request, caller, "/mine")
    mine = participation(ctx, caller.user)
    own = [a for a in mine.associations if a.entity_owner_id == caller.user.id]
    keys = {
        cube.id: key_recipients(ctx, caller.user, cube.id)
        for cube in mine.cubes
        if cube.sealed is not None
    }
    return page(request, caller, "mine.html", {"mine": mine, "own_associations": own, "keys": keys})
