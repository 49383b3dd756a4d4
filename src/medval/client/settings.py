"""The client's typed settings and the credentials it keeps between commands.

The settings are a plain pydantic model that reads ``MEDVAL_<FIELD>`` itself, not a
pydantic-settings ``BaseSettings``: importing pydantic-settings (every source it has:
dotenv, secrets, YAML, TOML, the cloud vaults, asyncio) took about 50 ms of every command's
start-up on a quiet 2-core machine, more than twice pydantic's own (issue 14). What it did
here is a dozen lines: each field not given, from the environment, names in any case.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from medval.core.errors import InvalidInput, NotAuthenticated
from medval.core.nesting import load_json
from medval.core.private_files import make_private, private_folder, write_private

if TYPE_CHECKING:
    import ssl

ENV_PREFIX = "MEDVAL_"


class ProgressLines(StrEnum):
    """When long steps say how far they are (``MEDVAL_PROGRESS``, ``medval --quiet``)."""

    AUTO = "auto"  # on a terminal only
    ALWAYS = "always"  # in a pipe too (a program that shows them, as ``medval demo`` does)
    NEVER = "never"


class ClientSettings(BaseModel):
    """Where the client keeps its workspace, and how it runs cubes.

    Every field can be set by an environment variable ``MEDVAL_<FIELD>``, e.g.
    ``MEDVAL_HOME=/srv/medval`` or ``MEDVAL_RUNNER=local``; a field given to the
    constructor wins over the environment.
    """

    model_config = ConfigDict(extra="ignore", validate_default=True)

    home: Path = Field(
        default_factory=lambda: Path.home() / ".medval",
        description="The client folder: login, keys, workspace (cache, prepared data, results)",
    )
    server: str | None = Field(
        default=None, description="The server's URL; `medval login` keeps the one it used"
    )
    runner: str = Field(
        default="local", description="Where cube tasks run: local (bubblewrap), docker, podman"
    )
    task_timeout_seconds: float = Field(
        default=1800.0, description="Wall-clock limit of each cube task"
    )
    task_memory_mb: int = Field(default=4096, description="Memory limit of each cube task")
    task_max_processes: int = Field(
        default=512, description="Processes (and threads) a cube task may have at once"
    )
    task_output_mb: int = Field(
        default=4096, description="What a cube task may write: outputs and log together"
    )
    http_timeout_seconds: float = Field(
        default=120.0, description="How long a request to the server may take"
    )
    ca_bundle: Path | None = Field(
        default=None,
        description="Trust only this CA (PEM) for the server's HTTPS; unset: the system's CAs",
    )
    min_cell_count: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Your own minimum cell size: used instead of a benchmark's when larger "
            "(stricter), never when smaller (core.small_cells)"
        ),
    )
    hub_mirror: Path | None = Field(
        default=None,
        description=(
            "The local mirror of hub repositories (huggingface_hub's cache layout) that "
            "models registered with --hub are read from and checked against"
        ),
    )
    environments: Path | None = Field(
        default=None,
        description=(
            "A folder of cubes' Python environments shared by this machine's workspaces "
            "(yours only: owned by you, writable by nobody else); unset: each workspace "
            "builds its own under environments/"
        ),
    )
    attestation_command: str | None = Field(
        default=None,
        description=(
            "The command that prints attestation evidence for a model whose key is released "
            "`attested`: run with the model id and the server's nonce as its last two "
            "arguments (docs/confidential-computing.md); unset: such a model's key is not "
            "asked for"
        ),
    )
    device_root: Path = Field(
        default=Path("/dev"),
        description="Where `medval run --gpus` looks for NVIDIA device files",
    )
    progress: ProgressLines = Field(
        default=ProgressLines.AUTO,
        description=(
            "Progress lines of long steps (hashing, preparing, loading images, transfers, "
            "runs) on stderr: auto (on a terminal only, never in a pipe or a log), always, "
            "or never (as `medval --quiet`); errors and results print either way"
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, given: Any) -> Any:
        """Each field not given, from ``MEDVAL_<FIELD>`` in any case (as pydantic-settings
        read it with ``env_prefix="MEDVAL_"``): validated like a given value."""
        if not isinstance(given, dict):
            return given
        environment = {name.lower(): value for name, value in os.environ.items()}
        found = {
            field: environment[f"{ENV_PREFIX}{field}".lower()]
            for field in cls.model_fields
            if field not in given and f"{ENV_PREFIX}{field}".lower() in environment
        }
        return {**found, **given}


def tls_verify(settings: ClientSettings) -> ssl.SSLContext | bool:
    """What the HTTP client checks the server's certificate against: the pinned CA
    (``ca_bundle``) if one is set, else the system's CAs (True)."""
    if settings.ca_bundle is None:
        return True
    import ssl  # here: a command that reaches no server (results list --local) needs none

    try:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror or str(exc)
        raise InvalidInput(f"cannot use the CA bundle {settings.ca_bundle}: {reason}") from None


class StoredLogin(BaseModel):
    server: str
    username: str
    token: str
    expires_at: datetime


def credentials_path(settings: ClientSettings) -> Path:
    return settings.home / "credentials.json"


def save_login(settings: ClientSettings, login: StoredLogin) -> None:
    """Keep the token readable by this account only (0600, an existing file too)."""
    path = credentials_path(settings)
    if not path.parent.exists():  # a client folder made here is owner-only, as doctor asks
        private_folder(path.parent)
    try:
        write_private(path, login.model_dump_json(indent=2))
    except OSError as exc:  # a link in its place (never followed), a folder, no space
        raise InvalidInput(
            f"cannot write {path}: {exc.strerror}; remove it and log in again"
        ) from None


def load_login(settings: ClientSettings) -> StoredLogin | None:
    path = credentials_path(settings)
    if not path.is_file():
        return None
    make_private(path)  # a file left readable by others (an older medval, a copy) is tightened
    try:
        return StoredLogin.model_validate(load_json(path.read_text()))
    except (ValueError, ValidationError) as exc:
        raise InvalidInput(f"{path} is damaged; run 'medval logout' and log in again") from exc


def forget_login(settings: ClientSettings) -> bool:
    path = credentials_path(settings)
    if path.is_file():
        path.unlink()
        return True
    return False


def require_login(settings: ClientSettings) -> StoredLogin:
    """The stored login, or a clear error saying how to log in."""
    login = load_login(settings)
    if login is None:
        raise NotAuthenticated("not logged in; run 'medval login --server URL --username NAME'")
    if login.expires_at <= datetime.now(UTC):
        raise NotAuthenticated(f"your session on {login.server} has expired; run 'medval login'")
    return login
