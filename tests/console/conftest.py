"""Fixtures of the console's tests: the end-to-end ``server`` and ``people`` (a real
server process, everyone logged in through the real CLI), and a benchmark with one
execution waiting for hospital-a's dataset."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.e2e.conftest import people, server  # noqa: F401 (fixtures, used by name)
from tests.e2e.people import Person
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

_PREP = copying_prep({"n_cases": 100, "values": {}})
_MODEL = """
    with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
        handle.write("ok")
    """
_EVALUATE = """
    json.dump({"n_cases": 100, "n_positive": 50, "metrics": {"auroc": {"value": 0.71}}},
              open(os.path.join(args["output_path"], "results.json"), "w"))
    """


@dataclass(frozen=True)
class Waiting:
    """An approved benchmark whose reference model waits to run on hospital-a's dataset."""

    benchmark: int
    prep: int
    model: int
    evaluator: int
    dataset: int

    @property
    def key(self) -> str:
        return f"b{self.benchmark}-m{self.model}-d{self.dataset}"


@pytest.fixture(scope="module")
def waiting(
    people: dict[str, Person],  # noqa: F811 (the fixture imported above, by name)
    tmp_path_factory: pytest.TempPathFactory,
) -> Waiting:
    root = tmp_path_factory.mktemp("console")
    committee, hospital = people["committee"], people["hospital-a"]
    cubes = (
        write_cube(root, "console-prep", "data_preparator", _PREP),
        write_cube(root, "console-model", "model", {"infer.py": _MODEL}),
        write_cube(root, "console-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    registered = register_benchmark(
        committee, people["admin"], "console", cubes, write_site(root / "demo", "demo")
    )
    site = write_site(root / "site", "site")
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(registered.id), "--name", "console-site",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "console-site", "--yes")
    hospital.ok("dataset", "associate", "console-site", "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    dataset = hospital.json("dataset", "list", "--mine")[-1]["id"]
    return Waiting(registered.id, *registered.cube_ids, dataset)
