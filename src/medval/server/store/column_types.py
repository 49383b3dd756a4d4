"""Column types that let an ORM row hold the domain's own values, on every backend.

A row's attributes are then exactly what the core's schemas expect (aware UTC datetimes,
enums, typed documents), so records are validated straight from rows (see ``records``)
with no mapping code in between. Migrations render these types as their plain
SQLAlchemy ``impl`` (see ``migrations/env.py``), so no migration imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import JSON, DateTime, Dialect, Enum, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way out, on every backend.

    SQLite has no time zones and hands back naive values; they are stored as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(cls: type[StrEnum]) -> Enum:
    """Stored as plain strings with their values (not names): readable and easy to extend."""
    return Enum(
        cls,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class JsonDocument(TypeDecorator[Any]):
    """A JSON column holding one typed value (a core document, a list of enums, ...).

    Written as the value's JSON form, read back validated as ``document_type``: the row holds
    the domain's object, never a loose dict. ``when_null`` gives the value a NULL stands
    for (rows written before the column existed), if it stands for one.
    """

    impl = JSON
    cache_ok = True

    def __init__(self, document_type: Any, when_null: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self.document_type = document_type
        self.when_null = when_null
        self._adapter: TypeAdapter[Any] = TypeAdapter(document_type)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self._adapter.dump_python(self._adapter.validate_python(value), mode="json")

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return self.when_null() if self.when_null is not None else None
        return self._adapter.validate_python(value)
