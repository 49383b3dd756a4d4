"""The OpenAPI document lists every answer a route gives, and the answers keep to it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from medval.core.api import PREFIX
from medval.server.app import create_app
from medval.server.settings import ServerSettings

from .conftest import Api

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


def _document() -> dict[str, Any]:
    return create_app(ServerSettings(database_url="sqlite://")).openapi()


def test_each_route_lists_its_errors_with_the_error_body() -> None:
    paths = _document()["paths"]

    def statuses(method: str, path: str) -> list[str]:
        return sorted(paths[PREFIX + path][method]["responses"])

    assert statuses("get", "/health") == ["200"]
    assert statuses("post", "/auth/token") == ["200", "401", "413", "422", "429", "503"]
    assert statuses("get", "/users/me") == ["200", "401"]
    assert statuses("post", "/associations") == ["201", "401", "403", "404", "409", "413", "422"]
    assert statuses("get", "/blobs/{sha256}") == ["200", "206", "401", "404", "422"]
    for operations in paths.values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"] == ERROR, (operation["operationId"], status)


def test_anonymous_callers_are_documented_where_they_are_welcome() -> None:
    paths = _document()["paths"]
    assert paths[f"{PREFIX}/benchmarks"]["get"]["security"] == [{"HTTPBearer": []}, {}]
    assert paths[f"{PREFIX}/benchmarks"]["post"]["security"] == [{"HTTPBearer": []}]
    blob = paths[f"{PREFIX}/blobs/{{sha256}}"]["get"]["responses"]["200"]["content"]
    assert list(blob) == ["application/octet-stream"]


def test_a_method_a_path_does_not_serve_names_those_it_does(client: TestClient) -> None:
    response = client.patch(f"{PREFIX}/auth/token")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, POST"
    assert response.json()["error"] == {
        "code": "method_not_allowed",
        "message": "Method Not Allowed",
    }


def test_a_body_that_is_not_even_utf8_is_invalid_input(client: TestClient) -> None:
    response = client.post(
        f"{PREFIX}/auth/token",
        content=b'{"a": "\x80\x81"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "request body: There was an error parsing the body",
    }


def test_whether_an_account_is_an_admin_is_true_or_false_not_a_number(api: Api) -> None:
    root = api.admin("root")
    response = root.post("/users", {"username": "eve", "password": "long enough", "is_admin": 1})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "body.is_admin: Input should be a valid boolean",
    }
