"""The schema tells the truth: schemathesis calls every route (a few examples each) as an
anonymous caller, a data owner and an admin, against the real app on a real database;
no answer is a 5xx, and every answer (status, content type, body, headers) is one the
OpenAPI document lists."""

from __future__ import annotations

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

# serial: on pytest-xdist's workers only 3 of the 288 route cases schemathesis makes are
# reported (make unit runs this module in its serial lane, in one process).
pytestmark = pytest.mark.serial


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


def _check(case: Case, app: Any, headers: dict[str, str] | None = None) -> None:
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
    # The callers' own accounts stay usable for the routes that come after: a fuzzed
    # password change, disabling or revocation of tokens aims at other accounts here
    # (tests/server/test_api_account_changes.py tries those on oneself).
    people = {world[who].id for who in ("hospital", "root")}
    assume((case.path_parameters or {}).get("user_id") not in people)
    if case.operation.method.upper() == "DELETE" and case.operation.path.endswith(TOKEN):
        return {"Authorization": f"Bearer {api.login(name).json()['token']}"}
    headers: dict[str, str] = world[name].headers
    return headers


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One app and one ``world`` for the whole module: building them for each route and
    caller would take most of the time. What the examples add to it does not matter."""
    # Fuzzed logins fail often: no lock-out of the callers' accounts in this module.
    settings = migrated_settings(tmp_path_factory.mktemp("schema")).model_copy(
        update={"login_max_failures": 1_000_000}
    )
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
