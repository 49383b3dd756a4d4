"""The audit-trail cases of a benchmark's phases (issue 19; see ``test_audit_trail``): a
phase added, its dates changed, closed; each a successful call, made ready in the
``world`` fixture."""

from __future__ import annotations

from typing import Any

from tests.server.audit_change import Case, Change
from tests.server.conftest import Api

from medval.core import api as routes


def _add_phase(api: Api, w: dict[str, Any]) -> Change:
    path = routes.BENCHMARK_PHASES.format(benchmark_id=w["benchmark"]["id"])
    body = {"name": "before", "opens_at": "2020-01-01T00:00:00Z", "closes_at": "2020-02-01T00:00Z"}
    return Change("bench", "phase", lambda: w["bench"].post(path, body))


def _edit_phase(api: Api, w: dict[str, Any]) -> Change:
    path = routes.BENCHMARK_PHASE.format(benchmark_id=w["benchmark"]["id"], name="main")
    body = {"closes_at": "2030-01-01T00:00:00Z"}
    return Change("bench", "phase", lambda: w["bench"].patch(path, body))


def _close_phase(api: Api, w: dict[str, Any]) -> Change:
    path = routes.BENCHMARK_PHASE_CLOSURE.format(benchmark_id=w["benchmark"]["id"], name="main")
    return Change("bench", "phase", lambda: w["bench"].post(path, {}))


PHASE_CASES: dict[tuple[str, str], Case] = {
    ("POST", routes.BENCHMARK_PHASES): _add_phase,
    ("PATCH", routes.BENCHMARK_PHASE): _edit_phase,
    ("POST", routes.BENCHMARK_PHASE_CLOSURE): _close_phase,
}
