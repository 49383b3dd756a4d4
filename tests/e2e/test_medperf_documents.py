"""MedPerf-style statistics.yaml and results.yaml through the real CLI (issue 9).

A tiny benchmark in medval's own cube format whose preparation cube writes a free-form
``statistics.yaml`` (text, a list of ages, NaN) and whose evaluator writes a MedPerf-style
``results.yaml`` (metrics nested per label, NaN, a per-case list, free text). What is
left out is named in every review the data owner sees; what crosses the wire (recorded
by a proxy in front of the server) holds none of it; the leaderboard and results tables
show the evaluator's own metric names with their values. A ``results.yaml`` that is not
a mapping is one line and a non-zero exit, and ``medval run`` goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from medval.client.workspace import result_key
from tests.e2e.conftest import Server
from tests.e2e.people import Person
from tests.e2e.recording_proxy import Recorded, recording_proxy
from tests.e2e.script_cubes import COPY_SITE, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e]

# Values that exist only in what the cubes write, so that any sight of them is a leak.
PER_CASE = ("0.918273", "0.546372", "0.102938")
SCANNER = "Siemens Aera 1.5T"
AGES = ("61.25", "72.75", "55.5")

_PREP = {
    "prepare.py": COPY_SITE,
    "sanity_check.py": "pass",
    "statistics.py": f"""
        open(os.path.join(args["output_path"], "statistics.yaml"), "w").write(
            # As many cases as the cube says: above medval's small-cell threshold.
            "n_cases: 30\\n"
            "image_size: {{mean: 512.0, std: .nan}}\\n"
            "scanner: {SCANNER}\\n"
            "ages: [{", ".join(AGES)}]\\n"
        )
        """,
}
_MODEL = """
    mode = open(os.path.join(args["data_path"], "mode.txt")).read()
    lines = ["not a mapping"] if {listing!r} and mode == "site" else {per_case!r}
    open(os.path.join(args["output_path"], "predictions.csv"), "w").write("\\n".join(lines))
    """
_EVALUATE = """
    predictions = open(os.path.join(args["predictions"], "predictions.csv")).read().split()
    target = os.path.join(args["output_path"], "results.yaml")
    if predictions == ["not", "a", "mapping"]:
        open(target, "w").write("- 0.5\\n")
    else:
        open(target, "w").write(
            "AUC:\\n"
            "  Label A: 0.81\\n"
            "  Label B: .nan\\n"
            "accuracy: {value: 0.75, lower: 0.5, upper: 0.9}\\n"
            f"per_case_probability: [{', '.join(predictions)}]\\n"
            "evaluator_note: computed by the tiny evaluator\\n"
        )
    """
LABELS = "id,y\n1,0\n2,1\n3,0\n"
PER_CASE_REASON = (
    "per_case_probability: a list of 3 items; lists (per-case values, say) are never sent"
)


@dataclass(frozen=True)
class Outputs:
    """What each step showed the people, and every request the hospital sent."""

    benchmark: int
    reference: int
    listing_model: int
    dataset: int
    register_benchmark_err: str
    prepare_err: str
    register_out: str
    register_err: str
    run_code: int
    run_err: str
    upload_out: str
    upload_err: str
    wire: list[Recorded]
    hospital: Person


@pytest.fixture(scope="module")
def outputs(
    people: dict[str, Person], server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outputs]:
    root = tmp_path_factory.mktemp("medperf-documents")
    committee, vendor, admin = people["committee"], people["vendor"], people["admin"]
    prep = write_cube(root, "yaml-prep", "data_preparator", _PREP)
    reference = write_cube(
        root, "plain-model", "model", {"infer.py": _MODEL.format(listing=False, per_case=PER_CASE)}
    )
    evaluator = write_cube(root, "medperf-style-evaluator", "evaluator", {"evaluate.py": _EVALUATE})
    registered = register_benchmark(
        committee,
        admin,
        "medperf-style",
        (prep, reference, evaluator),
        write_site(root / "demo", "demo", LABELS),
    )
    benchmark, ids = registered.id, registered.cube_ids
    listing = write_cube(
        root, "listing-model", "model", {"infer.py": _MODEL.format(listing=True, per_case=PER_CASE)}
    )
    listing_model = vendor.json("model", "register", str(listing))["id"]
    vendor.ok("model", "associate", str(listing_model), "--benchmark", str(benchmark), "--yes")

    site = write_site(root / "site", "site", LABELS)
    with recording_proxy(server.url) as (proxy_url, wire):
        hospital = Person("hospital-a", people["hospital-a"].home, proxy_url)
        hospital.ok("login", "--username", "hospital-a")
        prepared = hospital.medval(
            "dataset", "prepare", "--benchmark", str(benchmark), "--name", "yaml-site",
            "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
        )  # fmt: skip
        assert prepared.code == 0, prepared.stderr
        registered_dataset = hospital.medval("dataset", "register", "yaml-site", "--yes")
        assert registered_dataset.code == 0, registered_dataset.stderr
        hospital.ok("dataset", "associate", "yaml-site", "--yes")
        for association in committee.json("association", "list", "--status", "pending"):
            committee.ok("association", "approve", str(association["id"]), "--yes")
        ran = hospital.medval("run", "--benchmark", str(benchmark), "--yes")
        dataset = hospital.json("dataset", "list", "--mine")[0]["id"]
        uploaded = hospital.medval(
            "results", "upload", result_key(benchmark, ids[1], dataset), "--yes"
        )
        assert uploaded.code == 0, uploaded.stderr
        yield Outputs(
            benchmark=benchmark,
            reference=ids[1],
            listing_model=listing_model,
            dataset=dataset,
            register_benchmark_err=registered.registration.stderr,
            prepare_err=prepared.stderr,
            register_out=registered_dataset.stdout,
            register_err=registered_dataset.stderr,
            run_code=ran.code,
            run_err=ran.stderr,
            upload_out=uploaded.stdout,
            upload_err=uploaded.stderr,
            wire=list(wire),
            hospital=hospital,
        )


def test_the_compatibility_test_names_what_is_left_out(outputs: Outputs) -> None:
    assert "auc_label_a" in outputs.register_benchmark_err
    assert f"  - {PER_CASE_REASON}" in outputs.register_benchmark_err


def test_dataset_statistics_review_names_what_is_left_out_and_sends_none_of_it(
    outputs: Outputs,
) -> None:
    for shown in (outputs.prepare_err, outputs.register_err):
        assert "Left out of the statistics file: kept on this machine, never sent:" in shown
        assert "  - scanner: text; only numbers are sent" in shown
        assert "  - ages: a list of 3 items; lists (per-case values, say) are never sent" in shown
    payload = json.loads(outputs.register_out)
    assert payload["statistics"] == {
        "n_cases": 30,
        "values": {"image_size_mean": 512.0, "image_size_std": None},
    }


def test_the_result_review_names_the_per_case_list_and_the_payload_lacks_it(
    outputs: Outputs,
) -> None:
    assert f"  - {PER_CASE_REASON}" in outputs.run_err
    assert f"  - {PER_CASE_REASON}" in outputs.upload_err
    assert "  - evaluator_note: text; only numbers are sent" in outputs.upload_err
    payload = json.loads(outputs.upload_out)
    assert payload["document"] == {
        "n_cases": None,
        "n_positive": None,
        "metrics": {
            "auc_label_a": {"value": 0.81, "lower": None, "upper": None},
            "auc_label_b": {"value": None, "lower": None, "upper": None},
            "accuracy": {"value": 0.75, "lower": 0.5, "upper": 0.9},
        },
    }
    for private in (*PER_CASE, "per_case", "evaluator_note"):
        assert private not in outputs.upload_out


def test_nothing_left_out_ever_crosses_the_wire(outputs: Outputs) -> None:
    sent = "\n".join(request.text() for request in outputs.wire)
    assert "/results" in sent and "auc_label_a" in sent  # the proxy saw the upload
    for private in (*PER_CASE, SCANNER, *AGES, "per_case_probability", "evaluator_note"):
        assert private not in sent


def test_what_is_left_out_is_kept_with_the_local_result(outputs: Outputs) -> None:
    [local] = [
        r for r in outputs.hospital.json("results", "list", "--local")
        if r["model_id"] == outputs.reference
    ]  # fmt: skip
    left_out = {
        "path": "per_case_probability",
        "reason": PER_CASE_REASON.split(": ", 1)[1],
        "small_cell": False,
    }
    assert left_out in local["left_out"]
    table = outputs.hospital.ok("results", "list", "--local")
    assert "auc_label_a" in table and "0.810" in table


def test_a_results_file_that_is_not_a_mapping_is_one_line_and_run_goes_on(
    outputs: Outputs,
) -> None:
    listing = result_key(outputs.benchmark, outputs.listing_model, outputs.dataset)
    message = (
        "the cube's results.yaml is a list of 1 item, not a mapping at the top level (results)"
    )
    assert outputs.run_code == 2, outputs.run_err
    assert f"error: 1 of 2 executions failed: {listing}: {message}" in outputs.run_err
    assert "Traceback" not in outputs.run_err


def test_tables_show_the_evaluators_own_metrics(
    outputs: Outputs, people: dict[str, Person]
) -> None:
    committee = people["committee"]
    board = committee.ok("benchmark", "leaderboard", str(outputs.benchmark))
    assert "ranked by auc_label_a (higher is better)" in board
    row = next(line for line in board.splitlines() if "plain-model" in line)
    assert "0.810" in row and "0.750" in row
    assert "auroc" not in board
    results = committee.ok("results", "list", "--benchmark", str(outputs.benchmark))
    header = next(line for line in results.splitlines() if "auc_label_a" in line)
    assert header.index("auc_label_a") < header.index("auc_label_b") < header.index("accuracy")
    row = next(line for line in results.splitlines() if "plain-model" in line)
    assert "0.810" in row and "missing" in row and "0.750 [0.500, 0.900]" in row
