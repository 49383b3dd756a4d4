"""The cases a preparation workflow leaves out: counted in the statistics (medval's own
``preparation`` field), named on the data owner's screen before registration, and never
sent: the server, given the registration, holds no case name anywhere on its disk. Also
the per-step progress lines (done of total, elapsed, an estimate) of a real run."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.cli.main import main
from medval.client.preparation.decisions import exclude_case
from medval.client.preparation.progress_counts import CasesLeftOut, cases_left_out
from medval.client.preparation.workflow_run import workflow_folder
from medval.client.workspace import LocalDataset, Workspace
from medval.core.documents import DatasetStatistics, PreparationCounts
from medval.core.errors import Conflict
from medval.core.hashing import tree_hash
from tests.client.test_preparation_workflow import REVIEWED, _executor
from tests.client.workflow_cube import WORKFLOW, write_cases
from tests.conftest import LiveServer

PASSWORD = "first-password-1"
NAMES = (b"case-02", b"case-04")


def _prepared(tmp_path: Path) -> tuple[str, DatasetStatistics, CasesLeftOut, list[str]]:
    """Six cases: case-02 fails (set aside), case-04 excluded by the data owner."""
    executor, cube, progress = _executor(tmp_path, WORKFLOW)
    data, labels = write_cases(tmp_path / "raw", 6, broken=(2,))
    out = executor.workspace.dataset_dir("site-a")
    executor.prepare(cube, data, labels, out, benchmark_k=1)
    exclude_case(workflow_folder(out), "case-04")
    data_hash, statistics = executor.prepare(cube, data, labels, out, benchmark_k=1)
    return data_hash, statistics.document, cases_left_out(workflow_folder(out)), progress.said


def test_the_statistics_count_what_was_left_out_and_the_names_stay_here(tmp_path: Path) -> None:
    _, statistics, left, said = _prepared(tmp_path)
    assert statistics.n_cases == 4
    assert statistics.preparation == PreparationCounts(excluded=1, set_aside=1)
    assert left == CasesLeftOut(excluded=("case-04",), set_aside=("case-02",))
    assert not any(name.decode() in statistics.model_dump_json() for name in NAMES)
    # Progress per step: done of total and elapsed, said as the step goes.
    lines = [line for line in said if line.startswith("convert: 6 of 6 cases")]
    assert lines and re.fullmatch(r"convert: 6 of 6 cases, \d+ s elapsed", lines[0])
    # Prepared again: every case of the step kept (case-02's failure too), none timed.
    kept = [line for line in said if line.startswith("convert: 5 of 5 cases")]
    assert re.fullmatch(r"convert: 5 of 5 cases \(5 kept from before\), \d+ s elapsed", kept[0])


def test_after_the_review_is_answered_the_executor_goes_on_with_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    executor, cube, _ = _executor(tmp_path, REVIEWED)
    data, labels = write_cases(tmp_path / "raw", 3)
    out = executor.workspace.dataset_dir("site-a")
    with pytest.raises(Conflict):
        executor.prepare(cube, data, labels, out, benchmark_k=1)
    review = ["--home", str(executor.workspace.home), "dataset", "review"]
    assert main([*review, "accept", "site-a", "look", "case-00"]) == 0
    assert main([*review, "accept", "site-a", "look", "case-01"]) == 0
    with pytest.raises(Conflict) as waiting:
        executor.prepare(cube, data, labels, out, benchmark_k=1)
    assert "a review of 1 case(s) at step look" in waiting.value.message
    assert main([*review, "exclude", "site-a", "look", "case-02"]) == 0
    data_hash, statistics = executor.prepare(cube, data, labels, out, benchmark_k=1)
    assert sorted(p.name for p in (out / "data").iterdir()) == ["case-00", "case-01"]
    assert data_hash == tree_hash(out / "data", out / "labels")
    assert statistics.document.n_cases == 2
    assert statistics.document.preparation == PreparationCounts(excluded=1, set_aside=0)
    assert cases_left_out(workflow_folder(out)) == CasesLeftOut(("case-02",), ())


def test_a_cube_cannot_write_medvals_own_field(tmp_path: Path) -> None:
    claimed = DatasetStatistics.model_validate(
        {"n_cases": 3, "preparation": {"excluded": 0, "set_aside": 0}}
    )
    assert claimed.preparation == PreparationCounts(excluded=0, set_aside=0)
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        DatasetStatistics.model_validate({"preparation": {"excluded": 0, "names": ["x"]}})
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        PreparationCounts.model_validate({"excluded": -1, "set_aside": 0})
    # Prepared without a workflow: no field, and the JSON reads as before it.
    assert DatasetStatistics(n_cases=3).model_dump(mode="json") == {"n_cases": 3, "values": {}}


def _medval(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *args: str, stdin: str = "") -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.setenv("MEDVAL_HOME", str(home))
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_register_names_the_cases_left_out_here_and_sends_only_counts(
    tmp_path: Path,
    live_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_hash, statistics, left, _ = _prepared(tmp_path)
    home = tmp_path / "home"
    monkeypatch.setenv("MEDVAL_SERVER", live_server.url)
    live_server.make_admin("root", PASSWORD)
    login = ("login", "-u", "root", "--password-stdin")
    assert _medval(home, monkeypatch, capsys, *login, stdin=PASSWORD + "\n")[0] == 0
    code, out, err = _medval(
        home, monkeypatch, capsys, "cube", "register", str(tmp_path / "cubes" / "workflow-prep"),
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    cube = json.loads(out)
    dataset = LocalDataset(
        name="site-a", benchmark_id=1, data_preparator_id=cube["id"],
        data_preparator_hash=cube["archive_hash"], raw_data_path=str(tmp_path / "raw" / "data"),
        raw_labels_path=str(tmp_path / "raw" / "labels"), data_hash=data_hash,
        statistics=statistics, excluded_cases=list(left.excluded),
        set_aside_cases=list(left.set_aside), prepared_at=datetime.now(UTC),
    )  # fmt: skip
    Workspace(home).save_dataset(dataset)
    code, out, err = _medval(
        home, monkeypatch, capsys, "dataset", "register", "site-a", "--development", "--yes"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["statistics"] == {
        "n_cases": 4,
        "values": {},
        "preparation": {"excluded": 1, "set_aside": 1},
    }
    assert not any(name.decode() in out for name in NAMES)
    assert (
        "1 case(s) excluded by you, left out of the prepared data; named here only, never "
        "sent: case-04\n"
    ) in err
    assert (
        "1 case(s) set aside (a preparation step failed on them), left out of the prepared "
        "data; named here only, never sent: case-02\n"
    ) in err

    # The server has the counts, and no case name anywhere it keeps anything.
    registered = int(err.strip().rsplit(" ", 1)[1])
    code, out, _ = _medval(
        home, monkeypatch, capsys, "dataset", "show", str(registered), "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["statistics"]["preparation"] == {"excluded": 1, "set_aside": 1}
    kept = [path for path in live_server.settings.data_dir.rglob("*") if path.is_file()]
    assert kept
    for path in kept:
        content = path.read_bytes()
        assert not any(name in content for name in NAMES), path
