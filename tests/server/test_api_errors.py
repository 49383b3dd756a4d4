"""Every error has the same envelope; nothing unexpected leaks a traceback."""

from __future__ import annotations

from fastapi.testclient import TestClient

from medval import __version__
from medval.core.api import PREFIX
from medval.server.app import create_app
from medval.server.settings import ServerSettings

from .conftest import Api


def test_health_needs_no_login(client: TestClient) -> None:
    assert client.get(PREFIX + "/health").json() == {"status": "ok", "version": __version__}


def test_unknown_route_and_method_use_the_error_envelope(client: TestClient) -> None:
    missing = client.get(PREFIX + "/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = client.patch(PREFIX + "/health")
    assert wrong_method.status_code == 405
    assert set(wrong_method.json()["error"]) == {"code", "message"}


def test_malformed_json_and_bad_query_are_invalid_input(api: Api) -> None:
    alice = api.user("alice")
    broken = api.client.post(
        PREFIX + "/cubes",
        headers=alice.headers | {"content-type": "application/json"},
        content=b"{not json",
    )
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_input"
    query = alice.get("/cubes", params={"kind": "spaceship"})
    assert query.status_code == 422
    assert query.json()["error"]["message"].startswith("query.kind: Input should be")
    path = alice.get("/cubes/not-a-number")
    assert path.json()["error"]["message"].startswith("path.cube_id:")


def test_extra_fields_are_refused(api: Api) -> None:
    alice = api.user("alice")
    response = alice.post(
        "/cubes", {"name": "x", "kind": "model", "archive_hash": "a" * 64, "x": 1}
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "body.x: Extra inputs are not permitted"


def test_unexpected_errors_are_500_without_a_traceback(settings: ServerSettings) -> None:
    app = create_app(settings)

    def explode() -> None:
        raise RuntimeError("secret internals at /srv/db password=hunter2")

    app.add_api_route("/explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/explode")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal server error"}
    }
