"""The data owner's whole review in the console, against a real server and a real
sandboxed run (issue 12): the pending execution with its hashes and policy, Run with
its live log, the exact payload, Upload, and the local audit log."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from medval.client.local_session import logged_in_client
from medval.client.result_upload import upload_signer
from medval.client.runs import upload_payload
from medval.client.settings import ClientSettings
from medval.client.workspace import Workspace
from medval.console.app import create_app
from medval.console.session import ConsoleDoor
from tests.console.conftest import Waiting
from tests.e2e.people import Person

pytestmark = [pytest.mark.e2e]

PORT = 8766


@pytest.fixture(scope="module")
def settings(people: dict[str, Person]) -> ClientSettings:
    return ClientSettings(home=people["hospital-a"].home)


@pytest.fixture(scope="module")
def browser(settings: ClientSettings) -> Iterator[TestClient]:
    door = ConsoleDoor(PORT)
    with TestClient(create_app(settings, door), base_url=f"http://127.0.0.1:{PORT}") as client:
        assert client.get(f"/?token={door.token}", follow_redirects=False).status_code == 303
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the page has no form"
    return found.group(1)


def test_the_pending_page_shows_what_will_run_and_every_hash(
    browser: TestClient, settings: ClientSettings, waiting: Waiting
) -> None:
    page = browser.get("/")
    assert page.status_code == 200
    text = page.text
    with logged_in_client(settings) as client:
        hashes = [
            client.cube(i).archive_hash for i in (waiting.model, waiting.prep, waiting.evaluator)
        ]
    dataset = Workspace(settings.home).dataset("console-site")
    for shown in (
        "console-model on console-site",
        f"<dt>execution</dt><dd>{waiting.key}</dd>",
        f"<dt>benchmark</dt><dd>console ({waiting.benchmark})</dd>",
        "<dt>model owner</dt><dd>committee</dd>",
        f'<dt>model hash</dt><dd class="hash">{hashes[0]}</dd>',
        f'<dt>preparation cube hash</dt><dd class="hash">{hashes[1]}</dd>',
        f'<dt>evaluator hash</dt><dd class="hash">{hashes[2]}</dd>',
        f'<dt>dataset hash</dt><dd class="hash">{dataset.data_hash}</dd>',
        "<dt>policy: model owners</dt><dd>any the committee approves</dd>",
        "<dt>policy: runs per model</dt><dd>unlimited</dd>",
        "<dt>state</dt><dd>to run</dd>",
        f'<input type="hidden" name="key" value="{waiting.key}">',
        ">Run</button>",
    ):
        assert shown in text


def test_run_shows_its_log_then_the_exact_payload(
    browser: TestClient, settings: ClientSettings, waiting: Waiting
) -> None:
    csrf = _csrf(browser.get("/").text)
    started = browser.post("/runs", data={"key": waiting.key, "csrf": csrf}, follow_redirects=False)
    assert started.status_code == 303
    assert started.headers["location"] == f"/runs/{waiting.key}"
    deadline = time.monotonic() + 300
    while (
        '<strong id="status">running</strong>'
        in (page := browser.get(started.headers["location"])).text
    ):
        assert '<meta http-equiv="refresh" content="2">' in page.text
        assert time.monotonic() < deadline, page.text
        time.sleep(0.5)
    assert '<strong id="status">succeeded</strong>' in page.text, page.text
    assert "http-equiv" not in page.text
    assert "[1/1] console-model on console-site" in page.text
    assert f"✓ {waiting.key}: result kept here, not uploaded; review it to upload" in page.text
    assert f'<a href="/results/{waiting.key}">' in page.text

    review = browser.get(f"/results/{waiting.key}")
    assert review.status_code == 200
    result = Workspace(settings.home).result(waiting.key)
    assert result is not None
    expected = upload_payload(result, upload_signer(settings))
    shown = re.search(r'<pre class="payload" id="payload">(.*?)</pre>', review.text, re.S)
    assert shown is not None
    unescaped = shown.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
    assert json.loads(unescaped) == expected.model_dump(mode="json")
    assert '"value": 0.71' in unescaped
    assert ">Upload</button>" in review.text
    assert "uploaded as result" not in review.text


def test_upload_sends_the_payload_and_the_server_has_it(
    browser: TestClient, settings: ClientSettings, waiting: Waiting
) -> None:
    review = browser.get(f"/results/{waiting.key}")
    sent = browser.post(
        f"/results/{waiting.key}/upload", data={"csrf": _csrf(review.text)}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/results/{waiting.key}"
    result = Workspace(settings.home).result(waiting.key)
    assert result is not None and result.server_id is not None
    after = browser.get(sent.headers["location"])
    assert f"uploaded as result {result.server_id} on " in after.text
    assert ">Upload</button>" not in after.text
    with logged_in_client(settings) as client:
        held = client.result(result.server_id)
    assert (held.benchmark_id, held.model_id, held.dataset_id) == (
        waiting.benchmark,
        waiting.model,
        waiting.dataset,
    )
    assert held.document is not None
    assert (
        held.document.model_dump(mode="json")
        == upload_payload(result, upload_signer(settings)).model_dump(mode="json")["document"]
    )

    again = browser.post(f"/results/{waiting.key}/upload", data={"csrf": _csrf(review.text)})
    assert again.status_code == 409
    assert f"result {waiting.key} was already uploaded (as {result.server_id})" in again.text


def test_the_audit_page_lists_the_run_and_the_upload_newest_first(
    browser: TestClient, waiting: Waiting
) -> None:
    page = browser.get("/audit")
    assert page.status_code == 200
    rows = re.findall(
        r"<td>(execution\.[a-z]+)</td>\s*<td>execution " + waiting.key + "</td>", page.text
    )
    assert rows == ["execution.upload", "execution.succeeded", "execution.approve"]
