"""``medval demo --training`` played whole: the four hospitals train on Flower, and the
federated model joins the leaderboard beside a model trained on their pooled data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from medval.demo.play_training import CENTRAL_MODEL, EXPERIMENT

pytestmark = [pytest.mark.e2e, pytest.mark.flower, pytest.mark.sandbox]
LINE = re.compile(r"^  (?P<how>[a-z ]+): (?P<model>\S+): AUROC (?P<value>[0-9.]+) \[")


@pytest.mark.timeout(1800)
def test_the_training_demo_trains_and_joins_the_benchmark(tmp_path: Path) -> None:
    workdir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "medval", "demo", "--training", "--workdir", str(workdir)],
        env={**os.environ, "MEDVAL_HOME": str(tmp_path / "home"), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stderr
    assert "round 5/5: train aggregated from 4 sites (0 failures)" in log
    assert f"final model registered as model cube {EXPERIMENT}-final" in log
    # It ends with the address of the benchmark's page (see tests/browser for the page).
    assert "then open the benchmark's page, http://127.0.0.1:8000/benchmarks/1\n" in log
    found = {
        m["model"]: (m["how"], float(m["value"])) for m in map(LINE.match, log.splitlines()) if m
    }
    assert set(found) == {f"{EXPERIMENT}-final", CENTRAL_MODEL}, log[-3000:]
    assert found[f"{EXPERIMENT}-final"][0] == "trained across the hospitals"
    federated, central = found[f"{EXPERIMENT}-final"][1], found[CENTRAL_MODEL][1]
    # Federation comes within 0.02 AUROC of training on the pooled data (0.732 and 0.729
    # when this was written); weights left at their start or a broken aggregation would not.
    assert abs(federated - central) < 0.02, (federated, central)
