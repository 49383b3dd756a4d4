"""The console's review page (issue 18): the cases a preparation workflow waits for at a
review step with their images, images served only for the listed cases' files, and
Accept or Exclude through the same use cases as the CLI (in the local audit log). No
server is needed: the review is the workspace's own."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from medval.client.datasets import preparation_folder
from medval.client.preparation.progress_counts import workflow_counts
from medval.client.settings import ClientSettings
from medval.client.workspace import Workspace
from medval.console.app import create_app
from medval.console.session import ConsoleDoor
from tests.client.test_preparation_reviews import Site

PORT = 8767
FILES_TOO = """workflow:
  steps:
    convert: {task: convert, runs: per_case}
    look: {runs: review, files: ["*.png", "*.txt"]}
    prepare: {task: prepare, runs: whole}
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    stopped = Site(tmp_path, FILES_TOO)
    stopped.prepare()
    return stopped


@pytest.fixture
def browser(site: Site) -> TestClient:
    door = ConsoleDoor(PORT)
    app = create_app(ClientSettings(home=site.home), door)
    client = TestClient(app, base_url=f"http://127.0.0.1:{PORT}")
    assert client.get(f"/?token={door.token}", follow_redirects=False).status_code == 303
    return client


def _image(case: str, n: int = 0, step: str = "look", dataset: str = "site-a") -> str:
    return f"/reviews/file?dataset={dataset}&step={step}&case={case}&n={n}"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_page_lists_each_case_with_its_images_and_buttons(
    browser: TestClient, site: Site
) -> None:
    page = browser.get("/reviews")
    assert page.status_code == 200
    for i in range(3):
        case = f"case-0{i}"
        assert f"<h3>case {case} at step look</h3>" in page.text
        assert f'<img src="{_image(case).replace("&", "&amp;")}"' in page.text
        assert f'<figcaption class="hash">{site.overlay(case)}</figcaption>' in page.text
        text = site.overlay(case).with_name("value.txt")
        assert f'<figcaption class="hash">{text}</figcaption>' in page.text
    assert page.text.count(">Accept</button>") == 3
    assert page.text.count(">Exclude</button>") == 3
    assert '<a href="/reviews">Reviews</a>' in page.text


def test_images_are_served_for_the_listed_cases_files_only(browser: TestClient, site: Site) -> None:
    shown = browser.get(_image("case-01"))
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/png"
    assert shown.content == b"png"
    secret = site.home / "secret.png"
    secret.write_bytes(b"not listed")
    for refused in (
        _image("case-01", n=1),  # value.txt: listed, but no image
        _image("case-01", n=2),  # no such file
        _image("case-01", n=-1),
        _image("case-07"),  # no such case
        _image("case-01", step="convert"),  # not a review step
        _image("case-01", dataset="site-b"),
        "/reviews/file?dataset=site-a&step=look&case=" + quote("../secret.png") + "&n=0",
        "/reviews/file?dataset=" + quote("../..") + "&step=look&case=case-01&n=0",
        "/static/../secret.png",
    ):
        answer = browser.get(refused)
        assert answer.status_code in (404, 422), refused
        assert b"not listed" not in answer.content and b"VALUE" not in answer.content


def test_accept_and_exclude_from_the_page_go_through_the_audited_use_cases(
    browser: TestClient, site: Site
) -> None:
    csrf = _csrf(browser.get("/reviews").text)
    form = {"csrf": csrf, "dataset": "site-a", "step": "look"}
    accepted = browser.post("/reviews", data={**form, "case": "case-00", "decision": "accept"},
                            follow_redirects=False)  # fmt: skip
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/reviews")
    excluded = browser.post("/reviews", data={**form, "case": "case-01", "decision": "exclude"},
                            follow_redirects=False)  # fmt: skip
    assert excluded.status_code == 303
    page = browser.get("/reviews").text
    assert "<h3>case case-00 at step look</h3>" not in page
    assert "<h3>case case-01 at step look</h3>" not in page
    assert "<h3>case case-02 at step look</h3>" in page
    assert [(e.action, e.entity_id) for e in site.audit().entries()] == [
        ("preparation_case.accept", "site-a/look/case-00"),
        ("preparation_case.exclude", "site-a/look/case-01"),
    ]
    audit = browser.get("/audit").text
    assert "preparation_case.accept" in audit and "site-a/look/case-00" in audit


def test_a_bad_answer_is_one_line_and_changes_nothing(browser: TestClient, site: Site) -> None:
    csrf = _csrf(browser.get("/reviews").text)
    form = {"csrf": csrf, "dataset": "site-a", "step": "look", "decision": "accept"}
    for fields, status, line in (
        ({"case": "case-07"}, 422, f"&#39;case-07&#39; is not a case of {site.raw / 'data'}"),
        ({"case": "case-00", "step": "convert"}, 422,
         "&#39;convert&#39; is not a review step of the workflow"),
        ({"case": "case-00", "decision": "delete"}, 422,
         "a review is answered by accept or exclude, not &#39;delete&#39;"),
        ({"case": "case-00", "dataset": "site-b"}, 404,
         "dataset site-b has no preparation workflow here"),
    ):  # fmt: skip
        answer = browser.post("/reviews", data={**form, **fields})
        assert answer.status_code == status
        assert f'<p class="error" role="alert">{line}</p>' in answer.text
        assert "Traceback" not in answer.text
    no_token = browser.post("/reviews", data={**form, "csrf": "forged", "case": "case-00"})
    assert no_token.status_code == 403
    assert site.audit().entries() == []
    assert browser.get("/reviews").text.count(">Accept</button>") == 3


def test_the_page_and_its_images_need_the_console_session(site: Site) -> None:
    stranger = TestClient(
        create_app(ClientSettings(home=site.home), ConsoleDoor(PORT)),
        base_url=f"http://127.0.0.1:{PORT}",
    )
    for path in ("/reviews", _image("case-00")):
        answer = stranger.get(path)
        assert answer.status_code == 401
        assert "Use the address that medval console printed in its terminal." in answer.text
    assert stranger.post("/reviews", data={"case": "case-00"}).status_code == 401


def test_the_page_shows_how_far_each_step_got_as_status_does(
    browser: TestClient, site: Site
) -> None:
    counts = workflow_counts(preparation_folder(Workspace(site.home), "site-a"), "site-a")
    page = browser.get("/reviews").text
    assert f"How far its preparation got ({counts.excluded} case(s) excluded)" in page
    assert [s.step for s in counts.steps] == ["convert", "look", "prepare"]
    for s in counts.steps:
        row = f'<tr><th scope="row">{s.step}</th><td>{s.done}</td><td>{s.failed}</td>'
        assert row + f"<td>{s.waiting}</td>" in page
    [look] = [s for s in counts.steps if s.step == "look"]
    assert look.waiting == 3  # the three cases the page lists for review
