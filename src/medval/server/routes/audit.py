"""The audit log, read over the API (what the caller may see; see ``services.audit``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from medval.core import api
from medval.core.schemas import AuditEntryPublic
from medval.server.dependencies import ContextDep, CurrentUser
from medval.server.paging import PagerDep
from medval.server.routes.documented import DocumentedRoute
from medval.server.services import audit

# Row ids (digits) and blobs' sha256 (hex): nothing else names an entity.
EntityId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{1,64}$")]

router = APIRouter(tags=["audit"], route_class=DocumentedRoute)


@router.get(api.AUDIT)
def audit_entries(
    ctx: ContextDep,
    user: CurrentUser,
    pager: PagerDep,
    entity_kind: str | None = None,
    entity_id: Annotated[list[EntityId] | None, Query()] = None,
    actor: str | None = None,
) -> Sequence[AuditEntryPublic]:
    return pager.send(audit.audit_entries(ctx, user, entity_kind, entity_id, actor, pager.page))
