"""The server's settings: one typed object, read from ``MEDVAL_SERVER_*`` and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024
GIB = 1024 * MIB


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
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535, description="0 picks a free port")
    password_hash_profile: Literal["standard", "test_only_cheapest"] = Field(
        default="standard",
        description="argon2 cost; the cheapest profile exists only to keep test suites fast",
    )

    @model_validator(mode="after")
    def _default_database(self) -> ServerSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir.resolve() / 'medval.db'}"
        return self

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"
