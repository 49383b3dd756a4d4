"""The audit-trail cases of a phase's quotas, its priorities and the entry that counts
(issue 19; see ``test_audit_trail``): each a successful call, made ready in the ``world``
fixture."""

from __future__ import annotations

from typing import Any

from tests.server.audit_change import Case, Change
from tests.server.conftest import Api

from medval.core import api as routes


def _quotas_path(w: dict[str, Any]) -> str:
    return routes.PHASE_QUOTAS.format(benchmark_id=w["benchmark"]["id"], name="main")


def _set_quotas(api: Api, w: dict[str, Any]) -> Change:
    body = {"max_models_per_owner": 2, "max_executions_per_site_per_day": 100}
    return Change("bench", "phase", lambda: w["bench"].put(_quotas_path(w), body))


def _set_priorities(api: Api, w: dict[str, Any]) -> Change:
    path = routes.MODEL_PRIORITIES.format(benchmark_id=w["benchmark"]["id"])
    body = {"model_ids": [w["model"]["id"]]}
    return Change("bench", "phase", lambda: w["bench"].put(path, body))


def _choose_entry(api: Api, w: dict[str, Any]) -> Change:
    w["bench"].ok("put", _quotas_path(w), {"max_models_per_owner": 2})
    path = routes.COUNTING_ENTRY.format(benchmark_id=w["benchmark"]["id"])
    body = {"model_id": w["model"]["id"]}
    return Change("vendor", "counting_entry", lambda: w["vendor"].put(path, body))


QUOTA_CASES: dict[tuple[str, str], Case] = {
    ("PUT", routes.PHASE_QUOTAS): _set_quotas,
    ("PUT", routes.MODEL_PRIORITIES): _set_priorities,
    ("PUT", routes.COUNTING_ENTRY): _choose_entry,
}
