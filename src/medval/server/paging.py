"""The routes' side of paging (``core.paging``): a list route takes ``PagerDep``, passes
``pager.page`` to its use case and answers ``pager.send(page)``.

``limit`` (1 to ``MAX_LIMIT``; the server's ``page_limit`` when not given) and ``after``
(a cursor from the page before) are query parameters; the answer is the page's items,
the same JSON array as an unpaged list, with a ``Link: <...>; rel="next"`` header (RFC
8288) while more follow. The link is a relative reference (the path and query the caller
sent, with ``after`` set), so it holds behind a proxy and names no other host.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request, Response
from starlette.datastructures import URL

from medval.core.paging import (
    AFTER,
    LINK,
    MAX_LIMIT,
    NEXT,
    PageRequest,
    cursor_text,
    parse_cursor,
)
from medval.server.dependencies import ContextDep
from medval.server.services.paging import Page

T = TypeVar("T")

LINK_HEADER_DOC = {
    "description": (
        f'While more items follow: `<path?query>; rel="{NEXT}"` (RFC 8288), the next page '
        f"(this query with `{AFTER}` set). Absent on the last page."
    ),
    "schema": {"type": "string"},
}


class Pager:
    """A list route's page: ``page`` (what the caller asked for), ``send`` (the answer)."""

    def __init__(self, url: URL, response: Response, page: PageRequest) -> None:
        self._url = url
        self._response = response
        self.page = page

    def send(self, page: Page[T]) -> list[T]:
        """The page's items; the ``Link`` to the next page when there is one."""
        if page.next is not None:
            target = self._url.include_query_params(**{AFTER: cursor_text(page.next)})
            self._response.headers[LINK] = f'<{target.path}?{target.query}>; rel="{NEXT}"'
        return page.items


def pager(
    request: Request,
    response: Response,
    ctx: ContextDep,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_LIMIT,
            description=(
                f"Items per page, at most {MAX_LIMIT}; the server's page_limit when not given "
                "(500 unless its operator set another)"
            ),
        ),
    ] = None,
    after: Annotated[
        str | None,
        Query(description="The cursor of the next page: take it from the Link header"),
    ] = None,
) -> Pager:
    cursor = parse_cursor(after) if after is not None else None
    return Pager(request.url, response, PageRequest(cursor, limit or ctx.settings.page_limit))


PagerDep = Annotated[Pager, Depends(pager)]
