"""What every use case needs, bundled once per app: the store, the blobs, settings, a clock
(and what the app keeps between requests: login counts, pooled boards)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from medval.server.services.kept_boards import KeptBoards
from medval.server.services.login_guard import LoginGuard
from medval.server.settings import ServerSettings
from medval.server.store.blobs import BlobStore
from medval.server.store.interface import SERVER_OPERATOR, Actor, Store, StoreTransaction
from medval.server.store.records import UserRecord

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceContext:
    store: Store
    blobs: BlobStore
    settings: ServerSettings
    clock: Clock = utc_now
    # One per app: it counts failed logins and bounds the password checks at once.
    logins: LoginGuard = field(init=False)
    # One per app (so per server process): each benchmark's pooled board, kept until its
    # results change.
    boards: KeptBoards = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "logins", LoginGuard(self.settings))
        object.__setattr__(self, "boards", KeptBoards())

    def transaction(self, caller: UserRecord | None) -> AbstractContextManager[StoreTransaction]:
        """The transaction of a use case that changes something, done by ``caller`` (None:
        the server's operator): the store appends each change to the audit log, as theirs,
        now. Reading needs no caller: ``store.transaction()``."""
        name = caller.username if caller is not None else SERVER_OPERATOR
        return self.store.transaction(Actor(name, self.clock()))
