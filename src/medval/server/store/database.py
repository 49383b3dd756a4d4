"""Engines by URL: SQLite (the default) or PostgreSQL, MLflow-style."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from medval.core.errors import InvalidInput, ServerUnavailable
from medval.core.private_files import make_private, write_private

_SQLITE_BUSY_SECONDS = 30
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def redacted(url: str) -> str:
    """A database URL fit for a message or a log: its password replaced by ``***``."""
    return _PASSWORD_IN_URL.sub(r"\1***@", url)


def normalize_url(url: str) -> URL:
    """Parse a database URL; ``postgresql://`` means psycopg 3, the driver we ship."""
    try:
        parsed = make_url(url)
    except Exception:  # SQLAlchemy raises several types for bad URLs
        raise InvalidInput(f"not a database URL: {redacted(url)!r}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidInput(f"unsupported database {parsed.drivername!r}; use sqlite or postgresql")
    return parsed


def create_database_engine(url: str) -> Engine:
    """An engine with the settings each backend needs to behave like the other."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            # Requests run in a thread pool; SQLite connections are handed between threads.
            connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_SECONDS},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if parsed.database not in (None, "", ":memory:") and not parsed.database.startswith(
            "file:"
        ):
            _private_sqlite_files(Path(parsed.database))
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _private_sqlite_files(database: Path) -> None:
    """The database file owner-only (0600) before SQLite opens it, whatever the umask:
    SQLite gives its -wal and -shm files the database file's mode when it makes them;
    ones left by an earlier server are tightened here."""
    database.parent.mkdir(parents=True, exist_ok=True)
    if not database.exists():
        write_private(database, "")  # an empty file is an empty SQLite database
    for path in (database, *(Path(f"{database}{end}") for end in ("-wal", "-shm", "-journal"))):
        make_private(path)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer, and
    # in WAL mode synchronous=NORMAL is still corruption-safe without an fsync per commit.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    if not _is_memory(dbapi_connection):
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _is_memory(dbapi_connection: Any) -> bool:
    cursor = dbapi_connection.cursor()
    try:
        rows = cursor.execute("PRAGMA database_list").fetchall()
    finally:
        cursor.close()
    return any(row[1] == "main" and not row[2] for row in rows)


@contextmanager
def reaching_database(url: str) -> Iterator[None]:
    """Turn a database that cannot be reached (down, refusing, wrong password, a file
    that cannot be opened) into one line naming it, with no password in it: the
    driver's own text is several lines and may repeat the URL."""
    try:
        yield
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        password = make_url(url).password if "://" in url else None
        if password:
            reason = reason.replace(str(password), "***")
        raise ServerUnavailable(
            f"cannot use the database {redacted(url)}: {reason or exc.__class__.__name__}"
        ) from None
