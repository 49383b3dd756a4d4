"""Following a list's pages (``core.paging``): every page a server's answer links to,
and the pages joined. ``MedvalClient._call`` uses these for every call, so every list
method returns the whole list, in the server's order.

Imports httpx and the core only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx

from medval.core.errors import ServerUnavailable
from medval.core.paging import NEXT

T = TypeVar("T")


def following(
    first: httpx.Response, get: Callable[[str], httpx.Response], base: httpx.URL, server: str
) -> Iterator[httpx.Response]:
    """``first``, then each next page it leads to (RFC 8288 ``rel="next"``), fetched by
    ``get``. A next page is followed only on the same server and under its API (``base``:
    the caller's token goes with the request), and never twice: else ServerUnavailable."""
    response, followed = first, set[str]()
    yield response
    while (link := response.links.get(NEXT)) is not None:
        target = response.url.join(link["url"])
        where = str(target)[:80]
        same_server = (target.scheme, target.host, target.port) == (
            base.scheme,
            base.host,
            base.port,
        )
        if not same_server or not target.path.startswith(base.path):
            raise ServerUnavailable(
                f"the server at {server} sent a next page on another server or outside its "
                f"API ({where}); not followed"
            )
        if str(target) in followed:
            raise ServerUnavailable(
                f"the server at {server} sent the same next page twice ({where})"
            )
        followed.add(str(target))
        response = get(str(target))
        yield response


def joined(pages: list[T], server: str) -> T:
    """The answer of the first page, with the items of each page after it after its own."""
    answer = pages[0]
    for more in pages[1:]:
        if not (isinstance(answer, list) and isinstance(more, list)):
            raise ServerUnavailable(
                f"the server at {server} sent a next page of an answer that is not a list; "
                "are client and server the same version?"
            )
        answer.extend(more)
    return answer
