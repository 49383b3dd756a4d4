"""Account use cases: one's own password and tokens; an admin's changes to others.

Accounts are named by username here (the API names them by id). Imports the HTTP
client and the core only.
"""

from __future__ import annotations

from dataclasses import dataclass

from medval.client.http import MedvalClient
from medval.core.errors import NotFound
from medval.core.schemas import AccountStatus, PasswordChange, UserPublic


def find_user(client: MedvalClient, username: str | None) -> UserPublic:
    """The account named ``username`` (an admin's view), or one's own when None."""
    if username is None:
        return client.me()
    me = client.me()
    if me.username == username:
        return me
    for user in client.users():
        if user.username == username:
            return user
    raise NotFound(f"no user named {username!r}")


def change_own_password(client: MedvalClient, change: PasswordChange) -> UserPublic:
    """With the old password; every other session of the account is logged out."""
    me = client.me()
    client.change_password(me.id, change)
    return me


def set_password(client: MedvalClient, username: str, change: PasswordChange) -> UserPublic:
    """An admin sets another account's password; its sessions are logged out."""
    user = find_user(client, username)
    client.change_password(user.id, change)
    return user


def set_disabled(client: MedvalClient, username: str, disabled: bool) -> UserPublic:
    """An admin disables an account (its sessions end) or enables it again."""
    user = find_user(client, username)
    return client.set_account_status(user.id, AccountStatus(disabled=disabled))


@dataclass(frozen=True)
class Revocation:
    user: UserPublic
    revoked: int  # how many tokens
    own: bool  # the caller's own account: this client's token is gone too


def revoke_tokens(client: MedvalClient, username: str | None) -> Revocation:
    """Log an account out everywhere (one's own when ``username`` is None)."""
    me = client.me()
    user = find_user(client, username)
    return Revocation(user, client.revoke_tokens(user.id).revoked, own=user.id == me.id)
