"""The committee's priorities and a site's daily quota through the real CLI, a real
server and real sandboxed runs (issue 19): ``medval run`` runs the models in the order the
committee set, and starts none beyond the quota, saying so before anything runs."""

from __future__ import annotations

import json

import pytest

from tests.e2e.people import Person
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e]

_PREP = copying_prep({"n_cases": 1, "values": {}})
_MODEL = """
    with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
        handle.write("ok")
    """
_EVALUATE = """
    json.dump({"n_cases": 1, "n_positive": 0, "metrics": {"auroc": {"value": 0.5}}},
              open(os.path.join(args["output_path"], "results.json"), "w"))
    """


def _approve_pending(committee: Person) -> None:
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")


def test_a_sites_run_follows_the_priorities_within_its_daily_quota(
    people: dict[str, Person], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("priorities")
    committee, vendor, hospital = people["committee"], people["vendor"], people["hospital-a"]
    cubes = (
        write_cube(root, "prio-prep", "data_preparator", _PREP),
        write_cube(root, "prio-reference", "model", {"infer.py": _MODEL}),
        write_cube(root, "prio-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    benchmark = register_benchmark(
        committee, people["admin"], "priorities", cubes, write_site(root / "demo", "demo")
    ).id
    models = []
    for name in ("prio-first", "prio-second"):
        folder = write_cube(root, name, "model", {"infer.py": _MODEL})
        models.append(vendor.json("model", "register", str(folder))["id"])
        vendor.ok("model", "associate", str(models[-1]), "--benchmark", str(benchmark), "--yes")
    site = write_site(root / "site", "site")
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(benchmark), "--name", "prio-site",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "prio-site", "--yes")
    hospital.ok("dataset", "associate", "prio-site", "--yes")
    _approve_pending(committee)
    # The committee: the second model first, then the first; one result a day per site.
    b = str(benchmark)
    committee.ok("benchmark", "priorities", b, str(models[1]), str(models[0]))
    committee.ok("benchmark", "quota", b, "main", "--executions-per-day", "1")

    ran = hospital.medval("run", "--benchmark", b, "--yes", "--format", "json")
    assert ran.code == 0, ran.stderr
    rows = json.loads(ran.stdout)
    # In the committee's order, the reference model (no priority) after.
    assert [row["model_id"] for row in rows][:2] == [models[1], models[0]]
    assert [row["outcome"] for row in rows] == ["succeeded", "not run", "not run"]
    assert (
        "your site may upload 1 more result(s) today in its phase (its daily quota); 2 "
        "execution(s) wait for another day" in ran.stderr
    )
