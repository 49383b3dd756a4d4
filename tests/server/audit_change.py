"""One case of the audit-trail test (``test_audit_trail``): a call that should succeed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from tests.server.conftest import Api


@dataclass
class Change:
    """A call that should succeed, who makes it, and the kind of entity it changes."""

    actor: str
    entity_kind: str
    call: Callable[[], httpx.Response]


Case = Callable[[Api, dict[str, Any]], Change]
