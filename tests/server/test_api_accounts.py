"""Accounts and tokens: login, expiry, revocation, admin-only user management."""

from __future__ import annotations

from fastapi.testclient import TestClient

from medval.core.api import PREFIX

from .conftest import PASSWORD, Api, Clock


def test_login_issues_a_token_that_identifies_the_user(api: Api) -> None:
    alice = api.user("alice")
    me = alice.ok("get", "/users/me")
    assert me["username"] == "alice" and me["is_admin"] is False


def test_wrong_password_and_unknown_user_are_not_authenticated(api: Api) -> None:
    api.user("alice")
    for name, password in (("alice", "wrong-password"), ("nobody", PASSWORD)):
        response = api.login(name, password)
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "not_authenticated",
            "message": "wrong username or password",
        }


def test_missing_and_unknown_tokens_are_refused(client: TestClient) -> None:
    assert client.get(PREFIX + "/users/me").json()["error"]["code"] == "not_authenticated"
    response = client.get(PREFIX + "/users/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert "unknown" in response.json()["error"]["message"]


def test_a_token_expires_after_its_lifetime(api: Api, clock: Clock) -> None:
    alice = api.user("alice")
    clock.advance(hours=11, minutes=59)
    assert alice.get("/users/me").status_code == 200
    clock.advance(minutes=2)
    response = alice.get("/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "token expired; log in again"


def test_logout_revokes_only_that_token(api: Api) -> None:
    alice = api.user("alice")
    other_session = api.login("alice").json()["token"]
    response = api.client.delete(PREFIX + "/auth/token", headers=alice.headers)
    assert response.status_code == 204
    assert alice.get("/users/me").status_code == 401
    headers = {"Authorization": f"Bearer {other_session}"}
    assert api.client.get(PREFIX + "/users/me", headers=headers).status_code == 200


def test_only_admins_manage_users(api: Api) -> None:
    alice = api.user("alice")
    root = api.tokens["root"]
    body = {"username": "mallory", "password": PASSWORD}
    assert alice.post("/users", body).json()["error"]["code"] == "permission_denied"
    assert alice.get("/users").status_code == 403
    names = [u["username"] for u in api.client.get(PREFIX + "/users", headers=root).json()]
    assert names == ["root", "alice"]
    created = api.client.post(PREFIX + "/users", headers=root, json=body | {"is_admin": True})
    assert created.status_code == 201 and created.json()["is_admin"] is True


def test_duplicate_username_is_a_conflict(api: Api) -> None:
    api.user("alice")
    response = api.client.post(
        PREFIX + "/users",
        headers=api.tokens["root"],
        json={"username": "alice", "password": PASSWORD},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_bad_user_bodies_give_one_line_422(api: Api) -> None:
    api.admin("root")
    response = api.client.post(
        PREFIX + "/users",
        headers=api.tokens["root"],
        json={"username": "no spaces", "password": PASSWORD},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message"].startswith("body.username: String should match pattern")
    short = api.client.post(
        PREFIX + "/users", headers=api.tokens["root"], json={"username": "bob", "password": "x"}
    )
    assert short.json()["error"]["message"].startswith("body.password: String should have at")
