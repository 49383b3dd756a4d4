"""Accounts and login tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from medval.core.errors import NotAuthenticated
from medval.core.schemas import Credentials, UserCreate
from medval.server.services.context import ServiceContext
from medval.server.services.passwords import password_hasher, verify_password
from medval.server.services.permissions import require_admin
from medval.server.store.records import TokenRecord, UserRecord


def token_hash(token: str) -> str:
    """Only this goes into the database, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(ctx: ServiceContext, caller: UserRecord | None, body: UserCreate) -> UserRecord:
    """Add an account. ``caller`` None means the server's operator (the first admin)."""
    if caller is not None:
        require_admin(caller)
    hashed = password_hasher(ctx.settings).hash(body.password)
    with ctx.transaction(caller) as tx:
        return tx.add_user(body.username, hashed, body.is_admin, ctx.clock())


def list_users(ctx: ServiceContext, caller: UserRecord) -> list[UserRecord]:
    require_admin(caller)
    with ctx.store.transaction() as tx:
        return tx.list_users()


def log_in(ctx: ServiceContext, credentials: Credentials) -> tuple[str, TokenRecord]:
    """Check a password and issue a new token; the token is returned once, here."""
    hasher = password_hasher(ctx.settings)
    with ctx.store.transaction() as tx:
        user = tx.user_by_name(credentials.username)
        password_hash = tx.password_hash(user.id) if user is not None else None
    if (
        user is None
        or password_hash is None
        or not verify_password(hasher, password_hash, credentials.password)
    ):
        raise NotAuthenticated("wrong username or password")
    token = secrets.token_urlsafe(32)
    now = ctx.clock()
    expires_at = now + timedelta(hours=ctx.settings.token_ttl_hours)
    with ctx.transaction(user) as tx:
        tx.add_token(token_hash(token), user.id, now, expires_at)
    return token, TokenRecord(user, expires_at)


def authenticate(ctx: ServiceContext, token: str) -> UserRecord:
    """The account a bearer token belongs to, if the token is known and not expired."""
    with ctx.store.transaction() as tx:
        record = tx.token(token_hash(token))
        if record is None:
            raise NotAuthenticated("unknown or revoked token; log in again")
        if record.expires_at <= ctx.clock():
            raise NotAuthenticated("token expired; log in again")
        return record.user


def log_out(ctx: ServiceContext, caller: UserRecord, token: str) -> None:
    with ctx.transaction(caller) as tx:
        tx.delete_token(token_hash(token))
