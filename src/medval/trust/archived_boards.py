"""A closed phase's archived leaderboard (issue 19): the canonical form it is stored in,
and its content hash, which anyone holding the board can recompute.

The board is a ``LeaderboardPublic`` with ``archived_hash`` null, through pydantic's JSON
(NaN and infinities become null, as the API sends them), in RFC 8785 canonical JSON; its
hash is the sha256 of that (:func:`medval.trust.audit_chain.content_hash`), as every
content hash of the server. Imports only the core and the audit chain's hashing.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from medval.core.result_schemas import LeaderboardPublic
from medval.trust.audit_chain import content_hash


def archived_document(board: LeaderboardPublic) -> Any:
    """The board as a JSON value, as archived (its ``archived_hash`` left out)."""
    return json.loads(board.model_copy(update={"archived_hash": None}).model_dump_json())


def board_hash(board: LeaderboardPublic) -> str:
    """The content hash of a board as archived: what ``PhasePublic.board_hash`` holds."""
    return content_hash(archived_document(board))


def archive_form(board: LeaderboardPublic) -> tuple[str, str]:
    """The board as stored when its phase closes (canonical JSON text), and its hash."""
    document = archived_document(board)
    return rfc8785.dumps(document).decode(), content_hash(document)
