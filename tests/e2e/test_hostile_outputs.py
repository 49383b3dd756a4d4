"""A hostile cube through the real CLI: what it leaves cannot hurt the client (issue 8).

Each cube behaves on the benchmark's demo data (so it passes the compatibility test)
and attacks on a hospital's data: a statistics.json linked to a host file, nested too
deep or too large, a FIFO in the prepared data, a results.json nested too deep for one
model. Each is one line with InvalidInput's exit code, never a traceback, and
``medval run`` goes on with the other executions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.client.workspace import result_key
from medval.core.documents import MAX_DOCUMENT_BYTES, MAX_DOCUMENT_DEPTH
from tests.e2e.people import Person, assert_clean_failure
from tests.e2e.script_cubes import register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e]

# Every script reads its mounts, then does what mode.txt (in the raw data) says.
_PREP = {
    "prepare.py": """
        for source, target in (("data_path", "output_path"), ("labels_path", "output_labels_path")):
            shutil.copytree(args[source], args[target], dirs_exist_ok=True)
        if open(os.path.join(args["data_path"], "mode.txt")).read() == "fifo":
            os.mkfifo(os.path.join(args["output_path"], "trap"))
        """,
    "sanity_check.py": "pass",
    "statistics.py": """
        mode = open(os.path.join(args["data_path"], "mode.txt")).read()
        target = os.path.join(args["output_path"], "statistics.json")
        if mode.startswith("link:"):
            os.symlink(mode[len("link:"):], target)
        elif mode == "deep":
            open(target, "w").write("[" * 100000 + "]" * 100000)
        elif mode == "huge":
            open(target, "w").write(" " * (2 << 20) + '{"n_cases": 1}')
        else:
            json.dump({"n_cases": 1, "values": {}}, open(target, "w"))
        """,
}
HUGE = (2 << 20) + len('{"n_cases": 1}')
_MODEL = """
    attack = {attack!r} and open(os.path.join(args["data_path"], "mode.txt")).read() == "attack"
    with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
        handle.write("deep" if attack else "ok")
    """
_EVALUATE = """
    predictions = open(os.path.join(args["predictions"], "predictions.csv")).read()
    target = os.path.join(args["output_path"], "results.json")
    if predictions == "deep":
        open(target, "w").write('{"n_cases": ' + "[" * 100000 + "]" * 100000 + "}")
    else:
        json.dump({"n_cases": 1, "n_positive": 0, "metrics": {"auroc": {"value": 0.5}}},
                  open(target, "w"))
    """


@dataclass(frozen=True)
class HostileBenchmark:
    id: int
    hostile_model: int


@pytest.fixture(scope="module")
def hostile(
    people: dict[str, Person], tmp_path_factory: pytest.TempPathFactory
) -> HostileBenchmark:
    root = tmp_path_factory.mktemp("hostile")
    committee, vendor = people["committee"], people["vendor"]
    prep = write_cube(root, "hostile-prep", "data_preparator", _PREP)
    reference = write_cube(root, "plain-model", "model", {"infer.py": _MODEL.format(attack=False)})
    evaluator = write_cube(root, "hostile-evaluator", "evaluator", {"evaluate.py": _EVALUATE})
    benchmark = register_benchmark(
        committee,
        people["admin"],
        "hostile-outputs",
        (prep, reference, evaluator),
        write_site(root / "demo", "ok"),
    ).id
    model = write_cube(root, "deep-model", "model", {"infer.py": _MODEL.format(attack=True)})
    hostile_model = vendor.json("model", "register", str(model))["id"]
    vendor.ok("model", "associate", str(hostile_model), "--benchmark", str(benchmark), "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    return HostileBenchmark(benchmark, hostile_model)


def _only_error(person: Person, benchmark: int, name: str, site: Path) -> str:
    result = person.medval(
        "dataset", "prepare", "--benchmark", str(benchmark), "--name", name,
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    assert_clean_failure(result, 2, "")
    return next(line for line in result.stderr.splitlines() if line.startswith("error:"))


def test_a_statistics_link_to_a_host_file_is_not_followed(
    people: dict[str, Person], hostile: HostileBenchmark, tmp_path: Path
) -> None:
    secret = tmp_path / "host-secret.json"
    secret.write_text('{"n_cases": 1, "values": {"jane_roe_1961": 1}}')
    site = write_site(tmp_path / "site", f"link:{secret}")
    line = _only_error(people["hospital-a"], hostile.id, "linked", site)
    assert line == "error: the cube's statistics.json is a symbolic link, not a file (statistics)"


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("deep", f"is nested deeper than {MAX_DOCUMENT_DEPTH} levels (statistics)"),
        ("huge", f"is larger than {MAX_DOCUMENT_BYTES // 1024} KiB ({HUGE} bytes; statistics)"),
    ],
)
def test_a_statistics_document_too_deep_or_too_large_is_one_line(
    people: dict[str, Person], hostile: HostileBenchmark, tmp_path: Path, mode: str, message: str
) -> None:
    line = _only_error(people["hospital-a"], hostile.id, mode, write_site(tmp_path / mode, mode))
    assert line == f"error: the cube's statistics.json {message}"


def test_a_fifo_in_prepared_data_is_refused_without_waiting_on_it(
    people: dict[str, Person], hostile: HostileBenchmark, tmp_path: Path
) -> None:
    hospital = people["hospital-a"]
    line = _only_error(hospital, hostile.id, "fifo", write_site(tmp_path / "fifo", "fifo"))
    trap = hospital.home / "datasets" / "fifo" / "data" / "trap"
    assert line == f"error: only files and folders are allowed in hashed data, not a FIFO: {trap}"


def test_run_goes_on_after_a_results_document_nested_too_deep(
    people: dict[str, Person], hostile: HostileBenchmark, tmp_path: Path
) -> None:
    hospital, committee = people["hospital-b"], people["committee"]
    site = write_site(tmp_path / "site", "attack")
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(hostile.id), "--name", "attacked",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "attacked", "--yes")
    hospital.ok("dataset", "associate", "attacked", "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")

    result = hospital.medval("run", "--benchmark", str(hostile.id), "--yes")

    deep = f"the cube's results.json is nested deeper than {MAX_DOCUMENT_DEPTH} levels (results)"
    assert_clean_failure(result, 2, "1 of 2 executions failed: ")
    assert f"✗ {deep}" in result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    dataset = hospital.json("dataset", "list", "--mine")[0]["id"]
    key = result_key(hostile.id, hostile.hostile_model, dataset)
    assert error == f"error: 1 of 2 executions failed: {key}: {deep}"
    # Kept as a failed execution, in medval's words: nothing of the document is quoted.
    done = hospital.json("results", "list", "--local")
    assert [(r["model"], r["status"], r["failure"]) for r in done] == [
        ("plain-model", "succeeded", None),
        ("deep-model", "failed", "evaluator hostile-evaluator wrote a results document that "
         "medval refused"),
    ]  # fmt: skip
