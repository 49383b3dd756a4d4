"""Password hashing with argon2."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from medval.server.settings import PasswordHashProfile, ServerSettings


def password_hasher(settings: ServerSettings) -> PasswordHasher:
    if settings.password_hash_profile is PasswordHashProfile.TEST_ONLY_CHEAPEST:
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
