"""``medval dataset report`` on a real preparation workflow (real sandbox, 40 cases, 2
failing, a review half answered) against a real server: the data owner sees the exact
payload, small cells withheld by medval, sends it on approval through a proxy that records
every byte, and no case's name crosses the wire; the benchmark's owner lists it."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from medval.cli.main import main
from medval.client.audit_log import LocalAuditLog
from medval.client.preparation.decisions import accept_review
from medval.client.preparation.workflow_run import workflow_folder
from medval.client.workspace import Workspace
from tests.cli.test_training_commands import Outcome
from tests.client.workflow_cube import prepare, write_cases, write_workflow_cube
from tests.conftest import LiveServer
from tests.e2e.recording_proxy import recording_proxy
from tests.server.conftest import HTTP_TIMEOUT, PASSWORD, Api

pytestmark = pytest.mark.sandbox

CASES = 40
REVIEWED = """workflow:
  steps:
    convert: {task: convert, runs: per_case}
    look: {runs: review, files: ["*.png"]}
    prepare: {task: prepare, runs: whole}
"""


def _medval(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str, stdin: str = "") -> Outcome:
        monkeypatch.setenv("MEDVAL_HOME", str(home))
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Outcome(code, out.out, out.err.strip())

    return run


def test_a_report_is_shown_sent_on_approval_and_names_no_case(
    live_server: LiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=HTTP_TIMEOUT) as http:
        api = Api(http, live_server.settings)
        bench = api.user("bench")
        benchmark = api.benchmark(bench, approve_by=api.admin())
        api.user("hospital")
    benchmark_id = str(benchmark["id"])
    for variable in ("MEDVAL_PASSWORD", "MEDVAL_DEBUG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("MEDVAL_SERVER", live_server.url)
    hospital = _medval(tmp_path / "hospital", monkeypatch, capsys)
    owner = _medval(tmp_path / "bench", monkeypatch, capsys)
    for name, person in (("hospital", hospital), ("bench", owner)):
        assert person("login", "--password-stdin", "-u", name, stdin=PASSWORD + "\n").code == 0

    # The hospital's preparation: 2 of 40 cases fail, 25 of the 38 overlays are accepted.
    cube = write_workflow_cube(tmp_path / "cubes", REVIEWED)
    data, _ = write_cases(tmp_path / "raw", CASES, broken=(4, 13))
    work = workflow_folder(Workspace(tmp_path / "hospital").dataset_dir("site-a"))
    prepare(cube, tmp_path / "raw", work, tmp_path / "counts.txt", jobs=2)
    accepted = [f"case-{i:02d}" for i in range(CASES) if i not in (4, 13)][:25]
    for case in accepted:
        accept_review(work, "look", case)

    # Not finished here, so its benchmark is not known: one line, nothing built.
    assert hospital("dataset", "report", "site-a") == Outcome(
        2,
        "",
        "error: dataset site-a has not finished preparing here, so medval does not know "
        "its benchmark: pass --benchmark",
    )
    shown = hospital("dataset", "report", "site-a", "-b", benchmark_id, "--format", "json")
    assert shown.code == 0, shown.stderr
    report = json.loads(shown.stdout)
    convert, look, whole = report["steps"]
    # convert: 38 done, 2 failed (small, and 38 goes with it); look: 25 accepted, 13 waiting,
    # 2 not yet (small, and 13 goes with it); prepare waits (a step's count, not patients').
    assert convert == {"step": "convert", "runs": "per_case", "done": None, "failed": None,
                       "waiting_for_review": 0, "not_yet": 0}  # fmt: skip
    assert look == {"step": "look", "runs": "review", "done": 25, "failed": 0,
                    "waiting_for_review": None, "not_yet": None}  # fmt: skip
    assert whole == {"step": "prepare", "runs": "whole", "done": 0, "failed": 0,
                     "waiting_for_review": 0, "not_yet": 1}  # fmt: skip
    assert (report["cases"], report["excluded"], report["min_cell_count"]) == (40, 0, 10)
    assert report["withheld"] == [
        "steps.convert.done", "steps.convert.failed",
        "steps.look.waiting_for_review", "steps.look.not_yet",
    ]  # fmt: skip
    table = hospital("dataset", "report", "site-a", "-b", benchmark_id)
    assert table.code == 0 and "waiting_for_review" in table.stdout
    assert table.stderr == "40 case(s), 0 excluded (-: withheld, below 10)"

    # Sent through a proxy that records every request: the payload shown is what is sent.
    login = ("login", "--password-stdin", "-u", "hospital")
    with recording_proxy(live_server.url) as (proxy, recorded):
        monkeypatch.setenv("MEDVAL_SERVER", proxy)
        assert hospital(*login, stdin=PASSWORD + "\n").code == 0  # its server: the proxy
        refused = hospital("dataset", "report", "site-a", "-b", benchmark_id, "--send")
        sent = hospital("dataset", "report", "site-a", "-b", benchmark_id, "--send", "--yes")
        denied = hospital("benchmark", "preparation-reports", benchmark_id)
    monkeypatch.setenv("MEDVAL_SERVER", live_server.url)
    assert refused.code == 10 and refused.stderr.splitlines()[-1] == (
        f"error: Send the preparation report of site-a to benchmark {benchmark_id} at {proxy}? "
        "— no terminal to ask on; pass --yes to approve"
    )
    assert sent.code == 0, sent.stderr
    assert json.loads(sent.stdout) == report
    assert sent.stderr.splitlines()[0] == "This is everything that will be sent to the server:"
    assert sent.stderr.splitlines()[-1] == "preparation report of site-a sent as report 1"
    (logged,) = LocalAuditLog(Workspace(tmp_path / "hospital").audit_dir, "hospital").entries()
    assert (logged.action, logged.entity_id) == ("preparation_report.send", "1")
    posts = [r for r in recorded if r.method == "POST" and "preparation-reports" in r.path]
    assert len(posts) == 1 and json.loads(posts[0].body) == report
    wire = b"".join(r.path.encode() + r.body for r in recorded)
    for index in range(CASES):
        assert f"case-{index:02d}".encode() not in wire
    assert str(data).encode() not in wire
    assert (denied.code, denied.stderr) == (
        3, f"error: only the owner of benchmark {benchmark['name']} (or an admin) may do this"
    )  # fmt: skip

    # The benchmark's owner sees it; the hospital may not list the benchmark's reports.
    listed = owner("benchmark", "preparation-reports", benchmark_id, "--format", "json")
    assert listed.code == 0, listed.stderr
    (kept,) = json.loads(listed.stdout)
    assert {k: v for k, v in kept.items() if k not in {"id", "owner", "owner_id",
                                                        "created_at"}} == report  # fmt: skip
    assert kept["owner"] == "hospital"
    rows = owner("benchmark", "preparation-reports", benchmark_id, "--format", "csv")
    assert rows.stdout.splitlines()[0] == (
        "id,owner,dataset,created_at,cases,excluded,step,runs,done,failed,"
        "waiting_for_review,not_yet"
    )
    assert len(rows.stdout.splitlines()) == 4
