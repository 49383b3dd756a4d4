"""The server's pages (``server/web``) show what the API shows the same caller: a
visitor reads the public benchmarks and their leaderboards; per-site rows appear only for
those the API releases them to; nothing a caller sends is rendered unescaped."""

from __future__ import annotations

import html as markup
import re
from typing import Any

from medval.core.api import PREFIX

from .conftest import Api, User
from .test_api_leaderboard import _federation
from .test_api_shift import _federation as shift_federation
from .training_factories import experiment


def _page(api: Api, path: str, user: User | None = None) -> tuple[int, str]:
    response = api.client.get(path, headers=user.headers if user else {})
    return response.status_code, response.text


def _api_board(api: Api, benchmark: Any, user: User | None = None) -> Any:
    """The board the API gives ``user``, with its sites (as the page shows them)."""
    path = f"{PREFIX}/benchmarks/{benchmark['id']}/leaderboard?sites=true"
    return api.client.get(path, headers=user.headers if user else {}).json()


def _text(html: str) -> str:
    """The page's words, tags removed and spaces joined (what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_a_visitor_reads_the_public_catalogue_and_not_the_rest(api: Api) -> None:
    fed = _federation(api, "public")
    bench, root = fed["bench"], fed["root"]
    private = api.benchmark(bench, approve_by=root, policy="participants")
    pending = api.benchmark(bench)
    status, html = _page(api, "/")
    assert status == 200
    assert f'href="/benchmarks/{fed["benchmark"]["id"]}"' in html
    assert f'href="/benchmarks/{private["id"]}"' not in html
    assert f'href="/benchmarks/{pending["id"]}"' not in html
    # A logged-in account sees what the API lists for it: the approved one too.
    _, theirs = _page(api, "/", fed["stranger"])
    assert f'href="/benchmarks/{private["id"]}"' in theirs
    assert f'href="/benchmarks/{pending["id"]}"' not in theirs
    for hidden in (private, pending):
        status, html = _page(api, f"/benchmarks/{hidden['id']}")
        assert status == 404
        assert f"There is no benchmark {hidden['id']} that you may see." in _text(html)


def test_a_public_leaderboard_reads_as_the_api_gives_it(api: Api) -> None:
    fed = _federation(api, "public")
    board = _api_board(api, fed["benchmark"])
    status, html = _page(api, f"/benchmarks/{fed['benchmark']['id']}")
    assert status == 200
    text = _text(html)
    assert "Ranked by auroc (higher is better)" in text
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<th scope=\"row\">([^<]+)</th>", html)
    assert [e["model"] for e in board["entries"]] == ["model-v2", "model-v1"]
    # The rank as the API gives it: "=" when tied, the 95% rank interval when not one rank.
    expected = []
    for e in board["entries"]:
        label = f"{e['rank']}{'=' if e['tied'] else ''}"
        if e["rank_lower"] != e["rank_upper"]:
            label += f" ({e['rank_lower']}-{e['rank_upper']})"
        expected.append((label, e["model"]))
    assert rows == expected
    assert "cannot be told apart" in text
    for entry in board["entries"]:
        pooled = entry["pooled"]["auroc"]
        shown = f"{pooled['value']:.3f} [{pooled['lower']:.3f}, {pooled['upper']:.3f}]"
        assert shown in text, shown
        # Two sites: no prediction interval for a new site, and the profile likelihood's.
        row = _text(html[html.index(f'<th scope="row">{entry["model"]}') :].split("</tr>")[0])
        assert pooled["prediction_lower"] is None and row.endswith("% \u2013"), row  # an en dash
    assert (
        "Method for auroc: pooled from " in text
        and ", profile-likelihood interval; the New site column" in text
    )
    # The forest plot: one square per model, named, on an axis.
    plot = html[html.index("<svg") : html.index("</svg>")]
    assert plot.count('class="point"') == 2
    assert "model-v2: " in plot and "model-v1: " in plot
    # What the visitor's API answer holds of each site, and no more.
    released = [site["dataset"] for entry in board["entries"] for site in entry["sites"]]
    assert released == []  # a visitor gets no site's own figures...
    assert "Per site" not in text
    for name in (d["name"] for d in fed["datasets"].values()):
        assert name not in text  # ...nor any site's name


def test_the_leaderboard_says_how_it_pooled_and_where_a_new_site_would_fall(api: Api) -> None:
    """Issue 13: three sites, so a prediction interval; the method in words."""
    fed = shift_federation(api, "public")
    (entry,) = _api_board(api, fed["benchmark"])["entries"]
    auroc = entry["pooled"]["auroc"]
    assert (auroc["model"], auroc["tau_squared_method"], auroc["interval_method"]) == (
        "binomial-normal-effective", None, "profile-likelihood-hartung-knapp",
    )  # fmt: skip
    _, html = _page(api, f"/benchmarks/{fed['benchmark']['id']}")
    text = markup.unescape(_text(html))
    assert (
        "Method for auroc: pooled from the counts each site's interval implies "
        "(binomial-normal), Hartung-Knapp-scaled profile-likelihood interval; the "
        "New site column is its 95% prediction interval, where auroc at a new site would "
        "fall (from three sites on)."
    ) in text
    headers = re.findall(r'<th scope="col">([^<]+)</th>', html)
    assert headers[headers.index("Heterogeneity (I², auroc)") + 1] == "New site (95% PI)"
    row = _text(html[html.index('<th scope="row">model-v1') :].split("</tr>")[0])
    new_site = f"{auroc['prediction_lower']:.3f} to {auroc['prediction_upper']:.3f}"
    assert row.endswith(f"% {new_site}"), row
    assert auroc["prediction_lower"] < auroc["lower"] < auroc["upper"] < auroc["prediction_upper"]


def test_per_site_rows_show_for_those_the_api_releases_them_to(api: Api) -> None:
    fed = _federation(api, "participants")
    page = f"/benchmarks/{fed['benchmark']['id']}"
    names = [d["name"] for d in fed["datasets"].values()]
    _, owner_view = _page(api, page, fed["bench"])
    assert "Per site" in owner_view and all(name in owner_view for name in names)
    # Each site's figure as the API gives it: the value and its interval, rounded.
    for entry in _api_board(api, fed["benchmark"], fed["bench"])["entries"]:
        for site in entry["sites"]:
            auroc = site["metrics"]["auroc"]
            row = f"{site['dataset']} {site['n_cases']} {auroc['value']:.3f}"
            if auroc.get("lower") is not None:
                row += f" [{auroc['lower']:.3f}, {auroc['upper']:.3f}]"
            assert row in _text(owner_view), row
    h1_view = _text(_page(api, page, fed["h1"])[1])
    released = {
        site["dataset"]
        for entry in _api_board(api, fed["benchmark"], fed["h1"])["entries"]
        for site in entry["sites"]
    }
    assert released == {fed["datasets"]["h1"]["name"]}  # its own site only
    assert {name for name in names if name in h1_view} == released
    # A visitor: not public, so not found at all.
    assert _page(api, page)[0] == 404


def test_what_a_caller_sends_is_shown_escaped(api: Api) -> None:
    bench = api.user("bench")
    root = User("root", 1, api)
    hostile = '<script>alert("x")</script>'
    benchmark_id = _register_with_description(api, bench, root, hostile)
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    for path in ("/", f"/benchmarks/{benchmark_id}"):
        status, html = _page(api, path)
        assert status == 200
        assert "<script>" not in html and escaped in html


def test_a_documentation_address_is_linked_only_if_it_is_a_web_address(api: Api) -> None:
    bench = api.user("bench")
    root = User("root", 1, api)
    hostile = _register_with_description(api, bench, root, "d", "javascript:alert(1)")
    status, html = _page(api, f"/benchmarks/{hostile}")
    assert status == 200
    assert 'href="javascript' not in html and "javascript:alert(1)" in _text(html)
    fine = _register_with_description(api, bench, root, "d", "https://example.org/docs", "b2")
    assert '<a href="https://example.org/docs"' in _page(api, f"/benchmarks/{fine}")[1]


def test_pages_tell_the_browser_to_run_no_script(api: Api) -> None:
    for path in ("/", "/benchmarks/999"):
        policy = api.client.get(path).headers["content-security-policy"]
        assert "script-src 'none'" in policy and "default-src 'self'" in policy


def _register_with_description(
    api: Api, owner: User, admin: User, description: str, docs: str = "", name: str = "b1"
) -> int:
    prep = api.cube(owner, "data_preparator")
    model = api.cube(owner, "model")
    evaluator = api.cube(owner, "evaluator")
    body = {
        "name": name,
        "description": description,
        "docs_url": docs,
        "data_preparator_id": prep["id"],
        "reference_model_id": model["id"],
        "evaluator_id": evaluator["id"],
        "demo_data_hash": api.blob(owner),
        "release_policy": "public",
    }
    benchmark = owner.ok("post", "/benchmarks", body)
    admin.ok("put", f"/benchmarks/{benchmark['id']}/approval", {"status": "approved"})
    identifier: int = benchmark["id"]
    return identifier


def test_the_style_sheet_ships_in_the_package(api: Api) -> None:
    response = api.client.get("/static/medval.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "@import" not in response.text and "http" not in response.text  # no CDN


def test_the_catalogue_lists_the_training_experiments_an_account_may_see(api: Api) -> None:
    root = api.admin("root")
    trainer, stranger = api.user("trainer"), api.user("stranger")
    pending = experiment(api, trainer)
    approved = experiment(api, trainer, approve_by=root)
    for who, shown in ((trainer, [pending, approved]), (stranger, [approved])):
        _, html = _page(api, "/", who)
        ids = re.findall(r'id="experiment-(\d+)"', html)
        assert sorted(ids) == sorted(str(e["id"]) for e in shown), who.name
    card = _text(_page(api, "/", stranger)[1])
    plan = approved["plan"]
    assert (
        f"{approved['name']} No description. by trainer · {plan['rounds']} rounds of "
        f"{plan['strategy']} from {plan['min_sites']} sites on · aggregator "
        f"{approved['aggregator']} · approved"
    ) in card
    # A visitor: none (the API lists experiments to accounts only).
    _, html = _page(api, "/")
    assert "Training experiments" not in html and 'id="experiment-' not in html


def test_the_benchmark_page_flags_the_site_whose_population_differs(api: Api) -> None:
    fed = shift_federation(api, "participants")
    page = f"/benchmarks/{fed['benchmark']['id']}"
    shift = api.client.get(f"{PREFIX}{page}/shift", headers=fed["bench"].headers).json()
    _, html = _page(api, page, fed["bench"])
    text = _text(html)
    assert "Shift between sites" in text
    assert "psi ≥ 0.25 (" in text and "cohens_h ≥ 0.5 (" in text  # thresholds, with sources
    for site in shift["sites"]:
        row = _text(html[html.index(f'id="shift-{site["dataset_id"]}"') :].split("</tr>")[0])
        marked = [c for c in site["comparisons"] if c["flagged"]]
        if site["flagged"]:
            assert row.startswith(f'id="shift-{site["dataset_id"]}"> {site["dataset"]} 200 flagged')
            for c in marked:
                assert f"{c['variable']}: {c['measure']} {c['value']:.2f} (threshold " in row
        else:
            assert row.endswith(f"{site['dataset']} 200 no nowhere past a threshold"), row
    # h1 sees its own site only, as on the leaderboard; a visitor finds no page at all.
    own = _text(_page(api, page, fed["h1"])[1])
    assert "site-h1" in own and "site-h3" not in own
    assert _page(api, page)[0] == 404


def test_the_benchmark_page_shows_the_subgroups_and_their_gap(api: Api) -> None:
    from .test_api_subgroups import _document, _level, _upload
    from .test_api_subgroups import _federation as subgroup_federation

    fed = subgroup_federation(api)
    for hospital in ("h1", "h2", "h3"):
        levels = {"<50": _level(400, 120, 0.7), "50-69": _level(600, 180, 0.8)}
        assert _upload(api, fed, hospital, _document(levels)).status_code == 201
    page = f"/benchmarks/{fed['benchmark']['id']}"
    found = api.client.get(f"{PREFIX}{page}/subgroups", headers=fed["v1"].headers).json()
    (gap,) = found["models"][0]["variables"][0]["gaps"]
    _, html = _page(api, page, fed["v1"])
    text = _text(html)
    assert "Subgroups" in text and "model-v1: Age band" in text
    table = _text(html[html.index('id="subgroup-') :].split("</table>")[0])
    assert "<50 3 1200 0.700 [" in table.replace("&lt;", "<")
    assert "50-69 3 1800 0.800 [" in table
    assert f"Gap in auroc: 50-69 - &lt;50 = 0.100 [{gap['lower']:.3f}, {gap['upper']:.3f}]" in text


def test_the_benchmark_page_has_a_board_per_phase_and_shows_a_closed_ones_hash(
    api: Api,
) -> None:
    fed = _federation(api, "public")
    bench, benchmark = fed["bench"], fed["benchmark"]
    path = f"/benchmarks/{benchmark['id']}"
    _, before = _page(api, path)
    assert "Phases:" not in _text(before)  # one phase: the page reads as it always did
    models = [entry["model"] for entry in _api_board(api, benchmark)["entries"]]
    assert models
    closed = bench.ok("post", f"/benchmarks/{benchmark['id']}/phases/main/closure", {})
    body = {"name": "final", "opens_at": closed["closed_at"]}
    bench.ok("post", f"/benchmarks/{benchmark['id']}/phases", body)
    status, html = _page(api, path)
    assert status == 200
    text = _text(html)
    assert "Leaderboard: phase final" in text and "No result yet." in text
    assert not any(model in text for model in models)  # none of main's results
    assert '<a href="?phase=main">main</a>' in html
    status, html = _page(api, f"{path}?phase=main")
    assert status == 200
    assert (
        f"Phase main is closed: this is its leaderboard as archived, sha256 "
        f"{closed['board_hash']} ." in _text(html)
    )
    assert all(model in _text(html) for model in models)
    status, html = _page(api, f"{path}?phase=nope")
    assert status == 404
    assert f"phase nope of benchmark {benchmark['name']}" in _text(html)
