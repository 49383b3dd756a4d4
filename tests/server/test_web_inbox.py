"""The inbox and /mine (``server/web/inbox``, ``mine``): what waits for one's decision,
decided from the page exactly as through the API (the same service, the same refusals),
only by a form of medval's own; and what changed since one's last visit, shown once."""

from __future__ import annotations

from typing import Any

from medval.core.api import PREFIX

from .conftest import Api, Clock, User
from .web_browser import Browser, problem, text

REFUSED = "This form has expired or did not come from medval; reload the page and try again."


def _request(api: Api) -> dict[str, Any]:
    """An approved benchmark of bench's and a pending request of hospital's dataset."""
    people = {name: api.user(name) for name in ("bench", "hospital", "stranger")}
    root = User("root", 1, api)
    benchmark = api.benchmark(people["bench"], approve_by=root)
    dataset = api.dataset(people["hospital"], benchmark)
    association = api.associate(people["hospital"], benchmark, "dataset", dataset, None)
    return {
        "root": root,
        **people,
        "benchmark": benchmark,
        "dataset": dataset,
        "association": association,
    }


def _decide(browser: Browser, path: str, decision: str = "approved", **extra: Any) -> Any:
    return browser.post(path, {"csrf": browser.page_csrf(), "decision": decision}, **extra)


def _status(user: User, association: Any) -> str:
    status: str = user.ok("get", f"/associations/{association['id']}")["status"]
    return status


def test_the_owner_approves_a_request_from_the_inbox(api: Api) -> None:
    w = _request(api)
    bench = Browser.on(api).logged_in("bench")
    inbox = bench.get("/inbox")
    assert inbox.status_code == 200
    name, bench_name = w["dataset"]["name"], w["benchmark"]["name"]
    assert f"dataset {name} asks to join {bench_name}" in text(inbox.text)
    assert f'aria-label="Approve dataset {name} on {bench_name}"' in inbox.text
    path = f"/inbox/associations/{w['association']['id']}"
    response = _decide(bench, path)
    assert (response.status_code, response.headers["location"]) == (303, "/inbox")
    assert _status(w["bench"], w["association"]) == "approved"
    after = text(bench.get("/inbox").text)
    assert f"Approved dataset {name} on benchmark {bench_name}." in after
    assert "Nothing waits for you." in after
    # The confirmation is said once.
    assert "Approved dataset" not in text(bench.get("/inbox").text)


def test_the_owner_rejects_a_request_from_the_inbox(api: Api) -> None:
    w = _request(api)
    bench = Browser.on(api).logged_in("bench")
    response = _decide(bench, f"/inbox/associations/{w['association']['id']}", "rejected")
    assert response.status_code == 303
    assert _status(w["bench"], w["association"]) == "rejected"


def test_those_who_may_not_decide_get_the_apis_answer_and_nothing_changes(api: Api) -> None:
    w = _request(api)
    association = w["association"]
    for name, status in (("stranger", 404), ("hospital", 403)):
        expected = api.client.put(
            f"{PREFIX}/associations/{association['id']}/decision",
            headers=w[name].headers,
            json={"status": "approved"},
        )
        browser = Browser.on(api).logged_in(name)
        response = _decide(browser, f"/inbox/associations/{association['id']}")
        assert response.status_code == expected.status_code == status
        assert problem(response.text) == expected.json()["error"]["message"]
    assert _status(w["bench"], association) == "pending"


def test_a_decision_without_its_csrf_token_or_from_elsewhere_changes_nothing(api: Api) -> None:
    w = _request(api)
    bench = Browser.on(api).logged_in("bench")
    path = f"/inbox/associations/{w['association']['id']}"
    for form in ({"decision": "approved"}, {"decision": "approved", "csrf": "0" * 64}):
        response = bench.post(path, form)
        assert response.status_code == 403
        assert problem(response.text) == REFUSED
    response = _decide(bench, path, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert problem(response.text) == REFUSED
    # Another account's token does not do either.
    other = Browser.on(api).logged_in("stranger")
    response = bench.post(path, {"decision": "approved", "csrf": other.page_csrf()})
    assert response.status_code == 403
    assert _status(w["bench"], w["association"]) == "pending"


def test_a_decision_is_approve_or_reject(api: Api) -> None:
    w = _request(api)
    bench = Browser.on(api).logged_in("bench")
    response = _decide(bench, f"/inbox/associations/{w['association']['id']}", "revoked")
    assert response.status_code == 422
    assert problem(response.text) == "a decision is Approve or Reject"
    assert _status(w["bench"], w["association"]) == "pending"


def test_an_admin_approves_a_benchmark_from_the_inbox(api: Api) -> None:
    bench = api.user("bench")
    pending = api.benchmark(bench)
    root = Browser.on(api).logged_in("root")
    inbox = text(root.get("/inbox").text)
    assert f"benchmark {pending['name']} waits for an admin's approval" in inbox
    # The owner is not asked: only an admin decides a benchmark.
    assert pending["name"] not in text(Browser.on(api).logged_in("bench").get("/inbox").text)
    response = _decide(root, f"/inbox/benchmarks/{pending['id']}")
    assert response.status_code == 303
    assert bench.ok("get", f"/benchmarks/{pending['id']}")["approval"] == "approved"
    assert f"Approved benchmark {pending['name']}." in text(root.get("/inbox").text)


def test_an_owner_cannot_approve_their_own_benchmark(api: Api) -> None:
    bench = api.user("bench")
    pending = api.benchmark(bench)
    page = _decide(Browser.on(api).logged_in("bench"), f"/inbox/benchmarks/{pending['id']}")
    expected = bench.put(f"/benchmarks/{pending['id']}/approval", {"status": "approved"})
    assert page.status_code == expected.status_code == 403
    assert problem(page.text) == expected.json()["error"]["message"]


def test_what_changed_since_the_last_visit_shows_once(api: Api, clock: Clock) -> None:
    w = _request(api)
    hospital = Browser.on(api).logged_in("hospital")
    first = text(hospital.get("/inbox").text)
    assert "This is your first visit from this browser" in first
    clock.advance(minutes=5)
    w["bench"].ok("put", f"/associations/{w['association']['id']}/decision", {"status": "approved"})
    clock.advance(minutes=5)
    news = (
        f"dataset {w['dataset']['name']} on benchmark {w['benchmark']['name']}: approved by bench"
    )
    second = text(hospital.get("/inbox").text)
    assert news in second
    third = text(hospital.get("/inbox").text)
    assert news not in third
    assert "Nothing changed since" in third


def test_ones_own_moves_are_not_news(api: Api, clock: Clock) -> None:
    w = _request(api)
    bench = Browser.on(api).logged_in("bench")
    bench.get("/inbox")
    clock.advance(minutes=5)
    _decide(bench, f"/inbox/associations/{w['association']['id']}")
    clock.advance(minutes=5)
    assert "Nothing changed since" in text(bench.get("/inbox").text)


def test_the_inbox_and_mine_send_a_visitor_to_log_in(api: Api) -> None:
    visitor = Browser.on(api)
    for path in ("/inbox", "/mine"):
        response = visitor.get(path)
        assert (response.status_code, response.headers["location"]) == (
            303,
            f"/login?next={path}",
        )


def test_mine_lists_ones_own_work_with_its_state(api: Api) -> None:
    w = _request(api)
    pending = api.benchmark(w["bench"])
    bench_page = text(Browser.on(api).logged_in("bench").get("/mine").text)
    assert f"{w['benchmark']['name']} approved" in bench_page
    assert f"{pending['name']} pending" in bench_page
    hospital = Browser.on(api).logged_in("hospital").get("/mine")
    assert hospital.status_code == 200
    page = text(hospital.text)
    name = w["dataset"]["name"]
    assert f"{name} operation · 100 cases" in page
    assert f"dataset {name} on {w['benchmark']['name']} pending" in page
    assert f'href="/benchmarks/{w["benchmark"]["id"]}"' in hospital.text
    assert "You own no benchmark." in page
    # A stranger's page holds none of it.
    stranger = text(Browser.on(api).logged_in("stranger").get("/mine").text)
    assert name not in stranger and w["benchmark"]["name"] not in stranger


def test_ones_own_request_offers_only_reject(api: Api) -> None:
    w = _request(api)
    model = api.cube(w["bench"], "model")
    own = api.associate(w["bench"], w["benchmark"], "model", model, None)
    inbox = Browser.on(api).logged_in("bench").get("/inbox").text
    item = inbox[inbox.index(f'id="association-{own["id"]}"') :]
    item = item[: item.index("</li>")]
    assert "You asked, so someone else (an admin) must approve it" in text(item)
    assert ">Approve</button>" not in item and ">Reject</button>" in item
    # The other request still offers both.
    other = inbox[inbox.index(f'id="association-{w["association"]["id"]}"') :]
    assert ">Approve</button>" in other[: other.index("</li>")]


def test_a_new_result_is_news_to_the_benchmarks_and_the_models_owners(
    world: dict[str, Any], api: Api, clock: Clock
) -> None:
    bench = Browser.on(api).logged_in("bench")
    vendor = Browser.on(api).logged_in("vendor")
    hospital = Browser.on(api).logged_in("hospital")
    for browser in (bench, vendor, hospital):
        browser.get("/inbox")
    clock.advance(minutes=5)
    body = api.result_body(world["benchmark"], world["dataset"], world["model"])
    world["hospital"].ok("post", "/results", body)
    clock.advance(minutes=5)
    news = (
        f"new result (succeeded) of model {world['model']['name']} on dataset "
        f"{world['dataset']['name']}, benchmark {world['benchmark']['name']}"
    )
    for browser in (bench, vendor):
        assert news in text(browser.get("/inbox").text)
    # The uploader made it: not news to them. Another account in the same browser starts
    # afresh (the last visit is the account's, not the browser's).
    assert "Nothing changed since" in text(hospital.get("/inbox").text)
    bench.logged_in("stranger")
    assert "This is your first visit from this browser" in text(bench.get("/inbox").text)
