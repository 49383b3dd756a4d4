"""People who decide, in Chromium: a benchmark owner logs in and approves a hospital's
request to join from the inbox; an admin approves a benchmark; a hospital sees its own
site's figures and no other's; logging out ends it. Each decision is then what the API
says, and the pages are used with the keyboard and read on a phone."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from medval.core.api import PREFIX
from tests.server.conftest import PASSWORD, User
from tests.server.test_api_leaderboard import _federation

from .conftest import PHONE, Site, fits_the_width, screenshot


def _log_in(page: Page, site: Site, username: str, keyboard: bool = False) -> None:
    page.goto(site.url + "/login")
    if keyboard:  # the way a keyboard user fills the form: type, Tab, type, Enter
        page.get_by_label("Username").focus()
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        expect(page.get_by_label("Password")).to_be_focused()
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
    else:
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(site.url + "/inbox")
    expect(page.get_by_role("banner")).to_contain_text(f"Logged in as {username}")


def test_a_benchmark_owner_approves_a_request_from_the_inbox(site: Site, chromium: Browser) -> None:
    api = site.api
    owner, hospital = api.user("committee"), api.user("hospital-a")
    root = User("root", 1, api)
    benchmark = api.benchmark(owner, approve_by=root)
    dataset = api.dataset(hospital, benchmark)
    request = api.associate(hospital, benchmark, "dataset", dataset, None)
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    _log_in(page, site, "committee", keyboard=True)
    item = page.locator(f"#association-{request['id']}")
    expect(item).to_contain_text(f"dataset {dataset['name']} asks to join {benchmark['name']}")
    assert fits_the_width(page)
    screenshot(page, "inbox-owner-on-a-phone")
    approve = item.get_by_role("button", name=f"Approve dataset {dataset['name']}")
    approve.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator(f"#association-{request['id']}")).to_have_count(0)
    decided = owner.ok("get", f"/associations/{request['id']}")
    assert decided["status"] == "approved"
    # The hospital's own page says its request was approved, and by whom.
    hospital_page = chromium.new_context().new_page()
    _log_in(hospital_page, site, "hospital-a")
    hospital_page.get_by_role("link", name="Mine").click()
    requests = hospital_page.get_by_role("region", name="Requests to join benchmarks")
    expect(requests).to_contain_text(
        f"dataset {dataset['name']} on {benchmark['name']} approved approved by committee"
    )
    context.close()


def test_an_admin_approves_a_benchmark_and_a_visitor_then_reads_it(site: Site, page: Page) -> None:
    api = site.api
    owner = api.user("committee")
    benchmark = api.benchmark(owner, policy="public")
    visitor = page.context.browser
    assert visitor is not None
    # Before: a visitor does not find it.
    before = visitor.new_page()
    response = before.goto(f"{site.url}/benchmarks/{benchmark['id']}")
    assert response is not None and response.status == 404
    _log_in(page, site, "root")
    item = page.locator(f"#benchmark-{benchmark['id']}")
    expect(item).to_contain_text(f"benchmark {benchmark['name']} waits for an admin's approval")
    screenshot(page, "inbox-admin")
    item.get_by_role("button", name=f"Approve benchmark {benchmark['name']}").click()
    expect(page.locator(f"#benchmark-{benchmark['id']}")).to_have_count(0)
    assert owner.ok("get", f"/benchmarks/{benchmark['id']}")["approval"] == "approved"
    # After: the visitor reads it, without logging in.
    response = before.goto(f"{site.url}/benchmarks/{benchmark['id']}")
    assert response is not None and response.status == 200
    expect(before.get_by_role("heading", level=1)).to_have_text(benchmark["name"])
    before.close()


def test_a_hospital_sees_its_own_site_and_no_other(site: Site, page: Page) -> None:
    fed = _federation(site.api, "participants")
    own, other = fed["datasets"]["h1"]["name"], fed["datasets"]["h2"]["name"]
    _log_in(page, site, "h1")
    page.goto(f"{site.url}/benchmarks/{fed['benchmark']['id']}")
    expect(page.get_by_role("heading", name="Per site")).to_be_visible()
    for model in ("model-v1", "model-v2"):
        table = page.get_by_role("table", name=f"{model} at each site")
        expect(table.get_by_role("rowheader")).to_have_text([own])
    expect(page.get_by_text(other)).to_have_count(0)
    screenshot(page, "benchmark-as-a-hospital")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(site.url + "/")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    # The session is over: the benchmark is not public, so a visitor finds nothing.
    gone = page.goto(f"{site.url}/benchmarks/{fed['benchmark']['id']}")
    assert gone is not None and gone.status == 404


def test_the_login_page_reads_on_a_phone_and_says_what_went_wrong(site: Site, phone: Page) -> None:
    site.api.user("hospital-a")
    phone.goto(site.url + "/login")
    assert fits_the_width(phone)
    phone.get_by_label("Username").fill("hospital-a")
    phone.get_by_label("Password").fill("not the password")
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_role("alert")).to_have_text("wrong username or password")
    screenshot(phone, "login-refused-on-a-phone")
    assert site.api.client.get(PREFIX + "/health").status_code == 200


def test_every_page_of_an_account_reads_on_a_phone(site: Site, phone: Page) -> None:
    fed = _federation(site.api, "participants")
    site.api.associate(fed["h1"], fed["benchmark"], "dataset", site.api.dataset(
        fed["h1"], fed["benchmark"]), None)  # fmt: skip
    _log_in(phone, site, "bench")
    board = f"/benchmarks/{fed['benchmark']['id']}"
    for path in ("/", "/mine", "/inbox", board, f"{board}/participation"):
        phone.goto(site.url + path)
        assert fits_the_width(phone), path
        # Every control says what it is, to a screen reader too.
        unnamed = phone.evaluate(
            "[...document.querySelectorAll('a, button, input:not([type=hidden]), select')]"
            ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')"
            " && !e.textContent.trim()).length"
        )
        assert unnamed == 0, path
        shown = path.rsplit("/", 1)[-1] if path.endswith("participation") else path
        screenshot(phone, f"account-on-a-phone-{shown.strip('/').split('/')[0] or 'catalogue'}")
