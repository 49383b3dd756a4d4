"""``medval benchmark shift`` against a real server: each site's verdict line (flagged, by
which measure, value and threshold), its performance beside it as the leaderboard shows it
to the caller, the comparisons table, and a clear line for a benchmark one may not see."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from medval.cli.main import main
from tests.cli.test_training_commands import Outcome
from tests.conftest import LiveServer
from tests.server.conftest import HTTP_TIMEOUT, PASSWORD, Api
from tests.server.test_api_shift import _federation

Medval = Callable[..., Outcome]


@pytest.fixture
def federation(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=live_server.url, timeout=HTTP_TIMEOUT) as http:
        yield _federation(Api(http, live_server.settings), "participants")


def _person(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Medval:
    def run(*args: str, stdin: str = "") -> Outcome:
        monkeypatch.setenv("MEDVAL_HOME", str(tmp_path / name))
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Outcome(code, out.out, out.err.strip())

    login = run("login", "--password-stdin", "-u", name, stdin=PASSWORD + "\n")
    assert login.code == 0, login.stderr
    return run


@pytest.fixture
def as_user(
    live_server: LiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[[str], Medval]:
    monkeypatch.setenv("MEDVAL_SERVER", live_server.url)
    monkeypatch.setenv("COLUMNS", "200")
    for variable in ("MEDVAL_PASSWORD", "MEDVAL_DEBUG"):
        monkeypatch.delenv(variable, raising=False)
    return lambda name: _person(name, tmp_path, monkeypatch, capsys)


def test_each_site_says_whether_it_is_flagged_next_to_its_performance(
    federation: dict[str, Any], as_user: Callable[[str], Medval]
) -> None:
    bench = as_user("bench")
    benchmark_id = str(federation["benchmark"]["id"])
    shown = bench("benchmark", "shift", benchmark_id)
    assert (shown.code, shown.stderr) == (0, "")
    lines = shown.stdout.splitlines()
    name = federation["benchmark"]["name"]
    assert lines[0] == (
        f"{name}: 3 site(s), each against the others pooled (counts below 10 are not shown)"
    )
    assert "site-h1: not flagged" in lines
    assert "site-h2: not flagged" in lines
    verdict = lines.index(
        "site-h3: FLAGGED, a marked shift: event_rate cohens_h 1.018 >= 0.5; "
        "grade psi 0.876 >= 0.25"
    )
    assert lines[verdict + 1] == "performance in phase main (auroc): model-v1 0.800 [0.750, 0.850]"
    assert "psi: flags at >= 0.25: a major shift as commonly used in credit-risk" in shown.stdout
    row = next(line for line in lines if line.startswith("│ grade") and "0.876" in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]] == [
        "grade",
        "psi",
        "0.876",
        "0.25",
        "yes",
        "g1 20 (10%), g2 40 (20%), g3 140 (70%)",
        "g1 25%, g2 50%, g3 25%",
    ]

    as_json = bench("benchmark", "shift", benchmark_id, "--format", "json")
    assert as_json.code == 0
    sites = {s["dataset"]: s["flagged"] for s in json.loads(as_json.stdout)["sites"]}
    assert sites == {"site-h1": False, "site-h2": False, "site-h3": True}


def test_a_data_owner_sees_its_own_site_only(
    federation: dict[str, Any], as_user: Callable[[str], Medval]
) -> None:
    shown = as_user("h1")("benchmark", "shift", str(federation["benchmark"]["id"]))
    assert shown.code == 0
    lines = shown.stdout.splitlines()
    assert [line for line in lines if line.startswith("site-h")] == [
        "site-h1: not flagged",
        "site-h1: 200 cases against 2 other site(s) pooled",
    ]
    assert "performance in phase main (auroc): model-v1 0.800 [0.750, 0.850]" in lines


def test_the_performance_beside_each_site_is_that_of_the_phase_asked_for(
    federation: dict[str, Any], as_user: Callable[[str], Medval]
) -> None:
    bench, b = as_user("bench"), str(federation["benchmark"]["id"])
    add = ("benchmark", "phase", "add", b, "before", "--opens", "2020-01-01")
    assert bench(*add, "--closes", "2020-02-01").code == 0
    default = bench("benchmark", "shift", b).stdout.splitlines()
    assert "performance in phase main (auroc): model-v1 0.800 [0.750, 0.850]" in default
    before = bench("benchmark", "shift", b, "--phase", "before")
    assert (before.code, before.stderr) == (0, "")
    lines = before.stdout.splitlines()
    assert lines.count("performance in phase before: no results yet") == 3
    # The comparisons are of the sites' statistics: the same in every phase.
    assert [x for x in lines if not x.startswith("performance")] == [
        x for x in default if not x.startswith("performance")
    ]
    name = federation["benchmark"]["name"]
    for fmt in ("table", "json", "csv"):
        unknown = bench("benchmark", "shift", b, "--phase", "final", "--format", fmt)
        assert (unknown.code, unknown.stdout, unknown.stderr) == (
            4,
            "",
            f"error: benchmark {name} has no phase 'final' (its phases: before, main)",
        )


def test_an_outsider_gets_one_line_and_exit_code(
    federation: dict[str, Any], as_user: Callable[[str], Medval]
) -> None:
    refused = as_user("stranger")("benchmark", "shift", str(federation["benchmark"]["id"]))
    assert refused.code == 3, refused
    assert refused.stdout == ""
    assert refused.stderr == (
        f"error: the shift between sites of {federation['benchmark']['name']} is released "
        "to the benchmark owner, admins and participants only"
    )
