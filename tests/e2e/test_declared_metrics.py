"""Issue 13 end to end: a benchmark whose evaluator reports the Brier score (and no
AUROC) declares it primary, lower is better. Registration checks the reference model's
document against the declaration; a hospital's client keeps an undeclared metric on the
site (named in the review, never sent); the leaderboard ranks by Brier ascending and its
table shows a "Brier score" column and no other metric."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.people import Person, assert_clean_failure
from tests.e2e.script_cubes import copying_prep, write_cube, write_site

pytestmark = [pytest.mark.e2e]

_PREP = copying_prep({"n_cases": 400, "values": {}})


def _model(brier: float) -> dict[str, str]:
    """A model cube whose 'predictions' are the Brier score the evaluator reports."""
    return {
        "infer.py": f"""
            with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
                handle.write("{brier}")
            """
    }


_EVALUATE = """
    brier = float(open(os.path.join(args["predictions"], "predictions.csv")).read())
    json.dump({"n_cases": 400, "n_positive": 120,
               "metrics": {"brier": {"value": brier, "lower": brier - 0.02,
                                     "upper": brier + 0.02},
                           "ece": {"value": 0.5}}},
              open(os.path.join(args["output_path"], "results.json"), "w"))
    """
_NAMES = itertools.count(1)
BRIER = "metrics:\n  - {name: brier, label: Brier score, direction: lower, primary: true}\n"


@dataclass(frozen=True)
class Declared:
    benchmark: int
    cube_ids: tuple[int, int, int]
    registration_stderr: str
    root: Path


def _register(committee: Person, cube_ids: tuple[int, int, int], demo: Path, *extra: str):  # type: ignore[no-untyped-def]
    prep, reference, evaluator = cube_ids
    return committee.medval(
        "benchmark", "register", "--name", f"brier-{next(_NAMES)}",
        "--data-preparator", str(prep), "--reference-model", str(reference),
        "--evaluator", str(evaluator), "--demo-data", str(demo), *extra, "--format", "json",
    )  # fmt: skip


@pytest.fixture(scope="module")
def declared(people: dict[str, Person], tmp_path_factory: pytest.TempPathFactory) -> Declared:
    root = tmp_path_factory.mktemp("declared")
    committee = people["committee"]
    cubes = (
        write_cube(root, "brier-prep", "data_preparator", _PREP),
        write_cube(root, "brier-reference", "model", _model(0.2)),
        write_cube(root, "brier-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    cube_ids = tuple(committee.json("cube", "register", str(cube))["id"] for cube in cubes)
    demo = write_site(root / "demo", "demo")
    declarations = root / "declarations.yaml"
    declarations.write_text(BRIER)
    registered = _register(committee, cube_ids, demo, "--declarations", str(declarations))  # type: ignore[arg-type]
    assert registered.code == 0, registered.stderr
    benchmark = json.loads(registered.stdout)["id"]
    people["admin"].ok("benchmark", "approve", "--yes", str(benchmark))
    vendor, hospital = people["vendor"], people["hospital-a"]
    for name, brier in (("brier-good", 0.12), ("brier-poor", 0.25)):
        folder = write_cube(root, name, "model", _model(brier))
        model = vendor.json("model", "register", str(folder), "--name", f"{name}-v")["id"]
        vendor.ok("model", "associate", str(model), "--benchmark", str(benchmark), "--yes")
    site = write_site(root / "site", "site")
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(benchmark), "--name", "brier-site",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "brier-site", "--yes")
    hospital.ok("dataset", "associate", "brier-site", "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    hospital.ok("run", "--benchmark", str(benchmark), "--yes")
    return Declared(benchmark, cube_ids, registered.stderr, root)  # type: ignore[arg-type]


def test_registration_names_what_is_reported_but_not_declared(declared: Declared) -> None:
    assert "not declared, so not shown: ece" in declared.registration_stderr.splitlines()


def test_the_client_keeps_an_undeclared_metric_on_the_site(
    people: dict[str, Person], declared: Declared
) -> None:
    hospital = people["hospital-a"]
    local = [r for r in hospital.json("results", "list", "--local")
             if r["benchmark_id"] == declared.benchmark]  # fmt: skip
    assert len(local) == 3
    for result in local:
        assert list(result["document"]["metrics"]) == ["brier"]
        assert {"path": "ece", "reason": "not declared by the benchmark", "small_cell": False} in (
            result["left_out"]
        )
    review = hospital.medval(
        "results", "upload", "--all", "--benchmark", str(declared.benchmark), "--yes"
    )
    assert review.code == 0, review.stderr
    assert "  - ece: not declared by the benchmark" in review.stderr.splitlines()
    assert '"ece"' not in review.stdout and '"brier"' in review.stdout


def test_the_leaderboard_ranks_by_brier_and_shows_only_it(
    people: dict[str, Person], declared: Declared
) -> None:
    board = people["committee"].json("benchmark", "leaderboard", str(declared.benchmark))
    assert (board["primary_metric"], board["higher_is_better"]) == ("brier", False)
    assert [d["label"] for d in board["declared"]] == ["Brier score"]
    assert [e["model"] for e in board["entries"]] == [
        "brier-good-v",
        "brier-reference",
        "brier-poor-v",
    ]
    shown = people["committee"].ok("benchmark", "leaderboard", str(declared.benchmark))
    lines = shown.splitlines()
    assert any(
        "across sites (random-effects pooled, 95% CI), ranked by Brier score (lower is better)"
        in line
        for line in lines
    ), shown
    header = next(line for line in lines if line.startswith("┃") and "rank" in line)
    assert [c.strip() for c in header.split("┃")[1:-1]] == [
        "rank", "model", "owner", "sites", "cases", "Brier score", "I² Brier score",
        "new site (95% PI)",
    ]  # fmt: skip
    rows = [line for line in lines if line.startswith("│") and "brier-" in line]
    cells = [[c.strip() for c in row.split("│")[1:-1]] for row in rows[:3]]
    assert [c[:6] for c in cells] == [
        ["1", "brier-good-v", "vendor", "1", "400", "0.120"],
        ["2", "brier-reference", "committee", "1", "400", "0.200"],
        ["3", "brier-poor-v", "vendor", "1", "400", "0.250"],
    ]
    assert "auroc" not in shown and "sensitivity" not in shown and "ece" not in shown


def test_a_declared_metric_not_reported_is_refused_before_upload(
    people: dict[str, Person], declared: Declared
) -> None:
    declarations = declared.root / "auroc.yaml"
    declarations.write_text(
        BRIER.replace("primary: true", "primary: false")
        + "  - {name: auroc, label: AUROC, scale: proportion, primary: true}\n"
    )
    refused = _register(
        people["committee"], declared.cube_ids, declared.root / "demo",
        "--declarations", str(declarations),
    )  # fmt: skip
    assert_clean_failure(
        refused, 2,
        "error: the reference model's results on the demo data: declared metric(s) not "
        "reported: auroc",
    )  # fmt: skip


def test_a_bad_declarations_file_is_one_line(people: dict[str, Person], declared: Declared) -> None:
    bad = declared.root / "bad.yaml"
    bad.write_text("metrics:\n  - {name: brier, label: Brier score}\n")
    refused = _register(
        people["committee"], declared.cube_ids, declared.root / "demo", "--declarations", str(bad)
    )
    assert_clean_failure(
        refused, 2,
        f"error: declarations file {bad}: metrics: mark exactly one metric primary (it ranks "
        "the leaderboard); 0 are",
    )  # fmt: skip


def test_without_declarations_the_inferred_one_is_printed_and_registered(
    people: dict[str, Person], declared: Declared
) -> None:
    registered = _register(people["committee"], declared.cube_ids, declared.root / "demo")
    assert registered.code == 0, registered.stderr
    lines = registered.stderr.splitlines()
    assert (
        '  - {name: brier, label: "brier", direction: lower, scale: linear, primary: true}' in lines
    )
    assert '  - {name: ece, label: "ece", direction: lower, scale: linear}' in lines
    assert [m["name"] for m in json.loads(registered.stdout)["metrics"]] == ["brier", "ece"]


def test_benchmark_show_lists_the_declaration(
    people: dict[str, Person], declared: Declared
) -> None:
    shown = people["outsider"].ok("benchmark", "show", str(declared.benchmark))
    row = next(line for line in shown.splitlines() if "Brier score" in line)
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        "brier", "Brier score", "lower", "linear", "-", "yes",
    ]  # fmt: skip
    assert "declared metrics" in shown
