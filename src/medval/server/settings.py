"""The server's settings: one typed object, read from ``MEDVAL_SERVER_*`` and passed in."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medval.core.paging import DEFAULT_LIMIT, MAX_LIMIT

MIB = 1024 * 1024
GIB = 1024 * MIB


class PasswordHashProfile(StrEnum):
    """The argon2 cost of the server's password hashes."""

    STANDARD = "standard"
    # Only to keep test suites and many-site simulations fast; never a real server.
    TEST_ONLY_CHEAPEST = "test_only_cheapest"


# The environment that makes a server process (``medval server start``, ``create-admin``)
# hash with the cheapest profile.
CHEAPEST_HASHING_ENV = {
    "MEDVAL_SERVER_PASSWORD_HASH_PROFILE": PasswordHashProfile.TEST_ONLY_CHEAPEST.value
}


class ServerSettings(BaseSettings):
    """Where the server keeps its database and blobs, and its limits.

    ``database_url`` picks the store backend (``sqlite:///...`` or ``postgresql://...``);
    when empty it is a SQLite file inside ``data_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="MEDVAL_SERVER_", extra="forbid")

    data_dir: Path = Field(
        default=Path("medval-server-data"), description="Holds blobs and the default database"
    )
    database_url: str = Field(default="", description="SQLAlchemy URL; default SQLite in data_dir")
    token_ttl_hours: float = Field(default=12.0, gt=0, description="Lifetime of a login token")
    max_blob_bytes: int = Field(
        default=20 * GIB, gt=0, description="Largest accepted blob (container images: GBs)"
    )
    partial_upload_hours: float = Field(
        default=24.0, gt=0, description="How long an upload cut short is kept to continue"
    )
    max_json_bytes: int = Field(
        default=1 * MIB, gt=0, description="Largest request body other than a blob (JSON)"
    )
    login_max_failures: int = Field(
        default=10, ge=1, description="Failed logins per account, and per address, in a window"
    )
    login_failure_window_seconds: float = Field(
        default=900.0, gt=0, description="The window failed logins are counted in"
    )
    max_concurrent_password_checks: int = Field(
        default=4, ge=1, description="Password checks at once (each takes ~64 MiB with argon2)"
    )
    password_check_wait_seconds: float = Field(
        default=10.0, ge=0, description="How long a login waits for a free check before a 503"
    )
    page_limit: int = Field(
        default=DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description=f"Items in a list's page when the caller names no limit (1 to {MAX_LIMIT})",
    )
    certfile: Path | None = Field(default=None, description="TLS certificate chain (PEM)")
    keyfile: Path | None = Field(default=None, description="TLS private key (PEM)")
    host: str = Field(default="127.0.0.1", description="The address to listen on")
    port: int = Field(default=8000, ge=0, le=65535, description="0 picks a free port")
    workers: int = Field(
        default=1,
        ge=1,
        description="Server processes sharing the listening socket (PostgreSQL recommended)",
    )
    password_hash_profile: PasswordHashProfile = Field(
        default=PasswordHashProfile.STANDARD,
        description="argon2 cost; the cheapest profile exists only to keep test suites fast",
    )

    @model_validator(mode="after")
    def _default_database(self) -> ServerSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir.resolve() / 'medval.db'}"
        return self

    @model_validator(mode="after")
    def _tls_whole(self) -> ServerSettings:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile: give both or neither")
        return self

    @property
    def scheme(self) -> str:
        return "https" if self.certfile is not None else "http"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"
