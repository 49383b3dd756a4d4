"""A visitor in Chromium: reads a public benchmark's leaderboard and forest plot without
logging in, reaches it by the keyboard alone, reads it on a phone, and finds neither a
private benchmark nor any site's own figures."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.server.test_api_leaderboard import _federation

from .conftest import Site, fits_the_width, screenshot


def _two_benchmarks(site: Site) -> dict[str, Any]:
    fed = _federation(site.api, "public")
    fed["private"] = site.api.benchmark(fed["bench"], approve_by=fed["root"], policy="participants")
    return fed


def test_a_visitor_reads_a_public_leaderboard(site: Site, page: Page) -> None:
    fed = _two_benchmarks(site)
    public = fed["benchmark"]
    page.goto(site.url + "/")
    expect(page).to_have_title("Benchmarks · medval")
    expect(page.get_by_role("link", name=public["name"])).to_be_visible()
    screenshot(page, "catalogue")
    page.get_by_role("link", name=public["name"]).click()
    expect(page).to_have_url(f"{site.url}/benchmarks/{public['id']}")
    table = page.get_by_role("table", name=f"Models on {public['name']}")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_role("rowheader")).to_have_text("model-v2")
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text("model-v1")
    plot = page.get_by_role("img", name="Pooled auroc of each model with its 95% interval")
    expect(plot).to_be_visible()
    expect(plot.locator("rect.point")).to_have_count(2)
    # A visitor gets no site's own figures, nor any site's name.
    expect(page.get_by_role("heading", name="Per site")).to_have_count(0)
    for dataset in fed["datasets"].values():
        expect(page.get_by_text(dataset["name"])).to_have_count(0)
    screenshot(page, "benchmark-public-leaderboard")


def test_a_visitor_cannot_open_a_private_benchmark(site: Site, page: Page) -> None:
    fed = _two_benchmarks(site)
    private = fed["private"]
    page.goto(site.url + "/")
    expect(page.get_by_role("link", name=private["name"])).to_have_count(0)
    response = page.goto(f"{site.url}/benchmarks/{private['id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("main")).to_contain_text(
        f"There is no benchmark {private['id']} that you may see."
    )
    expect(page.get_by_text(private["name"])).to_have_count(0)


def test_the_keyboard_reaches_a_benchmark_from_the_catalogue(site: Site, page: Page) -> None:
    fed = _two_benchmarks(site)
    public = fed["benchmark"]
    page.goto(site.url + "/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    for _ in range(20):  # tab through the header to the benchmark's link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == public["name"]:
            break
    expect(page.get_by_role("link", name=public["name"])).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.url}/benchmarks/{public['id']}")
    # Every link and button says what it is (a name a screen reader reads out).
    unnamed = page.evaluate(
        "[...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea')]"
        ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')"
        " && !e.textContent.trim()).length"
    )
    assert unnamed == 0


def test_a_benchmark_reads_on_a_phone(site: Site, phone: Page) -> None:
    fed = _two_benchmarks(site)
    phone.goto(f"{site.url}/benchmarks/{fed['benchmark']['id']}")
    expect(phone.get_by_role("heading", level=1)).to_have_text(fed["benchmark"]["name"])
    assert fits_the_width(phone)  # the page itself never scrolls sideways...
    # ...its wide parts do, in regions the keyboard can reach and scroll, and the forest
    # plot keeps its size (its words 12 px) rather than shrinking to fit 390 px.
    regions = phone.get_by_role("region")
    expect(regions).to_have_count(2)
    for region in regions.all():
        assert region.get_attribute("tabindex") == "0"
    plot = phone.get_by_role("img", name="Pooled auroc of each model with its 95% interval")
    box = plot.bounding_box()
    assert box is not None and box["width"] >= 600, box
    screenshot(phone, "benchmark-on-a-phone")
    phone.goto(site.url + "/")
    assert fits_the_width(phone)
