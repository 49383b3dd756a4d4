"""A data owner in Chromium, in ``medval console``: opens the address the terminal
printed, reviews what will run and its hashes, runs it, watches the page follow the run
to its end, reads the exact payload, uploads it, and finds each step in the audit log;
the server then holds the result. The same on a phone-sized screen, by keyboard."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from medval.client.local_session import logged_in_client
from medval.client.settings import ClientSettings
from medval.console.app import create_app
from medval.console.session import LOOPBACK, ConsoleDoor
from medval.core.documents import ResultDocument
from tests.console.conftest import Waiting, waiting  # noqa: F401 (a fixture, used by name)
from tests.e2e.conftest import people, server  # noqa: F401 (fixtures, used by name)
from tests.e2e.people import Person

from .conftest import PHONE, fits_the_width, screenshot

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def console(people: dict[str, Person]) -> Iterator[ConsoleDoor]:  # noqa: F811
    """hospital-a's console, served on loopback as ``medval console`` serves it."""
    settings = ClientSettings(home=people["hospital-a"].home)
    sock = socket.socket()
    sock.bind((LOOPBACK, 0))
    door = ConsoleDoor(sock.getsockname()[1])
    served = uvicorn.Server(uvicorn.Config(create_app(settings, door), log_level="warning"))
    thread = threading.Thread(target=served.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.02)
    yield door
    served.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def owner(chromium: Browser) -> Iterator[Page]:
    """The data owner's browser on a phone-sized screen (the console reads on one too)."""
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def test_a_data_owner_runs_and_uploads_from_the_console(
    console: ConsoleDoor,
    owner: Page,
    waiting: Waiting,  # noqa: F811
    people: dict[str, Person],  # noqa: F811
) -> None:
    base = f"http://{LOOPBACK}:{console.port}"
    # Without the printed address, nothing.
    refused = owner.goto(base + "/")
    assert refused is not None and refused.status == 401
    expect(owner.get_by_text("Use the address that medval console printed")).to_be_visible()
    owner.goto(console.address)
    expect(owner).to_have_url(base + "/")  # the token left the address bar
    pending = owner.get_by_role("main")
    expect(pending).to_contain_text("console-model on console-site")
    expect(pending).to_contain_text("model hash")
    expect(pending).to_contain_text("dataset hash")
    assert fits_the_width(owner)
    screenshot(owner, "console-pending")
    # By keyboard: focus the Run button and press Enter.
    run = owner.get_by_role("button", name="Run")
    run.focus()
    expect(run).to_be_focused()
    owner.keyboard.press("Enter")
    expect(owner).to_have_url(f"{base}/runs/{waiting.key}")
    # The page refreshes itself (no script) until the run ends; the log fills meanwhile.
    expect(owner.locator("#status")).to_have_text("succeeded", timeout=120_000)
    expect(owner.locator("pre.log")).not_to_be_empty()
    screenshot(owner, "console-run-done")
    owner.get_by_role("link", name="Review the result and its payload").click()
    payload = json.loads(owner.locator("#payload").inner_text())
    assert payload["document"]["metrics"]["auroc"]["value"] == 0.71
    assert "predictions" not in json.dumps(payload)  # aggregates only
    screenshot(owner, "console-payload")
    owner.get_by_role("button", name="Upload").click()
    expect(owner.locator("#upload-state")).to_contain_text("uploaded as result")
    server_id = int(owner.locator("#upload-state").inner_text().split()[3])
    # The server holds exactly what the page showed.
    with logged_in_client(ClientSettings(home=people["committee"].home)) as committee:
        stored = committee.result(server_id)
    assert stored.document == ResultDocument.model_validate(payload["document"])
    owner.get_by_role("link", name="Audit log").click()
    actions = owner.locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert actions[:3] == ["execution.upload", "execution.succeeded", "execution.approve"]
    screenshot(owner, "console-audit-log")
