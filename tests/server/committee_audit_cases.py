"""The audit-trail cases of a committee's state-changing routes (issue 19: expected
sites, an account's institution; see ``test_audit_trail``): each a successful call, made
ready in the ``world`` fixture."""

from __future__ import annotations

from typing import Any

from tests.server.audit_change import Case, Change
from tests.server.conftest import Api

from medval.core import api as routes
from medval.core.api import PREFIX


def _expected_sites(w: dict[str, Any]) -> str:
    return routes.BENCHMARK_EXPECTED_SITES.format(benchmark_id=w["benchmark"]["id"])


def _set_institution(api: Api, w: dict[str, Any]) -> Change:
    path = routes.USER_INSTITUTION.format(user_id=w["stranger"].id)
    return Change("root", "user", lambda: w["root"].put(path, {"institution": "St. Mary's"}))


def _expect(api: Api, w: dict[str, Any]) -> Change:
    body = {"kind": "user", "name": "stranger"}
    return Change("bench", "expected_site", lambda: w["bench"].post(_expected_sites(w), body))


def _unexpect(api: Api, w: dict[str, Any]) -> Change:
    w["bench"].ok("post", _expected_sites(w), {"kind": "user", "name": "stranger"})
    url = PREFIX + _expected_sites(w)
    params = {"kind": "user", "name": "stranger"}
    headers = w["bench"].headers
    return Change(
        "bench",
        "expected_site",
        lambda: api.client.delete(url, params=params, headers=headers),
    )


COMMITTEE_CASES: dict[tuple[str, str], Case] = {
    ("PUT", routes.USER_INSTITUTION): _set_institution,
    ("POST", routes.BENCHMARK_EXPECTED_SITES): _expect,
    ("DELETE", routes.BENCHMARK_EXPECTED_SITES): _unexpect,
}
