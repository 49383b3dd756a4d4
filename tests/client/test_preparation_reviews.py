"""``medval dataset review list|accept|replace|exclude`` and ``dataset case``: a workflow
that stops at a review step, answered from the CLI; each answer is in the local audit log,
and the workflow then goes on with the rest. Bad answers are one line and change nothing.
The cube's tasks run in the real sandbox."""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
from pathlib import Path

import pytest

from medval.cli.main import main
from medval.client.audit_log import LocalAuditLog
from medval.client.preparation.state import STATE_FILE
from medval.client.preparation.workflow_run import LOCK_FILE, workflow_folder
from medval.client.workspace import Workspace
from tests.client.workflow_cube import CountingCube, prepare, write_cases, write_workflow_cube

REVIEWED = """workflow:
  steps:
    convert: {task: convert, runs: per_case}
    look: {runs: review, files: ["*.png"]}
    prepare: {task: prepare, runs: whole}
"""


NOT_REVIEW = "'{}' is not a review step of the workflow"


class Site:
    """Three cases stopped at the review step ``look``, in ``home``'s workspace."""

    def __init__(self, tmp_path: Path, workflow: str = REVIEWED) -> None:
        self.home = tmp_path / "home"
        self.cube = write_workflow_cube(tmp_path / "cubes", workflow)
        write_cases(tmp_path / "raw", 3)
        self.raw = tmp_path / "raw"
        self.work = workflow_folder(Workspace(self.home).dataset_dir("site-a"))
        self.counts = tmp_path / "counts.txt"
        self.tmp = tmp_path

    def prepare(self) -> object:
        return prepare(self.cube, self.raw, self.work, self.counts, jobs=1)

    def overlay(self, case: str) -> Path:
        return self.work / "steps" / "convert" / "cases" / case / "data" / case / "overlay.png"

    def audit(self) -> LocalAuditLog:
        return LocalAuditLog(Workspace(self.home).audit_dir, "(not logged in)")

    def medval(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--home", str(self.home), "dataset", *args])
        out = capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def site(tmp_path: Path) -> Site:
    stopped = Site(tmp_path)
    outcome = stopped.prepare()
    assert getattr(outcome, "prepared", "") is None
    return stopped


def _listed(site: Site, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    code, out, _ = site.medval(capsys, "review", "list", "site-a", "--format", "csv")
    assert code == 0
    return list(csv.DictReader(io.StringIO(out)))


def test_review_list_names_each_waiting_case_and_the_full_path_of_its_files(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _listed(site, capsys) == [
        {"step": "look", "case": f"case-0{i}", "file": str(site.overlay(f"case-0{i}"))}
        for i in range(3)
    ]
    assert site.overlay("case-00").read_text() == "png"  # a file a reviewer can open
    code, out, _ = site.medval(capsys, "review", "list", "site-a", "--format", "json")
    assert code == 0
    assert json.loads(out)[1] == {
        "step": "look",
        "case": "case-01",
        "file": str(site.overlay("case-01")),
    }
    code, out, _ = site.medval(capsys, "review", "list", "site-a")
    assert code == 0
    assert "cases to review in site-a" in out and str(site.overlay("case-02")) in out


def test_accept_replace_and_exclude_then_the_workflow_goes_on(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = site.medval(capsys, "review", "accept", "site-a", "look", "case-00")
    assert (code, err) == (
        0,
        "case case-00 of site-a accepted at look; next: medval dataset prepare\n",
    )

    corrected = site.tmp / "corrected.png"
    corrected.write_bytes(b"corrected mask overlay")
    sha = hashlib.sha256(b"corrected mask overlay").hexdigest()
    # The prepared data of case-01 will be linked from this file: a replacement must not
    # write into it (a new file, renamed over it).
    linked = site.tmp / "linked.png"
    linked.hardlink_to(site.overlay("case-01"))
    replace = ["review", "replace", "site-a", "look", "case-01", "case-01/overlay.png"]
    code, _, err = site.medval(capsys, *replace, str(corrected))
    assert code == 0
    assert err == (
        f"case-01/overlay.png of case case-01 replaced (sha256 {sha[:12]}…) and accepted at "
        "look; next: medval dataset prepare\n"
    )
    assert site.overlay("case-01").read_bytes() == b"corrected mask overlay"
    assert linked.read_text() == "png"

    code, _, err = site.medval(capsys, "review", "exclude", "site-a", "look", "case-02")
    assert (code, err) == (
        0,
        "case case-02 of site-a excluded at look; next: medval dataset prepare\n",
    )
    assert _listed(site, capsys) == []

    entries = site.audit().entries()
    assert [(e.actor, e.action, e.entity_kind, e.entity_id) for e in entries] == [
        ("(not logged in)", "preparation_case.accept", "preparation_case",
         "site-a/look/case-00"),
        ("(not logged in)", "preparation_case.replace", "preparation_case",
         "site-a/look/case-01"),
        ("(not logged in)", "preparation_case.exclude", "preparation_case",
         "site-a/look/case-02"),
    ]  # fmt: skip
    assert entries[1].after_hash == sha
    assert entries[0].after_hash is not None and len(entries[0].after_hash) == 64
    site.audit().verify()

    outcome = site.prepare()
    prepared = getattr(outcome, "prepared", None)
    assert prepared is not None
    data = prepared[0]
    assert sorted(p.name for p in data.iterdir()) == ["case-00", "case-01"]
    assert (data / "case-01" / "overlay.png").read_bytes() == b"corrected mask overlay"
    assert (data / "case-00" / "overlay.png").read_text() == "png"
    assert CountingCube(site.cube, site.counts).runs()[3:] == ["prepare all"]


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        (["accept", "site-a", "look", "case-07"], "'case-07' is not a case of {raw}"),
        (["accept", "site-a", "convert", "case-00"], NOT_REVIEW.format("convert")),
        (["exclude", "site-a", "look", "case-07"], "'case-07' is not a case of {raw}"),
        (["exclude", "site-a", "nowhere", "case-00"], NOT_REVIEW.format("nowhere")),
        (["replace", "site-a", "look", "case-07", "case-07/overlay.png", "{new}"],
         "'case-07' is not a case of {raw}"),
        (["replace", "site-a", "nowhere", "case-00", "case-00/overlay.png", "{new}"],
         NOT_REVIEW.format("nowhere")),
        (["replace", "site-a", "look", "case-00", "../../case-01/data/case-01/overlay.png",
          "{new}"], "../../case-01/data/case-01/overlay.png is outside what was written for "
         "case 'case-00'"),
        (["replace", "site-a", "look", "case-00", "/etc/passwd", "{new}"],
         "/etc/passwd is outside what was written for case 'case-00'"),
        (["replace", "site-a", "look", "case-00", "case-00/mask.png", "{new}"],
         "case-00/mask.png is not a file written for case 'case-00'"),
        (["replace", "site-a", "look", "case-00", "case-00", "{new}"],
         "case-00 is not a file written for case 'case-00'"),
        (["replace", "site-a", "look", "case-00", "case-00/overlay.png", "{missing}"],
         "{missing} is not a file to put in place of case-00/overlay.png"),
    ],
)  # fmt: skip
def test_a_bad_review_answer_is_one_line_exit_2_and_changes_nothing(
    site: Site, capsys: pytest.CaptureFixture[str], answer: list[str], line: str
) -> None:
    new = site.tmp / "new.png"
    new.write_bytes(b"new")
    places = {"raw": site.raw / "data", "new": new, "missing": site.tmp / "missing.png"}
    state_before = (site.work / STATE_FILE).read_bytes()
    code, out, err = site.medval(capsys, "review", *[a.format(**places) for a in answer])
    assert (code, out) == (2, "")
    assert err == f"error: {line.format(**places)}\n"
    assert (site.work / STATE_FILE).read_bytes() == state_before
    assert site.overlay("case-00").read_text() == "png"
    assert site.audit().entries() == []
    assert len(_listed(site, capsys)) == 3


def test_an_answer_for_a_dataset_without_a_workflow_is_one_line_exit_4(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "error: dataset site-b has no preparation workflow here\n"
    for args in (
        ["review", "list", "site-b"],
        ["review", "accept", "site-b", "look", "case-00"],
        ["review", "exclude", "site-b", "look", "case-00"],
        ["review", "replace", "site-b", "look", "case-00", "case-00/overlay.png", "x"],
        ["case", "retry", "site-b", "case-00"],
        ["case", "exclude", "site-b", "case-00"],
    ):
        assert site.medval(capsys, *args) == (4, "", line), args


def test_nothing_to_review_yet_is_one_line(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    # A case the step before the review failed on has nothing to review.
    (site.raw / "data" / "case-03").mkdir()
    (site.raw / "data" / "case-03" / "value.txt").write_text("broken")
    site.prepare()
    code, _, err = site.medval(capsys, "review", "accept", "site-a", "look", "case-03")
    assert (code, err) == (2, "error: case 'case-03' has nothing to review at 'look' yet\n")


def test_case_decisions_are_in_the_local_audit_log(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    (site.raw / "data" / "case-03").mkdir()
    (site.raw / "data" / "case-03" / "value.txt").write_text("broken")
    site.prepare()
    assert site.medval(capsys, "case", "retry", "site-a", "case-03")[0] == 0
    assert site.medval(capsys, "case", "exclude", "site-a", "case-02")[0] == 0
    assert site.medval(capsys, "case", "retry", "site-a", "case-00") == (
        2, "", "error: case 'case-00' has no failed step to retry\n"
    )  # fmt: skip
    assert [(e.action, e.entity_id) for e in site.audit().entries()] == [
        ("preparation_case.retry", "site-a/convert/case-03"),
        ("preparation_case.exclude", "site-a/case-02"),
    ]
    capsys.readouterr()
    assert main(["--home", str(site.home), "audit"]) == 0
    table = capsys.readouterr().out
    assert "preparation_case site-a/convert/case-03" in table
    assert "preparation_case site-a/case-02" in table
    found = ["--home", str(site.home), "audit", "--entity", "preparation_case:site-a/case-02"]
    assert main([*found, "--format", "json"]) == 0
    assert [e["action"] for e in json.loads(capsys.readouterr().out)] == [
        "preparation_case.exclude"
    ]


def test_status_counts_the_cases_waiting_for_a_review(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.medval(capsys, "review", "accept", "site-a", "look", "case-00")
    code, out, err = site.medval(capsys, "status", "site-a", "--format", "json")
    assert code == 0
    steps = json.loads(out)
    assert [(s["step"], s["done"], s["failed"], s["waiting"]) for s in steps] == [
        ("convert", 3, 0, 0),
        ("look", 1, 0, 2),
        ("prepare", 0, 0, 1),
    ]
    assert steps[0]["last_progressed"] is not None and steps[2]["last_progressed"] is None
    assert err == "0 case(s) excluded\n"


def test_a_replacement_while_a_preparation_runs_is_refused(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    new = site.tmp / "new.png"
    new.write_bytes(b"new")
    with (site.work / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a running preparation holds it
        code, _, err = site.medval(
            capsys, "review", "replace", "site-a", "look", "case-00", "case-00/overlay.png",
            str(new),
        )  # fmt: skip
    assert code == 5
    assert err == f"error: another preparation is running in {site.work}: wait for it, or stop it\n"
    assert site.overlay("case-00").read_text() == "png"
    assert site.audit().entries() == []
