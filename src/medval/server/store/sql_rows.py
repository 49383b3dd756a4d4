"""The generic part of the SQL store: rows in, records out, every change audited.

``SqlRows`` is what each part of a transaction builds on (``sql_training``, then
``sql.SqlTransaction``): add a row (``_insert``), change one (``_change``), find and list
them as records. Each write goes through one of these, which is where it is recorded for
the audit log (``audit_log``), whichever service made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from medval.core.errors import Conflict, NotFound
from medval.core.paging import Cursor, bad_cursor, cursor_text
from medval.server.store import models as m
from medval.server.store.audit_log import AuditLog
from medval.server.store.interface import Actor

_Row = TypeVar("_Row", bound=m.Base)
_Record = TypeVar("_Record", bound=BaseModel)


def matching(query: Select[Any], *conditions: tuple[Any, Any]) -> Select[Any]:
    """Filter on ``column == value`` for each (column, value) whose value is not None."""
    for column, value in conditions:
        if value is not None:
            query = query.where(column == value)
    return query


def paged(
    query: Select[Any],
    key: Sequence[InstrumentedAttribute[int]],
    after: Cursor | None,
    limit: int | None,
) -> Select[Any]:
    """``query``'s rows in the order of ``key`` (the list's sort key, unique), only those
    after the key ``after`` (None: from the first), at most ``limit`` (None: all): the
    one place a list's order and its pages are said."""
    query = query.order_by(*key)
    if after is not None:
        if len(after) != len(key):
            raise bad_cursor(cursor_text(after))
        # A row value comparison, (a, b) > (x, y): SQLite and PostgreSQL both have it.
        query = query.where(key[0] > after[0] if len(key) == 1 else tuple_(*key) > tuple_(*after))
    if limit is not None:
        query = query.limit(limit)
    return query


class SqlRows:
    """One session; ``add_*`` flush at once so a broken uniqueness rule surfaces here."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        # Every change below goes through ``_insert``, ``_change`` or ``audit.touch``: the
        # one place where it is recorded for the audit log, whichever service made it.
        self.audit = AuditLog(session, actor)

    # --- the generic part: rows in, records out -----------------------------------------

    def _insert(self, row: _Row, what: str) -> _Row:
        self.session.add(row)
        try:
            self.session.flush()
        except IntegrityError as exc:
            # Services check references first; a foreign key failure here is a race or a bug.
            if "foreign key" in str(exc.orig).lower():
                raise NotFound(f"{what} refers to a row that does not exist") from exc
            raise Conflict(f"{what} already exists") from exc
        self.session.refresh(row)
        self.audit.touch(row, "add", new=True)
        return row

    def _get(self, model: type[_Row], row_id: int, what: str) -> _Row:
        row = self.session.get(model, row_id)
        if row is None:
            raise NotFound(f"{what} {row_id} does not exist")
        return row

    def _find(self, record: type[_Record], model: type[m.Base], row_id: int) -> _Record | None:
        row = self.session.get(model, row_id)
        return record.model_validate(row) if row is not None else None

    def _list(self, record: type[_Record], query: Select[Any]) -> list[_Record]:
        return [record.model_validate(row) for row in self.session.scalars(query)]

    def _change(
        self,
        record: type[_Record],
        model: type[m.Base],
        row_id: int,
        what: str,
        action: str,
        **values: Any,
    ) -> _Record:
        row = self._get(model, row_id, what)
        self.audit.touch(row, action)
        for name, value in values.items():
            setattr(row, name, value)
        self.session.flush()
        self.session.refresh(row)
        return record.model_validate(row)
