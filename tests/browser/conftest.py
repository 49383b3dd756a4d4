"""The browser tests: Playwright drives Debian's Chromium (``/usr/bin/chromium``, which
``make test`` installs when missing) against a real medval server on loopback.

Every test here is marked ``browser`` (``pytest -m browser`` runs them alone). Each
writes screenshots of the pages it walks to ``$MEDVAL_ARTIFACTS`` (default
``test-artifacts/``, beside the tests' working directory) for a reviewer to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings
from tests.server.conftest import HTTP_TIMEOUT, Api

CHROMIUM = Path("/usr/bin/chromium")
# As root there is no user namespace sandbox for Chromium's renderers; the network
# flags keep it from calling Google's services, which this machine's closed network
# refuses many at a time.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(os.environ.get("MEDVAL_ARTIFACTS", "test-artifacts")) / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
    yield browser
    browser.close()


@dataclass
class Site:
    """A live medval server and factories that fill it through its API."""

    url: str
    api: Api


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = ServerSettings(
        data_dir=tmp_path / "server", port=0, password_hash_profile="test_only_cheapest"
    )
    with (
        BackgroundServer(settings) as server,
        httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as http,
    ):
        yield Site(server.url, Api(http, settings))


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """The whole page as ``<name>.png`` among the test artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fits_the_width(page: Page) -> bool:
    """Nothing on the page is wider than its viewport (no sideways scrolling)."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    return viewport is not None and width <= viewport["width"]
