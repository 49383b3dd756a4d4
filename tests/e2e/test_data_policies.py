"""Data policies through the real CLI and a real server (issue 10).

A benchmark requires a membership agreement: a hospital's dataset cannot ask to join
until its owner accepted it (shown in full with its hash); the committee lets a vendor's
models in at once (auto-approval, recorded as automatic); the hospital sets its terms on
the association (``medval dataset policy set``), both sides see them, and ``medval run``
refuses, with one line naming the clause and exit code 11, what they refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.core.membership_schemas import agreement_sha256
from tests.e2e.people import Person, assert_clean_failure
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e]

AGREEMENT = "Membership agreement\n\nMetrics are for this benchmark only.\n"
SHA = agreement_sha256(AGREEMENT)
_PREP = copying_prep({"n_cases": 1, "values": {}})
_MODEL = """
    with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
        handle.write("ok")
    """
_EVALUATE = """
    json.dump({"n_cases": 1, "n_positive": 0, "metrics": {"auroc": {"value": 0.5}}},
              open(os.path.join(args["output_path"], "results.json"), "w"))
    """


@dataclass(frozen=True)
class Joined:
    benchmark: int
    dataset: int  # hospital-a's, on the server
    model: int  # the vendor's


@pytest.fixture(scope="module")
def joined(people: dict[str, Person], tmp_path_factory: pytest.TempPathFactory) -> Joined:
    """Everything up to the hospital's association, asked before and after the agreement."""
    root = tmp_path_factory.mktemp("policies")
    committee, vendor, hospital = people["committee"], people["vendor"], people["hospital-a"]
    cubes = (
        write_cube(root, "policy-prep", "data_preparator", _PREP),
        write_cube(root, "policy-reference", "model", {"infer.py": _MODEL}),
        write_cube(root, "policy-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    benchmark = register_benchmark(
        committee, people["admin"], "policies", cubes, write_site(root / "demo", "demo")
    ).id
    document = root / "agreement.md"
    document.write_text(AGREEMENT)
    committee.ok("benchmark", "agreement", "set", str(benchmark), str(document))
    committee.ok("benchmark", "auto-approval", str(benchmark), "allowlist", "--users", "vendor")
    model_folder = write_cube(root, "policy-model", "model", {"infer.py": _MODEL})
    model = vendor.json("model", "register", str(model_folder))["id"]
    vendor.ok("model", "associate", str(model), "--benchmark", str(benchmark), "--yes")
    site = write_site(root / "site", "site")
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(benchmark), "--name", "policy-site",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "policy-site", "--yes")
    dataset = hospital.json("dataset", "list", "--mine")[-1]["id"]
    return Joined(benchmark, dataset, model)


def test_the_agreement_is_accepted_before_the_dataset_may_ask(
    people: dict[str, Person], joined: Joined
) -> None:
    hospital, committee = people["hospital-a"], people["committee"]
    refused = hospital.medval("dataset", "associate", "policy-site", "--yes")
    assert_clean_failure(
        refused,
        5,
        f"benchmark policies requires its membership agreement (sha256 {SHA}); "
        f"accept it first: medval benchmark agreement accept {joined.benchmark}",
    )
    shown = hospital.ok("benchmark", "show", str(joined.benchmark))
    assert "Metrics are for this benchmark only." in shown
    assert f"sha256: {SHA}" in shown
    # Asked without a terminal and without --yes: shown, not accepted.
    unasked = hospital.medval("benchmark", "agreement", "accept", str(joined.benchmark))
    assert_clean_failure(unasked, 10, "no terminal to ask on; pass --yes to approve")
    assert "Metrics are for this benchmark only." in unasked.stdout
    accepted = hospital.medval("benchmark", "agreement", "accept", str(joined.benchmark), "--yes")
    assert accepted.code == 0, accepted.stderr
    assert f"hospital-a accepted the agreement of benchmark {joined.benchmark} (sha256 {SHA})" in (
        accepted.stderr
    )
    hospital.ok("dataset", "associate", "policy-site", "--yes")
    acceptances = committee.json("benchmark", "agreement", "acceptances", str(joined.benchmark))
    assert [(a["username"], a["sha256"]) for a in acceptances] == [("hospital-a", SHA)]
    # Not on the allowlist: the committee decides the hospital's request itself.
    pending = committee.json("association", "list", "--status", "pending")
    (mine,) = [a for a in pending if a["entity_id"] == joined.dataset and a["kind"] == "dataset"]
    committee.ok("association", "approve", str(mine["id"]), "--yes")


def test_the_vendor_on_the_allowlist_was_approved_on_the_owners_behalf(
    people: dict[str, Person], joined: Joined
) -> None:
    associations = people["vendor"].json("association", "list", "--kind", "model")
    (model,) = [a for a in associations if a["entity_id"] == joined.model]
    shown = people["committee"].json("association", "show", str(model["id"]))
    assert [(e["status"], e["by"], e["automatic"]) for e in shown["history"]] == [
        ("pending", "vendor", False),
        ("approved", "committee", True),
    ]


def _policy(person: Person, joined: Joined) -> dict[str, object]:
    (association,) = person.json("dataset", "policy", "show", str(joined.dataset))
    return dict(association["policy"])


def test_the_data_owner_sets_the_policy_and_run_refuses_naming_the_clause(
    people: dict[str, Person], joined: Joined
) -> None:
    hospital, committee = people["hospital-a"], people["committee"]
    dataset, benchmark = str(joined.dataset), str(joined.benchmark)
    setting = hospital.medval(
        "dataset", "policy", "set", dataset, "--benchmark", benchmark,
        "--model-owners", "acme", "--max-runs", "3",
    )  # fmt: skip
    assert setting.code == 0, setting.stderr
    assert "model owners: acme; runs per model: 3; expires on: never" in setting.stderr
    expected = {"model_owners": ["acme"], "max_runs": 3, "expires_on": None}
    assert _policy(hospital, joined) == expected
    assert _policy(committee, joined) == expected  # the benchmark owner sees it too
    table = committee.ok("dataset", "policy", "show", dataset)
    assert "acme" in table and "never" in table

    refused = hospital.medval("run", "--benchmark", benchmark, "--yes")
    assert_clean_failure(
        refused, 11, "policy: model owner 'vendor' is not on this dataset's allowlist"
    )
    assert f"b{benchmark}-m{joined.model}-d{dataset}: policy: model owner 'vendor'" in (
        refused.stderr
    )
    assert "refused by policy" in refused.stdout
    assert hospital.json("results", "list", "--local") == []  # nothing ran, nothing kept

    # Only the clauses named change; an expired association refuses every model.
    hospital.ok("dataset", "policy", "set", dataset, "-b", benchmark, "--expires", "2020-01-01")
    assert _policy(hospital, joined) == expected | {"expires_on": "2020-01-01"}
    expired = hospital.medval("run", "--benchmark", benchmark, "--yes")
    assert_clean_failure(expired, 11, "policy: the association expired on 2020-01-01")

    hospital.ok(
        "dataset", "policy", "set", dataset, "-b", benchmark, "--anyone", "--no-expiry",
    )  # fmt: skip
    assert _policy(hospital, joined) == {"model_owners": None, "max_runs": 3, "expires_on": None}


def test_bad_policy_input_is_one_line(people: dict[str, Person], joined: Joined) -> None:
    hospital = people["hospital-a"]
    dataset, benchmark = str(joined.dataset), str(joined.benchmark)
    for args, message in (
        (("--max-runs", "0"), "max_runs: Input should be greater than or equal to 1"),
        (("--expires", "soon"), "--expires takes a day as YYYY-MM-DD, not 'soon'"),
        (("--max-runs", "2", "--unlimited"), "--max-runs and --unlimited contradict each other"),
        ((), "name at least one clause to change"),
    ):
        result = hospital.medval("dataset", "policy", "set", dataset, "-b", benchmark, *args)
        assert_clean_failure(result, 2, message)
    # Only the data owner sets it: the benchmark owner is refused.
    result = people["committee"].medval(
        "dataset", "policy", "set", dataset, "-b", benchmark, "--max-runs", "1"
    )
    assert_clean_failure(result, 3, "only the owner of dataset policy-site may set its policy")
    assert _policy(hospital, joined)["max_runs"] == 3  # unchanged by the refusals


def test_an_agreement_file_that_is_not_text_is_one_line(
    people: dict[str, Person], joined: Joined, tmp_path: Path
) -> None:
    binary = tmp_path / "agreement.pdf"
    binary.write_bytes(b"%PDF-\xff\xfe")
    result = people["committee"].medval(
        "benchmark", "agreement", "set", str(joined.benchmark), str(binary)
    )
    assert_clean_failure(result, 2, f"agreement file {binary} is not UTF-8 text")


def test_a_bad_auto_approval_rule_is_refused_before_anything_runs(
    people: dict[str, Person], tmp_path: Path
) -> None:
    base = (
        "benchmark", "register", "--name", "never-made", "--data-preparator", "1",
        "--reference-model", "2", "--evaluator", "3", "--demo-data", str(tmp_path),
    )  # fmt: skip
    for extra, message in (
        (("--auto-approval", "allowlist"), "users: an allowlist names at least one user"),
        (
            ("--auto-approval", "always", "--auto-approval-users", "vendor"),
            "users: only an allowlist names users, not always",
        ),
    ):
        result = people["committee"].medval(*base, *extra)
        assert_clean_failure(result, 2, message)
        assert "compatibility test" not in result.stderr
