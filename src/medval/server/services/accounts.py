"""Accounts and login tokens: logging in (behind ``login_guard``'s doors), passwords,
disabling an account, revoking its tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from medval.core.errors import NotAuthenticated, PermissionDenied
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.participation_schemas import InstitutionChange
from medval.core.schemas import AccountStatus, Credentials, PasswordChange, UserCreate
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.passwords import password_hasher, verify_password
from medval.server.services.permissions import not_found, require_admin
from medval.server.store.records import TokenRecord, UserRecord

WRONG_CREDENTIALS = "wrong username or password"
DISABLED = "this account is disabled; ask an admin"


def token_hash(token: str) -> str:
    """Only this goes into the database, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(ctx: ServiceContext, caller: UserRecord | None, body: UserCreate) -> UserRecord:
    """Add an account. ``caller`` None means the server's operator (the first admin)."""
    if caller is not None:
        require_admin(caller)
    hashed = _hash(ctx, body.password)
    with ctx.transaction(caller) as tx:
        return tx.add_user(body.username, hashed, body.is_admin, ctx.clock())


def list_users(
    ctx: ServiceContext, caller: UserRecord, page: PageRequest = EVERYTHING
) -> Page[UserRecord]:
    require_admin(caller)
    with ctx.store.transaction() as tx:
        return visible_page(page, lambda after, n: tx.list_users(after=after, limit=n), by_id)


def set_institution(
    ctx: ServiceContext, caller: UserRecord, user_id: int, change: InstitutionChange
) -> UserRecord:
    """An admin puts an account in an institution (a committee may expect every account
    of one, ``expected_sites``), or in none."""
    require_admin(caller)
    with ctx.transaction(caller) as tx:
        if tx.user(user_id) is None:
            raise not_found("user", user_id)
        return tx.set_user_institution(user_id, change.institution)


def _hash(ctx: ServiceContext, password: str) -> str:
    with ctx.logins.password_check():
        return password_hasher(ctx.settings).hash(password)


def _password_matches(ctx: ServiceContext, user: UserRecord | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s; as slow for an unknown user (None) as a known one."""
    hasher = password_hasher(ctx.settings)
    stored = None
    if user is not None:
        with ctx.store.transaction() as tx:
            stored = tx.password_hash(user.id)
    with ctx.logins.password_check():
        checked = stored if stored is not None else ctx.logins.dummy_hash(hasher)
        matches = verify_password(hasher, checked, password)
    return matches and stored is not None


def log_in(ctx: ServiceContext, credentials: Credentials, address: str) -> tuple[str, TokenRecord]:
    """Check a password and issue a new token; the token is returned once, here.

    ``address`` is the caller's (failed logins are counted per account and per address).
    """
    now = ctx.clock()
    ctx.logins.check_allowed(credentials.username, address, now)
    with ctx.store.transaction() as tx:
        user = tx.user_by_name(credentials.username)
    matches = _password_matches(ctx, user, credentials.password)
    if user is None or not matches:
        ctx.logins.failed(credentials.username, address, now)
        raise NotAuthenticated(WRONG_CREDENTIALS)
    if user.disabled:
        raise NotAuthenticated(DISABLED)
    ctx.logins.succeeded(credentials.username)
    token = secrets.token_urlsafe(32)
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
    if record.user.disabled:
        raise NotAuthenticated(DISABLED)
    return record.user


def log_out(ctx: ServiceContext, caller: UserRecord, token: str) -> None:
    with ctx.transaction(caller) as tx:
        tx.delete_token(token_hash(token))


def _target(ctx: ServiceContext, user_id: int) -> UserRecord:
    with ctx.store.transaction() as tx:
        user = tx.user(user_id)
    if user is None:
        raise not_found("user", user_id)
    return user


def change_password(
    ctx: ServiceContext,
    caller: UserRecord,
    user_id: int,
    body: PasswordChange,
    address: str,
    caller_token: str,
) -> None:
    """One's own password, given the old one (counted like a login: a stolen token does
    not make it guessable); an admin sets another's without it. Every other token of
    the account is revoked (the caller's own stays)."""
    if caller.id == user_id:
        if body.old_password is None:
            raise PermissionDenied("give your old password to change it")
        now = ctx.clock()
        ctx.logins.check_allowed(caller.username, address, now)
        if not _password_matches(ctx, caller, body.old_password):
            ctx.logins.failed(caller.username, address, now)
            raise PermissionDenied("the old password is wrong")
    else:
        require_admin(caller)
        _target(ctx, user_id)
    hashed = _hash(ctx, body.new_password)
    with ctx.transaction(caller) as tx:
        tx.set_password_hash(user_id, hashed)
        tx.delete_tokens(user_id, keep_hash=token_hash(caller_token))


def set_account_status(
    ctx: ServiceContext, caller: UserRecord, user_id: int, body: AccountStatus
) -> UserRecord:
    """An admin disables an account (and revokes its tokens) or enables it again."""
    require_admin(caller)
    if caller.id == user_id:
        raise PermissionDenied("an admin cannot disable or enable their own account")
    _target(ctx, user_id)
    with ctx.transaction(caller) as tx:
        if body.disabled:
            tx.delete_tokens(user_id)
        return tx.set_user_disabled(user_id, body.disabled)


def revoke_tokens(ctx: ServiceContext, caller: UserRecord, user_id: int) -> int:
    """Every token of the account, the caller's own included: oneself, or an admin."""
    if caller.id != user_id:
        require_admin(caller)
        _target(ctx, user_id)
    with ctx.transaction(caller) as tx:
        return tx.delete_tokens(user_id)
