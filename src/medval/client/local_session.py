"""What every face on the data owner's machine builds from the settings: the client
logged in as the stored account, the executor that runs cubes in the sandbox (with the
private models' keys this account may have: ``client.released_model_keys``), and the
local audit log (the CLI and ``medval console`` build them here, the same way).

Imports: the client's settings and HTTP client; the workspace, executor, audit log and
runner registry where they are built (a command that runs no cube, ``medval whoami``,
starts without the runners: issue 14).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medval.client.http import MedvalClient
from medval.client.settings import ClientSettings, load_login, require_login, tls_verify

if TYPE_CHECKING:
    from medval.client.audit_log import LocalAuditLog
    from medval.client.execution import Executor, Progress
    from medval.client.transfers import TransferReport


def logged_in_client(
    settings: ClientSettings, transfer_report: TransferReport | None = None
) -> MedvalClient:
    """A client logged in as the stored account (one line saying how to log in, if not)."""
    login = require_login(settings)
    return MedvalClient(
        login.server,
        login.token,
        timeout=settings.http_timeout_seconds,
        transfer_report=transfer_report,
        verify=tls_verify(settings),
    )


def actor(settings: ClientSettings) -> str:
    """Who the local audit log records: the account logged in here."""
    login = load_login(settings)
    return login.username if login else "(not logged in)"


def local_audit_log(settings: ClientSettings) -> LocalAuditLog:
    from medval.client.audit_log import LocalAuditLog
    from medval.client.workspace import Workspace

    return LocalAuditLog(Workspace.of(settings).audit_dir, actor(settings))


def local_executor(
    settings: ClientSettings, client: MedvalClient, progress: Progress | None = None
) -> Executor:
    """Runs cube tasks in this workspace, in the sandbox and within the limits set here."""
    from medval.client.execution import Executor
    from medval.client.model_keys import ModelKeySource, NoModelKeys
    from medval.client.released_model_keys import MachineModelKeys
    from medval.client.workspace import Workspace
    from medval.runner.interface import Limits
    from medval.runner.registry import runner_for

    login = load_login(settings)
    # The private models this account registered here (their keys stay here), and the
    # keys released to it as a site (fetched and unwrapped just before the task).
    model_keys: ModelKeySource = (
        MachineModelKeys(client, settings, login.username) if login else NoModelKeys()
    )
    limits = Limits(
        timeout_seconds=settings.task_timeout_seconds,
        memory_bytes=settings.task_memory_mb * 1024 * 1024,
        max_processes=settings.task_max_processes,
        output_bytes=settings.task_output_mb * 1024 * 1024,
    )
    return Executor(
        client,
        Workspace.of(settings),
        runner_for(settings.runner),
        limits,
        progress,
        local_min_cell_count=settings.min_cell_count,
        actor=actor(settings),
        hub_mirror=settings.hub_mirror,
        model_keys=model_keys,
    )
