"""The operator's first step: an admin account, created straight in the database."""

from __future__ import annotations

from pydantic import ValidationError

from medval.core.errors import InvalidInput, describe_problems
from medval.core.schemas import UserCreate, UserPublic
from medval.server.services.accounts import create_user
from medval.server.services.context import ServiceContext
from medval.server.settings import ServerSettings
from medval.server.store.blobs import BlobStore
from medval.server.store.sql import SqlStore


def create_admin(settings: ServerSettings, username: str, password: str) -> UserPublic:
    """Add an admin to a migrated database; ``Conflict`` if the name is taken."""
    try:
        body = UserCreate(username=username, password=password, is_admin=True)
    except ValidationError as exc:
        raise InvalidInput(describe_problems(exc.errors())) from None
    store = SqlStore.from_url(settings.database_url)
    try:
        context = ServiceContext(
            store, BlobStore(settings.blob_dir, settings.max_blob_bytes), settings
        )
        return UserPublic.model_validate(create_user(context, None, body))
    finally:
        store.close()
