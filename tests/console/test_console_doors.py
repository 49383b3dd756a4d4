"""The console's doors (issue 12): a one-time token, a session cookie, loopback names
only, CSRF on every form, one run at a time, and ``--host`` refused; and the real
``medval console`` process printing its address and serving it."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from medval.client.runs import RunOutcome
from medval.client.settings import ClientSettings
from medval.console.app import create_app
from medval.console.run_jobs import RunJob, RunJobs
from medval.console.session import ConsoleDoor

UNAUTHORISED = "Use the address that medval console printed in its terminal."
PORT = 8765


@pytest.fixture
def door() -> ConsoleDoor:
    return ConsoleDoor(PORT)


def _browser(
    settings: ClientSettings, door: ConsoleDoor, runs: RunJobs | None = None
) -> TestClient:
    return TestClient(create_app(settings, door, runs), base_url=f"http://127.0.0.1:{PORT}")


def _signed_in(browser: TestClient, door: ConsoleDoor) -> TestClient:
    opened = browser.get(f"/?token={door.token}", follow_redirects=False)
    assert opened.status_code == 303, opened.text
    return browser


def test_the_token_lets_one_browser_in_once(tmp_path: Path, door: ConsoleDoor) -> None:
    settings = ClientSettings(home=tmp_path)
    first = _browser(settings, door)
    opened = first.get(f"/?token={door.token}", follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/"
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith("medval_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert door.token not in cookie
    # With the cookie: the pages answer (the audit log needs no server).
    audit = first.get("/audit")
    assert audit.status_code == 200
    assert "(no audit entries)" in audit.text
    assert "script-src 'none'" in audit.headers["content-security-policy"]

    again = _browser(settings, door).get(f"/?token={door.token}", follow_redirects=False)
    assert again.status_code == 401
    assert UNAUTHORISED in again.text
    assert "set-cookie" not in again.headers


def test_a_wrong_token_is_not_spent_and_lets_no_one_in(tmp_path: Path, door: ConsoleDoor) -> None:
    browser = _browser(ClientSettings(home=tmp_path), door)
    wrong = browser.get("/?token=guessed", follow_redirects=False)
    assert wrong.status_code == 401
    assert _signed_in(browser, door).get("/audit").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/audit"),
        ("GET", "/runs/b1-m2-d3"),
        ("GET", "/results/b1-m2-d3"),
        ("POST", "/runs"),
        ("POST", "/results/b1-m2-d3/upload"),
    ],
)
def test_without_the_cookie_every_page_is_401(
    tmp_path: Path, door: ConsoleDoor, method: str, path: str
) -> None:
    answer = _browser(ClientSettings(home=tmp_path), door).request(method, path)
    assert answer.status_code == 401
    assert UNAUTHORISED in answer.text


@pytest.mark.parametrize("host", ["attacker.example:8765", "127.0.0.1:9999", "0.0.0.0:8765"])
def test_a_host_other_than_loopback_is_400(tmp_path: Path, door: ConsoleDoor, host: str) -> None:
    browser = _browser(ClientSettings(home=tmp_path), door)
    answer = browser.get(f"/?token={door.token}", headers={"host": host})
    assert answer.status_code == 400
    assert answer.text == "This console answers on 127.0.0.1 or localhost only."
    # Refused before the token was looked at: it still opens the console.
    assert (
        _signed_in(browser, door).get("/audit", headers={"host": f"localhost:{PORT}"}).status_code
        == 200
    )


def test_a_form_without_the_csrf_token_is_403(tmp_path: Path, door: ConsoleDoor) -> None:
    started: list[str] = []

    def never(job: RunJob) -> RunOutcome:
        started.append(job.key)
        return RunOutcome(1, 1, ())

    settings = ClientSettings(home=tmp_path)
    browser = _signed_in(_browser(settings, door, RunJobs(settings, never)), door)
    for form in ({"key": "b1-m2-d3"}, {"key": "b1-m2-d3", "csrf": "forged"}):
        answer = browser.post("/runs", data=form, follow_redirects=False)
        assert answer.status_code == 403
        assert "This form is not one the console gave you" in answer.text
    upload = browser.post("/results/b1-m2-d3/upload", data={}, follow_redirects=False)
    assert upload.status_code == 403
    assert started == []


def test_one_run_at_a_time_and_the_run_page_refreshes_while_it_runs(
    tmp_path: Path, door: ConsoleDoor
) -> None:
    release = threading.Event()

    def held(job: RunJob) -> RunOutcome:
        job.say("infer of model m2 …")
        release.wait(30)
        return RunOutcome(1, 1, ())

    settings = ClientSettings(home=tmp_path)
    browser = _signed_in(_browser(settings, door, RunJobs(settings, held)), door)
    started = browser.post(
        "/runs", data={"key": "b1-m2-d3", "csrf": door.csrf}, follow_redirects=False
    )
    assert started.status_code == 303
    assert started.headers["location"] == "/runs/b1-m2-d3"
    page = browser.get("/runs/b1-m2-d3")
    assert '<meta http-equiv="refresh" content="2">' in page.text
    assert '<strong id="status">running</strong>' in page.text
    assert "infer of model m2 …" in page.text

    second = browser.post("/runs", data={"key": "b1-m4-d3", "csrf": door.csrf})
    assert second.status_code == 409
    assert "execution b1-m2-d3 is running; wait until it finishes, then start the next one" in (
        second.text
    )
    release.set()
    deadline = time.monotonic() + 10
    while "running" in (page := browser.get("/runs/b1-m2-d3")).text:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert '<strong id="status">succeeded</strong>' in page.text
    assert "http-equiv" not in page.text


def test_a_failure_is_one_line_not_a_traceback(tmp_path: Path, door: ConsoleDoor) -> None:
    browser = _signed_in(_browser(ClientSettings(home=tmp_path), door), door)
    pending = browser.get("/")
    assert pending.status_code == 401
    assert "not logged in; run &#39;medval login --server URL --username NAME&#39;" in (
        pending.text
    )
    missing = browser.get("/results/b1-m2-d3")
    assert missing.status_code == 404
    assert "no local result &#39;b1-m2-d3&#39;; run the execution first" in missing.text
    bad_key = browser.get("/runs/nonsense")
    assert bad_key.status_code == 422
    assert "is not a result key" in bad_key.text
    for page in (pending, missing, bad_key):
        assert "Traceback" not in page.text


def _medval(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "MEDVAL_HOME": str(home)}
    env.pop("MEDVAL_DEBUG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "medval", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_console_refuses_another_host(tmp_path: Path) -> None:
    refused = _medval(tmp_path, "console", "--host", "0.0.0.0")
    out, err = refused.communicate(timeout=60)
    assert refused.returncode == 2
    assert err == (
        "error: medval console listens on 127.0.0.1 only (loopback), not on '0.0.0.0'; "
        "open it from this machine\n"
    )
    assert out == ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_console_process_prints_its_address_and_serves_it(tmp_path: Path) -> None:
    port = _free_port()
    console = _medval(tmp_path, "console", "--port", str(port))
    try:
        assert console.stderr is not None
        ready, _, _ = select.select([console.stderr], [], [], 60)
        assert ready, "medval console printed nothing in 60 s"
        line = console.stderr.readline()
        prefix = f"Open http://127.0.0.1:{port}/?token="
        assert line.startswith(prefix), line
        assert line.endswith(" in your browser (Ctrl-C stops the console)\n")
        address = line.removeprefix("Open ").split(" ")[0]
        with httpx.Client() as browser:
            opened = browser.get(address, follow_redirects=False)
            assert opened.status_code == 303
            audit = browser.get(f"http://127.0.0.1:{port}/audit")
            assert audit.status_code == 200
            assert "Local audit log" in audit.text
            assert browser.get(address, follow_redirects=False).status_code == 303
        with httpx.Client() as stranger:
            assert stranger.get(address, follow_redirects=False).status_code == 401
    finally:
        console.terminate()
        console.wait(timeout=30)
