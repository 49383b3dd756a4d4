"""Changing a password, disabling an account, revoking every token of an account."""

from __future__ import annotations

from typing import Any

import httpx

from medval.core.api import PREFIX

from .conftest import PASSWORD, Api, User

NEW = "a-new-password-42"
REVOKED = (401, "unknown or revoked token; log in again")


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def _headers(api: Api, name: str, password: str = PASSWORD) -> dict[str, str]:
    response = api.login(name, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _put(api: Api, headers: dict[str, str], path: str, body: Any) -> httpx.Response:
    return api.client.put(PREFIX + path, headers=headers, json=body)


def _me(api: Api, headers: dict[str, str]) -> httpx.Response:
    return api.client.get(PREFIX + "/users/me", headers=headers)


def test_a_user_changes_their_password_with_the_old_one(api: Api) -> None:
    alice = api.user("alice")
    other_session = _headers(api, "alice")
    path = f"/users/{alice.id}/password"
    missing = _put(api, alice.headers, path, {"new_password": NEW})
    assert _error(missing) == (403, "give your old password to change it")
    wrong = _put(api, alice.headers, path, {"new_password": NEW, "old_password": "nope"})
    assert _error(wrong) == (403, "the old password is wrong")
    short = _put(api, alice.headers, path, {"new_password": "short", "old_password": PASSWORD})
    assert _error(short) == (422, "body.new_password: String should have at least 8 characters")
    done = _put(api, alice.headers, path, {"new_password": NEW, "old_password": PASSWORD})
    assert done.status_code == 204
    assert _error(api.login("alice")) == (401, "wrong username or password")
    assert api.login("alice", NEW).status_code == 200
    assert _me(api, alice.headers).status_code == 200  # the session that changed it stays
    assert _error(_me(api, other_session)) == REVOKED  # every other one is revoked


def test_an_admin_sets_another_users_password(api: Api) -> None:
    alice = api.user("alice")
    bob = api.user("bob")
    root = User("root", 1, api)
    set_by_admin = root.put(f"/users/{alice.id}/password", {"new_password": NEW})
    assert set_by_admin.status_code == 204
    assert api.login("alice", NEW).status_code == 200
    assert _error(_me(api, alice.headers)) == REVOKED
    by_bob = bob.put(f"/users/{alice.id}/password", {"new_password": NEW})
    assert _error(by_bob) == (403, "only an admin may do this")
    unknown = root.put("/users/999/password", {"new_password": NEW})
    assert _error(unknown) == (404, "user 999 does not exist")


def test_a_disabled_user_cannot_log_in_and_their_tokens_stop(api: Api) -> None:
    alice = api.user("alice")
    root = User("root", 1, api)
    disabled = root.put(f"/users/{alice.id}/status", {"disabled": True})
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert _error(_me(api, alice.headers)) == REVOKED
    assert _error(api.login("alice")) == (401, "this account is disabled; ask an admin")
    assert _error(api.login("alice", "wrong")) == (401, "wrong username or password")
    listed = {u["username"]: u["disabled"] for u in root.get("/users").json()}
    assert listed == {"root": False, "alice": True}
    enabled = root.put(f"/users/{alice.id}/status", {"disabled": False})
    assert enabled.json()["disabled"] is False
    assert api.login("alice").status_code == 200


def test_only_an_admin_disables_and_never_themself(api: Api) -> None:
    alice = api.user("alice")
    root = User("root", 1, api)
    by_alice = alice.put(f"/users/{root.id}/status", {"disabled": True})
    assert _error(by_alice) == (403, "only an admin may do this")
    self_ = root.put(f"/users/{root.id}/status", {"disabled": True})
    assert _error(self_) == (403, "an admin cannot disable or enable their own account")
    unknown = root.put("/users/999/status", {"disabled": True})
    assert _error(unknown) == (404, "user 999 does not exist")


def test_a_user_revokes_all_their_tokens(api: Api) -> None:
    alice = api.user("alice")
    second = _headers(api, "alice")
    response = api.client.delete(PREFIX + f"/users/{alice.id}/tokens", headers=alice.headers)
    assert response.status_code == 200 and response.json() == {"revoked": 2}
    assert _error(_me(api, alice.headers)) == REVOKED
    assert _error(_me(api, second)) == REVOKED
    assert api.login("alice").status_code == 200  # the account itself still works


def test_an_admin_revokes_another_users_tokens_and_no_one_else_may(api: Api) -> None:
    alice = api.user("alice")
    bob = api.user("bob")
    by_bob = api.client.delete(PREFIX + f"/users/{alice.id}/tokens", headers=bob.headers)
    assert _error(by_bob) == (403, "only an admin may do this")
    root = User("root", 1, api)
    by_root = api.client.delete(PREFIX + f"/users/{alice.id}/tokens", headers=root.headers)
    assert by_root.json() == {"revoked": 1}
    assert _error(_me(api, alice.headers)) == REVOKED
    assert _me(api, root.headers).status_code == 200
