"""Uploading one reviewed result, and settling an upload whose answer was lost.

The server stores one result per execution (benchmark, model, dataset). When it has
committed an upload but its answer never reached the client (the connection broke, the
client was killed), the result still looks unsent here, and uploading it again gets
``Conflict``. Then the client asks the server for the result it holds for that
execution: when it is this very result (the same status, document or failure, and
provenance) it is marked sent here under the server's id; when it is another, the
conflict is explained in one line and the local result stays unsent.

Imports: the HTTP client, the workspace, the upload payload (``client.runs``), the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medval.client.http import MedvalClient
from medval.client.runs import upload_payload
from medval.client.workspace import LocalResult, Workspace
from medval.core.errors import Conflict
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
