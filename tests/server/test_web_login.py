"""Logging in and out of the pages (``server/web/login``): the same accounts, login guard
and tokens as the CLI; a strict, script-proof session cookie; forms that only medval's
own pages can submit (CSRF); no open redirect; logging out ends the token for good."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from medval.core.api import PREFIX
from medval.core.errors import InvalidInput
from medval.server.app import create_app
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings

from .conftest import PASSWORD, Api, Clock
from .test_api_leaderboard import _federation
from .web_browser import Browser, csrf, problem, text

REFUSED = "This form has expired or did not come from medval; reload the page and try again."


def _cookie_header(response_headers: list[str], name: str) -> str:
    found = [h for h in response_headers if h.startswith(f"{name}=")]
    assert len(found) == 1, response_headers
    return found[0]


def _me(api: Api, token: str) -> tuple[int, str]:
    response = api.client.get(PREFIX + "/users/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.text


def test_logging_in_sets_a_strict_http_only_session_cookie(api: Api) -> None:
    api.user("hospital")
    browser = Browser.on(api)
    response = browser.log_in("hospital")
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"
    cookie = _cookie_header(response.headers.get_list("set-cookie"), "medval_session")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    assert "secure" not in attributes  # this request came over plain http
    # The cookie holds the same kind of token the CLI gets: the API takes it too.
    token = browser.client.cookies["medval_session"]
    assert _me(api, token)[0] == 200
    mine = browser.get("/mine")
    assert mine.status_code == 200
    assert "Logged in as hospital" in text(mine.text)
    assert 'id="log-out"' in mine.text
    # The header's nav says where one is.
    assert '<a href="/mine" id="nav-mine" aria-current="page">Mine</a>' in mine.text
    assert 'id="nav-inbox" aria-current' not in mine.text


def test_over_https_the_session_cookie_is_secure(api: Api) -> None:
    api.user("hospital")
    response = Browser.on(api, "https://testserver").log_in("hospital")
    assert response.status_code == 303
    cookie = _cookie_header(response.headers.get_list("set-cookie"), "medval_session")
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_the_login_form_labels_every_field(api: Api) -> None:
    _, html = Browser.on(api).login_form()
    for field in ("username", "password"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert '<button type="submit" id="log-in">Log in</button>' in html


def test_a_wrong_password_shows_the_form_again_with_the_services_message(api: Api) -> None:
    api.user("hospital")
    browser = Browser.on(api)
    response = browser.log_in("hospital", "not-the-password")
    assert response.status_code == 401
    assert "wrong username or password" in text(response.text)
    assert 'value="hospital"' in response.text  # the name is kept, the password is not
    assert "medval_session" not in browser.client.cookies
    # The form shown again can be sent again.
    again = browser.post(
        "/login",
        {"csrf": csrf(response.text, "login-form"), "username": "hospital", "password": PASSWORD},
    )
    assert again.status_code == 303


def test_the_login_guard_answers_the_page_too(api: Api) -> None:
    api.user("hospital")
    browser = Browser.on(api)
    for _ in range(api.settings.login_max_failures):
        assert browser.log_in("hospital", "wrong").status_code == 401
    response = browser.log_in("hospital")  # even the right password, for now
    assert response.status_code == 429
    assert "too many failed logins for this account; try again in" in text(response.text)
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "wanted",
    [
        "https://evil.example/inbox",
        "//evil.example/inbox",
        "/\\evil.example/inbox",
        "javascript:alert(1)",
        "inbox",
        "",
    ],
)
def test_after_login_only_a_local_path_is_followed(api: Api, wanted: str) -> None:
    api.user("hospital")
    response = Browser.on(api).log_in("hospital", next_path=wanted)
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"


def test_after_login_a_local_path_is_followed(api: Api) -> None:
    api.user("hospital")
    browser = Browser.on(api)
    _, html = browser.login_form("/login?next=/mine")
    assert 'name="next" value="/mine"' in html
    _, refused = browser.login_form("/login?next=//evil.example")
    assert 'name="next" value="/inbox"' in refused
    response = browser.log_in("hospital", next_path="/mine")
    assert response.headers["location"] == "/mine"


def test_a_login_without_its_csrf_pair_is_refused(api: Api) -> None:
    api.user("hospital")
    visitor = Browser.on(api)
    token, _ = visitor.login_form()
    fields = {"username": "hospital", "password": PASSWORD}
    # No token; a wrong one; the right one from a browser without the matching cookie.
    for browser, form in (
        (visitor, fields),
        (visitor, fields | {"csrf": "0" * 64}),
        (Browser.on(api), fields | {"csrf": token}),
    ):
        response = browser.post("/login", form)
        assert response.status_code == 403
        assert problem(response.text) == REFUSED
        assert "medval_session" not in browser.client.cookies


def test_a_login_from_another_origin_is_refused(api: Api) -> None:
    api.user("hospital")
    browser = Browser.on(api)
    token, _ = browser.login_form()
    form = {"csrf": token, "username": "hospital", "password": PASSWORD}
    response = browser.post("/login", form, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert problem(response.text) == REFUSED
    assert "medval_session" not in browser.client.cookies
    # "null" (what a browser says under "Referrer-Policy: no-referrer", or from a
    # sandboxed frame) is not medval's origin either.
    response = browser.post("/login", form, headers={"Origin": "null"})
    assert response.status_code == 403
    # Its own origin is fine.
    own = browser.post("/login", form, headers={"Origin": "http://testserver"})
    assert own.status_code == 303


def test_pages_send_their_address_to_no_other_site(api: Api) -> None:
    # Not "no-referrer": under it Chromium sends "Origin: null" with every form post,
    # which the origin check refuses (found driving the login form in Chromium).
    for path in ("/", "/login"):
        assert api.client.get(path).headers["referrer-policy"] == "same-origin"


def test_logging_out_revokes_the_token(api: Api) -> None:
    api.user("hospital")
    browser = Browser.on(api).logged_in("hospital")
    token = browser.client.cookies["medval_session"]
    response = browser.post("/logout", {"csrf": browser.page_csrf("/mine")})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "medval_session" not in browser.client.cookies
    status, body = _me(api, token)
    assert status == 401 and "unknown or revoked token; log in again" in body
    # The old cookie, sent again, is a visitor's: off to the login page, and cleared.
    thief = Browser.on(api)
    thief.client.cookies.set("medval_session", token, domain="testserver.local")
    mine = thief.get("/mine")
    assert (mine.status_code, mine.headers["location"]) == (303, "/login?next=/mine")
    assert "medval_session" not in thief.client.cookies
    thief.client.cookies.set("medval_session", token, domain="testserver.local")
    home = thief.get("/")
    assert home.status_code == 200 and 'id="log-in-link"' in home.text
    assert "medval_session" not in thief.client.cookies


def test_a_logout_without_its_csrf_token_changes_nothing(api: Api) -> None:
    api.user("hospital")
    browser = Browser.on(api).logged_in("hospital")
    token = browser.client.cookies["medval_session"]
    for form in ({}, {"csrf": "0" * 64}):
        response = browser.post("/logout", form)
        assert response.status_code == 403
        assert problem(response.text) == REFUSED
    response = browser.post(
        "/logout", {"csrf": browser.page_csrf()}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert _me(api, token)[0] == 200
    assert browser.get("/mine").status_code == 200


def test_an_expired_session_is_a_visitor_not_an_error(api: Api, clock: Clock) -> None:
    api.user("hospital")
    browser = Browser.on(api).logged_in("hospital")
    clock.advance(hours=api.settings.token_ttl_hours + 1)
    home = browser.get("/")
    assert home.status_code == 200
    assert 'id="log-in-link"' in home.text and "Logged in as" not in home.text
    assert "medval_session" not in browser.client.cookies


def test_a_visitor_reads_a_public_benchmark_without_logging_in(api: Api) -> None:
    fed = _federation(api, "public")
    page = Browser.on(api).get(f"/benchmarks/{fed['benchmark']['id']}")
    assert page.status_code == 200
    assert "Ranked by auroc (higher is better)" in text(page.text)
    assert 'href="/login"' in page.text


def test_pages_still_take_a_bearer_token(api: Api) -> None:
    hospital = api.user("hospital")
    page = Browser.on(api).get("/mine", headers=hospital.headers)
    assert page.status_code == 200
    assert "Logged in as hospital" in text(page.text)


def test_a_form_on_screen_still_works_after_the_server_restarts(
    api: Api, settings: ServerSettings, clock: Clock
) -> None:
    api.user("hospital")
    browser = Browser.on(api).logged_in("hospital")
    form = browser.page_csrf()
    key = settings.data_dir / "form-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # the key is its owner's alone
    with TestClient(create_app(settings, clock=clock), follow_redirects=False) as restarted:
        restarted.cookies.update(browser.client.cookies)
        response = restarted.post("/logout", data={"csrf": form})
    assert response.status_code == 303, response.text


def test_a_damaged_form_key_stops_the_start_in_one_line_and_stays(
    settings: ServerSettings,
) -> None:
    key = settings.data_dir / "form-key"
    key.write_bytes(b"short")
    with pytest.raises(InvalidInput) as refused:
        BackgroundServer(settings.model_copy(update={"port": 0})).start()
    assert refused.value.message == f"{key} is not a form key of 32 bytes; remove it and restart"
    assert key.read_bytes() == b"short"


def test_building_the_app_makes_no_key(tmp_path: Path) -> None:
    """As `test_api_openapi` builds it (no data folder meant): no key is written."""
    create_app(ServerSettings(data_dir=tmp_path / "nowhere", database_url="sqlite://"))
    assert not (tmp_path / "nowhere" / "form-key").exists()
