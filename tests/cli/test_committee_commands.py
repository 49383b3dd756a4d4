"""A committee's expected sites, participation view and exports (issue 19), through
``medval`` against a real server on SQLite and on PostgreSQL: an expected site's dataset
is approved at once and audited so; others are refused in one line with the exact exit
code; the CSV has its columns and rows; bad input changes nothing stored."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from medval.cli.main import main
from medval.client.participation import PARTICIPATION_COLUMNS, RESULT_COLUMNS
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings
from tests.server.conftest import HTTP_TIMEOUT, PASSWORD, Api, User
from tests.store.conftest import fresh_postgres_database, postgres_url

__all__ = ["postgres_url"]  # a fixture, used through ``server``

INSTITUTION = "St. Mary's"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


Medval = Callable[..., Outcome]


@dataclass(frozen=True)
class World:
    api: Api
    run_as: Callable[[str], Medval]
    people: dict[str, User]
    benchmark: dict[str, Any]
    model: dict[str, Any]

    @property
    def bench(self) -> Medval:
        return self.run_as("bench")

    def association(self, owner: str) -> dict[str, Any]:
        """``owner`` registers a dataset and asks to join; the answer."""
        dataset = self.api.dataset(self.people[owner], self.benchmark)
        body = {"benchmark_id": self.benchmark["id"], "kind": "dataset", "entity_id": dataset["id"]}
        return {"dataset": dataset, **self.people[owner].ok("post", "/associations", body)}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, ServerSettings]]:
    database_url = ""
    if request.param == "postgres":
        database_url = fresh_postgres_database(request.getfixturevalue("postgres_url"))
    settings = ServerSettings(
        data_dir=tmp_path / "server",
        database_url=database_url,
        port=0,
        password_hash_profile="test_only_cheapest",
        max_blob_bytes=1024,
    )
    with BackgroundServer(settings) as running:
        yield running.url, settings


@pytest.fixture
def world(
    server: tuple[str, ServerSettings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[World]:
    url, settings = server
    monkeypatch.setenv("MEDVAL_SERVER", url)
    monkeypatch.setenv("COLUMNS", "250")
    for variable in ("MEDVAL_PASSWORD", "MEDVAL_NEW_PASSWORD", "MEDVAL_DEBUG"):
        monkeypatch.delenv(variable, raising=False)

    def run_as(name: str) -> Medval:
        def run(*args: str, stdin: str = "") -> Outcome:
            monkeypatch.setenv("MEDVAL_HOME", str(tmp_path / "clients" / name))
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            code = main(list(args))
            out = capsys.readouterr()
            return Outcome(code, out.out, out.err.strip())

        return run

    with httpx.Client(base_url=url, timeout=HTTP_TIMEOUT) as http:
        api = Api(http, settings)
        people = {"root": api.admin("root")}
        people |= {name: api.user(name) for name in ("bench", "h1", "h2", "h3", "vendor")}
        benchmark = api.benchmark(people["bench"], approve_by=people["root"], min_sites=1)
        model = api.cube(people["vendor"], "model")
        api.associate(people["vendor"], benchmark, "model", model, people["bench"])
        # Only those who run medval log in with it: a login registers a new signing key,
        # which retires the one the API factories sign results with (h1 uploads one).
        for name in ("root", "bench", "h3"):
            login = run_as(name)("login", "-u", name, "--password-stdin", stdin=PASSWORD + "\n")
            assert login.code == 0, login.stderr
        yield World(api, run_as, people, benchmark, model)


def _expect(world: World) -> None:
    bid = str(world.benchmark["id"])
    put = world.run_as("root")("users", "institution", "h2", INSTITUTION)
    assert (put.code, put.stderr) == (0, f"h2 is in {INSTITUTION}")
    by_user = world.bench("benchmark", "expect", bid, "--user", "h1")
    assert (by_user.code, by_user.stderr) == (0, f"benchmark {bid} expects user h1")
    by_place = world.bench("benchmark", "expect", bid, "--institution", INSTITUTION)
    assert (by_place.code, by_place.stderr) == (
        0,
        f"benchmark {bid} expects institution {INSTITUTION}",
    )


def test_an_expected_sites_dataset_is_approved_at_once_and_audited(world: World) -> None:
    _expect(world)
    listed = world.bench("benchmark", "expected", str(world.benchmark["id"]), "-f", "json")
    assert [(s["kind"], s["name"], s["added_by"]) for s in json.loads(listed.stdout)] == [
        ("user", "h1", "bench"),
        ("institution", INSTITUTION, "bench"),
    ]
    for owner in ("h1", "h2"):
        joined = world.association(owner)
        assert joined["status"] == "approved", owner
        assert [(e["status"], e["automatic"], e["by"]) for e in joined["history"]] == [
            ("pending", False, owner),
            ("approved", True, "bench"),
        ]
        entries = world.people["root"].ok(
            "get", f"/audit?entity_kind=association&entity_id={joined['id']}"
        )
        assert [e["action"] for e in entries] == [
            "association.add",
            "association.auto-approved (expected site)",
        ]
    # Not expected: pending, for the committee to decide.
    assert world.association("h3")["status"] == "pending"


def test_only_the_committee_or_an_admin_may_expect_see_or_export(
    world: World, tmp_path: Path
) -> None:
    bid = str(world.benchmark["id"])
    name = world.benchmark["name"]
    refused = f"error: only the owner of benchmark {name} (or an admin) may do this"
    h3 = world.run_as("h3")
    target = tmp_path / "out.csv"
    for args in (
        ("benchmark", "expect", bid, "--user", "h2"),
        ("benchmark", "expected", bid),
        ("benchmark", "unexpect", bid, "--user", "h2"),
        ("benchmark", "participation", bid),
        ("benchmark", "export", bid, "--table", "results", "--output", str(target)),
    ):
        outcome = h3(*args)
        assert (outcome.code, outcome.stderr) == (3, refused), args
    assert not target.exists()
    not_admin = world.bench("users", "institution", "h3", INSTITUTION)
    assert (not_admin.code, not_admin.stderr) == (3, "error: only an admin may do this")
    # An admin may, for any benchmark.
    assert world.run_as("root")("benchmark", "participation", bid).code == 0


def test_bad_input_is_one_line_and_loses_nothing(world: World, tmp_path: Path) -> None:
    _expect(world)
    bid = str(world.benchmark["id"])
    bench = world.bench
    cases = [
        (("benchmark", "participation", "999"), 4, "error: benchmark 999 does not exist"),
        (("benchmark", "expect", "999", "--user", "h1"), 4, "error: benchmark 999 does not exist"),
        (("benchmark", "expect", bid, "--user", "nobody"), 4, "error: no user named 'nobody'"),
        (
            ("benchmark", "expect", bid, "--institution", "Nowhere"),
            4,
            "error: no account is in institution 'Nowhere' "
            "(an admin puts accounts in one: medval users institution)",
        ),
        (
            ("benchmark", "expect", bid, "--user", "h1"),
            5,
            f"error: user 'h1' is already expected on {world.benchmark['name']}",
        ),
        (
            ("benchmark", "expect", bid, "--user", "h1", "--institution", INSTITUTION),
            2,
            "error: name one site: --user NAME or --institution NAME",
        ),
        (
            ("benchmark", "expect", bid),
            2,
            "error: name one site: --user NAME or --institution NAME",
        ),
        (
            ("benchmark", "unexpect", bid, "--user", "h3"),
            4,
            f"error: user 'h3' is not expected on {world.benchmark['name']}",
        ),
        (
            (
                "benchmark",
                "export",
                bid,
                "--table",
                "results",
                "--output",
                str(tmp_path / "no" / "x.csv"),
            ),
            2,
            f"error: folder {tmp_path / 'no'} does not exist",
        ),
    ]
    for args, code, message in cases:
        outcome = bench(*args)
        assert (outcome.code, outcome.stderr) == (code, message), args
    root = world.run_as("root")
    unknown = root("users", "institution", "nobody", INSTITUTION)
    assert (unknown.code, unknown.stderr) == (4, "error: no user named 'nobody'")
    padded = root("users", "institution", "h3", " padded")
    assert padded.code == 2 and padded.stderr.startswith("error: institution: ")
    assert "\n" not in padded.stderr
    cleared = root("users", "institution", "h2")
    assert (cleared.code, cleared.stderr) == (0, "h2 is in no institution")
    users = json.loads(root("users", "list", "-f", "json").stdout)
    assert {u["username"]: u["institution"] for u in users}["h2"] is None
    kept = tmp_path / "kept.csv"
    kept.write_text("mine\n")
    exists = bench("benchmark", "export", bid, "--table", "participation", "--output", str(kept))
    assert (exists.code, exists.stderr) == (
        5,
        f"error: {kept} already exists; pass --force to replace it",
    )
    assert kept.read_text() == "mine\n"
    listed = bench("benchmark", "expected", bid, "-f", "json")
    assert [s["name"] for s in json.loads(listed.stdout)] == ["h1", INSTITUTION]
    # Removing an expectation removes it only: what it approved stays approved.
    approved = world.association("h1")
    gone = bench("benchmark", "unexpect", bid, "--user", "h1")
    assert (gone.code, gone.stderr) == (0, f"benchmark {bid} no longer expects user h1")
    listed = bench("benchmark", "expected", bid, "-f", "json")
    assert [s["name"] for s in json.loads(listed.stdout)] == [INSTITUTION]
    again = world.people["bench"].ok("get", f"/associations/{approved['id']}")
    assert again["status"] == "approved"


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_participation_and_exports(world: World, tmp_path: Path) -> None:
    _expect(world)
    bid = str(world.benchmark["id"])
    h1 = world.association("h1")
    world.association("h3")
    model = world.model
    body = world.api.result_body(world.benchmark, h1["dataset"], model, auroc=0.75)
    world.people["h1"].ok("post", "/results", body)

    shown = world.bench("benchmark", "participation", bid, "-f", "json")
    assert shown.code == 0, shown.stderr
    sites = {s["name"]: s for s in json.loads(shown.stdout)["sites"]}
    assert list(sites) == ["h1", INSTITUTION, "h3"]
    one, place, stray = sites["h1"], sites[INSTITUTION], sites["h3"]
    assert (one["expected"], one["joined"], one["prepared"]) == (True, True, True)
    assert (one["models_run"], one["results_sent"]) == ([model["name"]], 1)
    assert [d["dataset"] for d in one["datasets"]] == [h1["dataset"]["name"]]
    # The benchmark's reference model has not run there yet: waiting since h1 was approved.
    reference = world.people["bench"].ok("get", f"/cubes/{world.benchmark['reference_model_id']}")
    dataset_name = h1["dataset"]["name"]
    assert one["waiting_for"] == f"model {reference['name']} to run on {dataset_name}"
    assert one["waiting_since"] == h1["decided_at"]
    assert one["first_result_at"] == one["last_result_at"] is not None
    # The institution has an account (h2) but no dataset yet: waiting to join.
    assert (place["accounts"], place["joined"], place["prepared"]) == (["h2"], False, False)
    assert place["waiting_for"] == "joining"
    assert place["waiting_since"] == place["expected_since"]
    # h3 joined unexpected; its request is the committee's to decide, not pending on it.
    assert (stray["expected"], stray["joined"], stray["prepared"]) == (False, True, False)
    assert stray["waiting_for"] is None
    # No statistics and no metrics in the view: names, dates and counts only.
    assert "statistics" not in shown.stdout and "auroc" not in shown.stdout

    # h2 joins (approved at once) and is now waiting on the model, since its approval.
    h2 = world.association("h2")
    shown = world.bench("benchmark", "participation", bid, "-f", "json")
    place = json.loads(shown.stdout)["sites"][1]
    waits = [f"model {m['name']} to run on {h2['dataset']['name']}" for m in (model, reference)]
    assert place["waiting_for"] == min(waits)  # both since h2's approval: by name
    assert place["waiting_since"] == h2["decided_at"]
    table = world.bench("benchmark", "participation", bid)
    assert table.code == 0 and "joining" not in table.stdout and "h3" in table.stdout

    target = tmp_path / "participation.csv"
    done = world.bench("benchmark", "export", bid, "--table", "participation", "-o", str(target))
    assert (done.code, done.stderr) == (
        0,
        f"wrote 3 row(s) of participation of benchmark {bid} to {target}",
    )
    rows = _csv(target)
    assert list(rows[0]) == list(PARTICIPATION_COLUMNS)
    assert [(r["name"], r["expected"], r["prepared"], r["results_sent"]) for r in rows] == [
        ("h1", "true", "true", "1"),
        (INSTITUTION, "true", "true", "0"),
        ("h3", "false", "false", "0"),
    ]
    assert json.loads(rows[0]["models_run"]) == [model["name"]]
    csv_out = world.bench("benchmark", "participation", bid, "-f", "csv")
    assert csv_out.stdout == target.read_text()

    results = tmp_path / "results.csv"
    done = world.bench("benchmark", "export", bid, "--table", "results", "-o", str(results))
    assert (done.code, done.stderr) == (
        0,
        f"wrote 1 row(s) of results of benchmark {bid} to {results}",
    )
    (row,) = _csv(results)
    assert list(row) == [
        *RESULT_COLUMNS,
        "auroc",
        "auroc lower",
        "auroc upper",
        "executed_at",
        "created_at",
    ]
    assert (row["model"], row["model_owner"], row["dataset"], row["site"]) == (
        model["name"],
        "vendor",
        h1["dataset"]["name"],
        "h1",
    )
    assert (row["status"], row["n_cases"], row["auroc"], row["auroc lower"]) == (
        "succeeded",
        "1000",
        "0.75",
        "0.7",
    )
    # Replaced only when asked; an admin may export too.
    again = world.run_as("root")(
        "benchmark", "export", bid, "--table", "results", "-o", str(results), "--force"
    )
    assert again.code == 0, again.stderr
    assert _csv(results) == [row]
