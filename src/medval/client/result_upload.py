"""Uploading one reviewed result, and settling an upload whose answer was lost.

The server stores one result per execution (benchmark, model, dataset). When it has
committed an upload but its answer never reached the client (the connection broke, the
client was killed), the result still looks unsent here, and uploading it again gets
``Conflict``. Then the client asks the server for the result it holds for that
execution: when it is this very result (the same status, document or failure, and
provenance) it is marked sent here under the server's id; when it is another, the
conflict is explained in one line and the local result stays unsent.

``local_results_to_upload`` picks what the data owner reviews (one result by its key,
or every one not sent yet), and ``upload_reviewed`` sends one after their approval and
records it in the local audit log: the CLI and ``medval console`` call the same two.

Imports: the HTTP client, the workspace, the settings and signing key, the local audit
log, the upload payload (``client.runs``), the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medval.client.audit_log import LocalAuditLog, record
from medval.client.http import MedvalClient
from medval.client.runs import upload_payload
from medval.client.settings import ClientSettings, require_login
from medval.client.signing import require_signing_key
from medval.client.workspace import LocalResult, Workspace
from medval.core.errors import Conflict, NotFound
from medval.core.result_schemas import ResultCreate, ResultPublic
from medval.trust.keys import SigningKey

# What makes two uploads the same result (the time it ran is not compared: the server
# may keep it at another precision).
_COMPARED = ("status", "document", "failure", "provenance")


@dataclass(frozen=True)
class Sent:
    """A result marked sent here: ``server_id`` is its id on the server; ``settled`` says
    the server held it already (an earlier upload's answer was lost)."""

    result: LocalResult
    server_id: int
    settled: bool = False


def local_result_to_upload(workspace: Workspace, key: str) -> LocalResult:
    """The local result ``key``, not uploaded yet (else one line saying why not)."""
    result = workspace.result(key)
    if result is None:
        raise NotFound(f"no local result {key!r}; see 'medval results list --local'")
    if result.uploaded_at is not None:
        raise Conflict(f"result {key} was already uploaded (as {result.server_id})")
    return result


def local_results_to_upload(
    workspace: Workspace, benchmark_id: int | None = None
) -> list[LocalResult]:
    """Every local result not uploaded yet (of one benchmark, when given)."""
    return [
        r
        for r in workspace.results()
        if r.uploaded_at is None and benchmark_id in (None, r.benchmark_id)
    ]


def upload_signer(settings: ClientSettings) -> SigningKey:
    """The logged-in account's signing key on this machine, which signs every upload."""
    return require_signing_key(settings, require_login(settings).username)


def upload_reviewed(
    client: MedvalClient,
    workspace: Workspace,
    audit: LocalAuditLog,
    result: LocalResult,
    signer: SigningKey,
) -> Sent:
    """Send ``result`` once its data owner has seen its payload and approved it; the
    local audit log records the upload with the hash of that payload."""
    sent = send_result(client, workspace, result, signer)
    record(audit, "upload", "execution", result.key, upload_payload(result, signer))
    return sent


def send_result(
    client: MedvalClient, workspace: Workspace, result: LocalResult, signer: SigningKey
) -> Sent:
    """Upload ``result`` (already reviewed and approved), signed by ``signer``, and mark it
    sent here."""
    payload = upload_payload(result, signer)
    try:
        uploaded = client.upload_result(payload)
    except Conflict:
        held = held_result(client, result)
        if held is None:
            raise
        different = differences(payload, held)
        if different:
            raise Conflict(
                f"the server holds another result for {result.key} (result {held.id}, "
                f"uploaded {held.created_at:%Y-%m-%d %H:%M}); it differs from this one in "
                f"its {' and '.join(different)}; this one stays unsent here"
            ) from None
        return Sent(workspace.mark_uploaded(result, held.id), held.id, settled=True)
    return Sent(workspace.mark_uploaded(result, uploaded.id), uploaded.id)


def held_result(client: MedvalClient, result: LocalResult) -> ResultPublic | None:
    """The result the server holds for the same execution, if this account can see it."""
    found = client.results(
        benchmark_id=result.benchmark_id, model_id=result.model_id, dataset_id=result.dataset_id
    )
    return next(
        (
            r
            for r in found
            if (r.benchmark_id, r.model_id, r.dataset_id)
            == (result.benchmark_id, result.model_id, result.dataset_id)
        ),
        None,
    )


def differences(payload: ResultCreate, held: ResultPublic) -> list[str]:
    """Which of the compared fields differ between an upload and the server's record."""
    mine, theirs = _compared(payload), _compared(held)
    return [field for field in _COMPARED if mine[field] != theirs[field]]


def _compared(record: ResultCreate | ResultPublic) -> dict[str, Any]:
    return record.model_dump(mode="json", include=set(_COMPARED))
