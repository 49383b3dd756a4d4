"""A browser for the page tests: its own cookie jar on the same app (so one test can
hold several people's sessions), and the forms filled as a person would fill them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from .conftest import PASSWORD, Api


def text(html: str) -> str:
    """The page's words, tags removed and spaces joined (what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def csrf(html: str, form_id: str | None = None) -> str:
    """The CSRF field of the page's form ``form_id`` (else the first form that has one)."""
    start = html.index(f'id="{form_id}"') if form_id else 0
    found = re.search(r'name="csrf" value="([^"]*)"', html[start:])
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


@dataclass
class Browser:
    client: TestClient

    @classmethod
    def on(cls, api: Api, base_url: str = "http://testserver") -> Browser:
        # The app is already started by the api fixture's client; this one shares it.
        return cls(TestClient(api.client.app, base_url=base_url, follow_redirects=False))

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, str], **kw: Any) -> httpx.Response:
        return self.client.post(path, data=data, **kw)

    def login_form(self, path: str = "/login") -> tuple[str, str]:
        """The login page's CSRF token (its cookie now in the jar) and its html."""
        page = self.get(path)
        assert page.status_code == 200, page.text
        return csrf(page.text, "login-form"), page.text

    def log_in(
        self, name: str, password: str = PASSWORD, next_path: str | None = None
    ) -> httpx.Response:
        token, _ = self.login_form()
        form = {"csrf": token, "username": name, "password": password}
        if next_path is not None:
            form["next"] = next_path
        return self.post("/login", form)

    def logged_in(self, name: str) -> Browser:
        response = self.log_in(name)
        assert response.status_code == 303, response.text
        return self

    def page_csrf(self, path: str = "/inbox") -> str:
        """The session's CSRF token, from a page's logout form."""
        page = self.get(path)
        assert page.status_code == 200, page.text
        return csrf(page.text)


def problem(html: str) -> str:
    """The one line a refusal page says."""
    found = re.search(r'id="problem">([^<]*)</p>', html)
    assert found is not None, "not a refusal page"
    return found.group(1)
