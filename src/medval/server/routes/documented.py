"""Every error a route can answer, listed in the OpenAPI document, declared once here.

Each router is ``APIRouter(route_class=DocumentedRoute)``. A route then lists the errors
its signature implies without a word: 401 when it reads a bearer token (even an optional
one, since a bad token is refused; ``security`` marks an optional one so), 422 when it
takes any input (path, query, header or body), 413 when it takes a JSON body (bodies are
capped). It names the errors that depend on its rules with ``errors(...)``: 403, 404,
409 (and 401, 413 when nothing in the signature shows them). Every error has the
``ErrorResponse`` body. A list route (one that takes ``PagerDep``) documents the
``Link`` header of its answer, which names the next page.

May import FastAPI, the core's schemas and the routes' dependencies only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from medval.core.paging import LINK
from medval.core.schemas import ErrorResponse
from medval.server.dependencies import optional_user
from medval.server.paging import LINK_HEADER_DOC, pager

_MEANING = {
    401: "Not logged in, or the token is unknown, revoked or expired",
    403: "Logged in, but this account may not do this",
    404: "No such entity, or one the caller may not see",
    409: "A conflict with the current state (a duplicate, a move that is not allowed)",
    413: "The body is larger than the server accepts",
    422: "The request is malformed or breaks a rule",
    429: "Too many failed attempts: try again after Retry-After seconds",
    503: "Too many password checks at once: try again shortly",
}

Responses = dict[int | str, dict[str, Any]]


def errors(*statuses: int) -> Responses:
    """The OpenAPI responses for these error statuses, each an ``ErrorResponse``."""
    return {
        status: {"model": ErrorResponse, "description": _MEANING[status]} for status in statuses
    }


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def implied_errors(every: list[Dependant]) -> list[int]:
    """The errors the route's signature alone shows it can answer."""
    implied = []
    if any(isinstance(d.call, HTTPBearer) for d in every):
        implied.append(401)
    if any(d.body_params for d in every):
        implied.append(413)
    kinds = ("path_params", "query_params", "header_params", "cookie_params", "body_params")
    if any(getattr(d, kind) for d in every for kind in kinds):
        implied.append(422)
    return implied


class DocumentedRoute(APIRoute):
    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        responses: Responses | None = None,
        **kwargs: Any,
    ) -> None:
        every = list(_dependants(get_dependant(path=path, call=endpoint)))
        documented = errors(*implied_errors(every)) | dict(responses or {})
        if any(d.call is optional_user for d in every):
            # Anyone may call it without a token: an empty requirement makes the bearer
            # optional (FastAPI appends this to the route's own security list).
            extra = dict(kwargs.pop("openapi_extra", None) or {})
            kwargs["openapi_extra"] = extra | {"security": [{}]}
        if any(d.call is pager for d in every):
            status = kwargs.get("status_code") or 200
            paged = {"description": "A page of the list", "headers": {LINK: LINK_HEADER_DOC}}
            documented[status] = paged | documented.get(status, {})
        super().__init__(path, endpoint, responses=documented, **kwargs)
