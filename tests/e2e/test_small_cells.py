"""Small cells, enforced by medval (issue 10): a cube of one's own writes counts of 2 and
a proportion computed from them, in its statistics and in its results; the data owner's
client withholds each before the review, the review names them, and nothing below the
benchmark's k (10 by default) crosses the wire (a recording proxy sees every byte).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from medval.core.documents import DatasetStatistics, ResultDocument
from medval.core.small_cells import small_cells_in_result, small_cells_in_statistics
from tests.e2e.conftest import Server
from tests.e2e.people import CliResult, Person
from tests.e2e.recording_proxy import Recorded, recording_proxy
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

# 40 cases, 2 of grade 1 (and 2/40 = 0.05 of them); 20 positive, 2 of them missed
# (a sensitivity of 18/20 = 0.9).
STATISTICS = {
    "n_cases": 40,
    "values": {"grade": {"grade_1": 2, "grade_2": 38}, "grade_1_share": 0.05, "mean_age": 61.5},
}
RESULTS = {
    "n_cases": 40,
    "n_positive": 20,
    "metrics": {
        "false_negatives": {"value": 2},
        "sensitivity": {"value": 0.9},
        "auroc": {"value": 0.8123, "lower": 0.6712, "upper": 0.9034},
    },
}
_PREP = copying_prep(STATISTICS)
_MODEL = """
    open(os.path.join(args["output_path"], "predictions.csv"), "w").write("ok")
    """
_EVALUATE = f"""
    json.dump({RESULTS!r}, open(os.path.join(args["output_path"], "results.json"), "w"))
    """
WITHHELD_STATISTICS = [
    "  - grade.grade_1: a count of 2, below the minimum cell size 10",
    "  - grade.grade_2: withheld with grade.grade_1: a total would reveal it",
    "  - grade_1_share: 0.05 is 2 of 40, a proportion of a count below 10",
]
WITHHELD_RESULTS = [
    "  - false_negatives: a count of 2, below the minimum cell size 10",
    "  - sensitivity: 0.9 is 18 of 20, a proportion of a count below 10",
]


@dataclass(frozen=True)
class SmallCellRun:
    benchmark: int
    registration: CliResult
    prepared: CliResult
    ran: CliResult
    uploaded: CliResult
    wire: list[Recorded]


@pytest.fixture(scope="module")
def small_cells(
    people: dict[str, Person], server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SmallCellRun]:
    root = tmp_path_factory.mktemp("small-cells")
    cubes = (
        write_cube(root, "counting-prep", "data_preparator", _PREP),
        write_cube(root, "counting-model", "model", {"infer.py": _MODEL}),
        write_cube(root, "counting-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    registered = register_benchmark(
        people["committee"], people["admin"], "small-cells", cubes, write_site(root / "demo", "x")
    )
    bid = str(registered.id)
    with recording_proxy(server.url) as (proxy_url, wire):
        hospital = Person("hospital-a", people["hospital-a"].home, proxy_url)
        hospital.ok("login", "--username", "hospital-a")  # its stored server is the proxy
        site = write_site(root / "site", "site")
        prepared = hospital.medval(
            "dataset", "prepare", "--benchmark", bid, "--name", "counting-site",
            "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
        )  # fmt: skip
        assert prepared.code == 0, prepared.stderr
        hospital.ok("dataset", "register", "counting-site", "--yes")
        hospital.ok("dataset", "associate", "counting-site", "--yes")
        committee = people["committee"]
        for association in committee.json("association", "list", "--status", "pending"):
            committee.ok("association", "approve", str(association["id"]), "--yes")
        ran = hospital.medval("run", "--benchmark", bid, "--yes")
        assert ran.code == 0, ran.stderr
        uploaded = hospital.medval("results", "upload", "--all", "--yes")
        assert uploaded.code == 0, uploaded.stderr
        yield SmallCellRun(registered.id, registered.registration, prepared, ran, uploaded, wire)


def _section(stderr: str, heading: str) -> list[str]:
    """The lines listed under ``heading`` in a review."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    found = []
    for line in lines[start + 1 :]:
        if not line.startswith("  - "):
            break
        found.append(line)
    return found


def test_the_reviews_name_what_was_withheld(small_cells: SmallCellRun) -> None:
    heading = "Withheld from the statistics file as small cells"
    assert _section(small_cells.prepared.stderr, heading) == WITHHELD_STATISTICS
    heading = "Withheld from the evaluator's results as small cells"
    assert _section(small_cells.ran.stderr, heading) == WITHHELD_RESULTS
    # The benchmark owner's compatibility test on the demo data withholds them too.
    assert _section(small_cells.registration.stderr, heading) == WITHHELD_RESULTS


def test_nothing_below_k_crosses_the_wire(small_cells: SmallCellRun) -> None:
    sent = {
        (r.method, r.path.split("?")[0]): json.loads(r.body)
        for r in small_cells.wire
        if r.method == "POST" and r.path.split("?")[0].endswith(("/datasets", "/results"))
    }
    [dataset] = [body for (_, path), body in sent.items() if path.endswith("/datasets")]
    [result] = [body for (_, path), body in sent.items() if path.endswith("/results")]
    assert dataset["statistics"] == {"n_cases": 40, "values": {"grade": {}, "mean_age": 61.5}}
    # The benchmark declares what its evaluator reports (inferred at registration): a
    # declared metric withheld as a small cell is sent as missing, its value never.
    missing = {"value": None, "lower": None, "upper": None}
    assert result["document"] == {
        "n_cases": 40,
        "n_positive": 20,
        "metrics": {
            "auroc": {"value": 0.8123, "lower": 0.6712, "upper": 0.9034},
            "false_negatives": missing,
            "sensitivity": missing,
        },
    }
    statistics = DatasetStatistics.model_validate(dataset["statistics"])
    assert small_cells_in_statistics(statistics, 10) == []
    assert small_cells_in_result(ResultDocument.model_validate(result["document"]), 10) == []
    everything = b"".join(r.body for r in small_cells.wire)
    assert b"grade_1" not in everything
    for value in (b'"value": 2', b'"value":2', b"0.9,", b"0.9}", b"0.05"):
        assert value not in everything


def test_the_stored_result_is_what_was_sent(
    people: dict[str, Person], small_cells: SmallCellRun
) -> None:
    [stored] = people["committee"].json(
        "results", "list", "--benchmark", str(small_cells.benchmark)
    )
    metrics = stored["document"]["metrics"]
    assert list(metrics) == ["auroc", "false_negatives", "sensitivity"]
    assert [metrics[name]["value"] for name in metrics] == [0.8123, None, None]
