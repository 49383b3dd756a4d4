"""A model that fails at a site is a result too, through the real CLI (issue 9).

Two models behave on the benchmark's demo data (so they join) and fail on a hospital's
data: one crashes, printing a patient's name to stderr; the other makes the evaluator
write no results document. ``medval run`` goes on with the others, keeps each failure
with medval's one-line verdict (never the cube's stderr), ``--fail-fast`` stops at the
first, and the data owner uploads failures like results: the benchmark owner and the
model owner see them, the leaderboard counts them and pools only the successes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.people import Person, assert_clean_failure
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e]

SECRET = "jane_roe_1961"
_PREP = copying_prep({"n_cases": 100, "values": {}})
# At a hospital (mode.txt says "site"), a model does what its name says.
_MODEL = """
    site = open(os.path.join(args["data_path"], "mode.txt")).read() == "site"
    if site and {crash!r}:
        sys.exit(print("ValueError: patient {secret} has no age", file=sys.stderr) or 3)
    with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
        handle.write("nothing" if site and {silent!r} else "ok")
    """
_EVALUATE = """
    predictions = open(os.path.join(args["predictions"], "predictions.csv")).read()
    if predictions == "ok":
        json.dump({"n_cases": 100, "n_positive": 50, "metrics": {"auroc": {"value": 0.5}}},
                  open(os.path.join(args["output_path"], "results.json"), "w"))
    """
CRASHED = "task 'infer' of cube 'crashing-model' failed with exit code 3"
NO_DOCUMENT = "evaluator plain-evaluator wrote no results document"


def _model(root: Path, name: str, crash: bool = False, silent: bool = False) -> Path:
    body = _MODEL.format(crash=crash, silent=silent, secret=SECRET)
    return write_cube(root, name, "model", {"infer.py": body})


@dataclass(frozen=True)
class Failing:
    benchmark: int
    reference: int
    crashing: int
    silent: int


@pytest.fixture(scope="module")
def failing(people: dict[str, Person], tmp_path_factory: pytest.TempPathFactory) -> Failing:
    root = tmp_path_factory.mktemp("failing")
    committee, vendor = people["committee"], people["vendor"]
    cubes = (
        write_cube(root, "plain-prep", "data_preparator", _PREP),
        _model(root, "plain-model"),
        write_cube(root, "plain-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    registered = register_benchmark(
        committee, people["admin"], "failures", cubes, write_site(root / "demo", "demo")
    )
    benchmark, ids = registered.id, registered.cube_ids
    models = []
    for name, crash, silent in (("crashing-model", True, False), ("silent-model", False, True)):
        model = vendor.json("model", "register", str(_model(root, name, crash, silent)))["id"]
        vendor.ok("model", "associate", str(model), "--benchmark", str(benchmark), "--yes")
        models.append(model)
    for hospital in ("hospital-a", "hospital-b"):
        site = write_site(root / hospital, "site")
        people[hospital].ok(
            "dataset", "prepare", "--benchmark", str(benchmark), "--name", f"{hospital}-site",
            "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
        )  # fmt: skip
        people[hospital].ok("dataset", "register", f"{hospital}-site", "--yes")
        people[hospital].ok("dataset", "associate", f"{hospital}-site", "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    return Failing(benchmark, ids[1], *models)


def _key(failing: Failing, person: Person, model: int) -> str:
    dataset = person.json("dataset", "list", "--mine")[0]["id"]
    return f"b{failing.benchmark}-m{model}-d{dataset}"


def test_run_goes_on_keeps_each_failure_and_ends_non_zero(
    people: dict[str, Person], failing: Failing
) -> None:
    hospital = people["hospital-a"]
    result = hospital.medval("run", "--benchmark", str(failing.benchmark), "--yes")

    crashing, silent = (_key(failing, hospital, m) for m in (failing.crashing, failing.silent))
    assert_clean_failure(result, 8, "2 of 3 executions failed: ")
    # The data owner's own console shows the cube's last line; nothing recorded quotes it.
    assert f"✗ {CRASHED}: ValueError: patient {SECRET} has no age" in result.stderr
    assert f"kept as a failed execution ({crashing}), to upload after review: {CRASHED}" in (
        result.stderr
    )
    assert f"kept as a failed execution ({silent}), to upload after review: {NO_DOCUMENT}" in (
        result.stderr
    )
    local = {r["model"]: r for r in hospital.json("results", "list", "--local")}
    assert {name: (r["status"], r["failure"]) for name, r in local.items()} == {
        "plain-model": ("succeeded", None),
        "crashing-model": ("failed", CRASHED),
        "silent-model": ("failed", NO_DOCUMENT),
    }
    assert local["crashing-model"]["document"] is None
    table = hospital.ok("results", "list", "--local")
    assert f"failed: {CRASHED}" in table

    # Resumable: a failure kept here is not run again unless forced.
    again = hospital.medval("run", "--benchmark", str(failing.benchmark), "--yes")
    assert again.code == 0, again.stderr
    assert "every execution here already has a local result or a recorded failure" in (again.stderr)
    assert "failed here" in again.stdout


def test_failures_are_reviewed_uploaded_and_seen_by_both_owners(
    people: dict[str, Person], failing: Failing
) -> None:
    hospital, vendor, committee = people["hospital-a"], people["vendor"], people["committee"]
    upload = hospital.medval("results", "upload", "--all", "--yes")
    assert upload.code == 0, upload.stderr
    payloads = json.loads(upload.stdout)
    assert {p["model_id"]: (p["status"], p["failure"]) for p in payloads} == {
        failing.reference: ("succeeded", None),
        failing.crashing: ("failed", CRASHED),
        failing.silent: ("failed", NO_DOCUMENT),
    }
    assert SECRET not in upload.stdout + upload.stderr

    seen = vendor.json("model", "results", str(failing.crashing))
    assert [(r["status"], r["failure"], r["document"]) for r in seen] == [("failed", CRASHED, None)]
    assert f"failed: {CRASHED}" in vendor.ok("model", "results", str(failing.crashing))
    everything = committee.json("results", "list", "--benchmark", str(failing.benchmark))
    assert sorted(r["status"] for r in everything) == ["failed", "failed", "succeeded"]
    assert SECRET not in json.dumps(everything)

    board = committee.json("benchmark", "leaderboard", str(failing.benchmark))
    counts = {e["model"]: (e["n_sites"], e["n_failed"]) for e in board["entries"]}
    assert counts == {"plain-model": (1, 0), "crashing-model": (0, 1), "silent-model": (0, 1)}
    assert board["entries"][0]["model"] == "plain-model"


def test_fail_fast_stops_at_the_first_failure(people: dict[str, Person], failing: Failing) -> None:
    hospital = people["hospital-b"]
    result = hospital.medval("run", "--benchmark", str(failing.benchmark), "--fail-fast", "--yes")
    crashing = _key(failing, hospital, failing.crashing)
    assert_clean_failure(result, 8, "1 of 2 executions failed (1 not run: --fail-fast): ")
    assert f"error: 1 of 2 executions failed (1 not run: --fail-fast): {crashing}: {CRASHED}" in (
        result.stderr
    )
    assert "stopping at the first failure (--fail-fast)" in result.stderr
    assert [r["model"] for r in hospital.json("results", "list", "--local")] == [
        "plain-model",
        "crashing-model",
    ]
