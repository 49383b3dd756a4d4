"""A page of what the caller may see: the one way a use case pages a list.

The store pages rows by their sort key (``store.interface``); many lists keep only the rows
the caller may see, a rule that is Python, not SQL. ``visible_page`` reads rows after the
cursor in the key's order, keeps those the caller may see, and stops once it has one more
than the page holds, so a page is cut from what the caller may see: a caller who sees a
few rows among many still gets each of them once, on full pages, and the last page says
so. Rows are read ``limit + 1`` at a time, twice as many each further read while few are
kept (the admin's lists, or a list without a rule, take a single read).

May import the core and the store's interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from medval.core.paging import MAX_LIMIT, Cursor, PageRequest

T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")

# How far one read may grow while a rule keeps few rows (rows, not pages).
_LARGEST_READ = 16 * MAX_LIMIT

Fetch = Callable[[Cursor | None, int | None], list[R]]  # (after, limit) -> rows


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of a list: its items, and the cursor of the next page (None: the last)."""

    items: list[T]
    next: Cursor | None = None

    def map(self, shown: Callable[[T], U]) -> Page[U]:
        """The same page, each item shown otherwise (the cursor is still the rows')."""
        return Page([shown(item) for item in self.items], self.next)


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


def by_id(row: _HasId) -> Cursor:
    """The sort key of a list ordered by id (most of them)."""
    return (row.id,)


def visible_page(
    page: PageRequest,
    fetch: Fetch[R],
    key: Callable[[R], Cursor],
    keep: Callable[[R], bool] | None = None,
) -> Page[R]:
    """The page ``page`` asks for of the rows ``fetch`` reads that ``keep`` keeps (all,
    when None); ``key`` is the sort key ``fetch`` orders by, the cursor of the next page."""
    kept: list[R] = []
    after, read = page.after, page.limit + 1 if page.limit is not None else None
    while True:
        rows = fetch(after, read)
        for row in rows:
            if keep is None or keep(row):
                kept.append(row)
                if page.limit is not None and len(kept) > page.limit:
                    shown = kept[: page.limit]
                    return Page(shown, key(shown[-1]) if shown else None)
        if read is None or len(rows) < read:
            return Page(kept)
        after, read = key(rows[-1]), min(read * 2, _LARGEST_READ)
