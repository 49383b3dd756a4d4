"""The shift between the demo's four hospitals, from the statistics its preparation cube
writes: the GBSG trial (node-positive patients only) is flagged on the node-related
variable; no Rotterdam period is flagged. Prepares the sites only (a few seconds)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.demo.conftest import folder, run_ok

import medval.demo
from medval.core.documents import DatasetStatistics
from medval.core.shift_schemas import ShiftMeasure
from medval.demo.data import SITES, write_site
from medval.stats.shift import compare_sites

PREP = Path(medval.demo.__file__).parent / "cubes" / "breast_prep"


def _statistics(name: str, root: Path) -> DatasetStatistics:
    raw = write_site(name, root / name / "raw")
    cases, labels, out = (folder(root / name / part) for part in ("cases", "labels", "stats"))
    run_ok(
        PREP,
        "prepare.py",
        data_path=raw.data_path,
        labels_path=raw.labels_path,
        output_path=cases,
        output_labels_path=labels,
    )
    run_ok(PREP, "compute_statistics.py", data_path=cases, labels_path=labels, output_path=out)
    return DatasetStatistics.model_validate(json.loads((out / "statistics.json").read_text()))


@pytest.fixture(scope="module")
def statistics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DatasetStatistics]:
    root = tmp_path_factory.mktemp("shift")
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda name: _statistics(name, root), SITES))
    return dict(zip(SITES, found, strict=True))


def test_gbsg_is_flagged_on_its_nodes_and_no_rotterdam_period_is(
    statistics: dict[str, DatasetStatistics],
) -> None:
    shifts = {s.site: s for s in compare_sites(statistics)}
    assert {name: s.flagged for name, s in shifts.items()} == {
        "rotterdam-1986-87": False,
        "rotterdam-1988-89": False,
        "rotterdam-1990-93": False,
        "gbsg": True,
    }
    gbsg = shifts["gbsg"]
    nodes = next(
        c
        for c in gbsg.comparisons
        if (c.variable, c.measure) == ("proportion_node_positive", ShiftMeasure.COHENS_H)
    )
    # Every GBSG patient is node-positive; about half of Rotterdam's 2276 are.
    assert nodes.site_value == 1.0
    assert nodes.others_value == pytest.approx(0.4987, abs=1e-4)
    assert nodes.value == pytest.approx(1.5734, abs=1e-4)
    assert (nodes.threshold, nodes.flagged) == (0.5, True)
    flagged = [(c.variable, c.measure.value) for c in gbsg.comparisons if c.flagged]
    assert flagged == [
        ("event_rate", "cohens_h"),
        ("proportion_node_positive", "cohens_h"),
        ("proportion_hormonal_therapy", "cohens_h"),
        ("grade", "psi"),
    ]
    assert gbsg.not_compared == {"mean_nodes": "a mean without sd_nodes"}
