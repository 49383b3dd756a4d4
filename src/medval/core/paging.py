"""Paging a list: a limit and a cursor, the API's contract for every list route.

A list route answers a page: the same JSON array as ever, at most ``limit`` items, and,
when more follow, an RFC 8288 ``Link: <...>; rel="next"`` header whose target is the
next page (the same query with ``after`` set). The last page has no such header.

Pages are keyset pages: a list has a fixed order (by id, unless its route says
otherwise), and ``after`` is the sort key of the last item of the page before, so rows
added or removed while a caller walks the pages neither repeat nor hide the others.
A cursor is opaque to callers: take it from the ``Link`` header, never build one.

Imports nothing but the core's errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medval.core.errors import InvalidInput
from medval.core.schema_types import MAX_ID

LIMIT = "limit"  # the query parameter of a page's size
AFTER = "after"  # the query parameter of the cursor
LINK = "Link"  # the response header naming the next page
NEXT = "next"  # its relation type

DEFAULT_LIMIT = 500  # a page's size when the caller names none (a server setting)
MAX_LIMIT = 1000  # the largest page a caller may ask for

# A list's sort key: one or more whole numbers (an id; a round and a dataset id).
Cursor = tuple[int, ...]

_CURSOR = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,10}){0,3}$")


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list: the items after ``after`` (None: from the start), at most
    ``limit`` of them (None: all of them; only the server's own use cases ask for that)."""

    after: Cursor | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"a page holds at least one item, not {self.limit}")


EVERYTHING = PageRequest()


def cursor_text(key: Cursor) -> str:
    """The cursor as it travels in a URL: ``42``, ``3.17``."""
    return ".".join(str(part) for part in key)


def bad_cursor(text: str) -> InvalidInput:
    """The one-line refusal of a cursor that is not one of this list's."""
    return InvalidInput(
        f"query.{AFTER}: {text[:40]!r} is not a cursor of this list; "
        "take it from the Link header of the page before"
    )


def parse_cursor(text: str) -> Cursor:
    """The cursor of an ``after`` parameter; ``InvalidInput`` when it is not one."""
    if not _CURSOR.match(text):
        raise bad_cursor(text)
    key = tuple(int(part) for part in text.split("."))
    if any(part > MAX_ID for part in key):
        raise bad_cursor(text)
    return key
