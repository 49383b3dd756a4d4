"""Signed results, verifiable offline: every upload is signed by its data owner's key,
a bundle exported by the committee verifies with no server, and an edited metric is
named by its record.

Hospital A uploads two successes, then rotates its key; hospital B, where both models
crash, uploads two failures (signed the same way).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.people import Person, assert_clean_failure
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e]

_PREP = copying_prep({"n_cases": 400, "values": {}})
# Both models crash where the site's mode.txt says "crash".
_MODEL = """
    if open(os.path.join(args["data_path"], "mode.txt")).read() == "crash":
        sys.exit(3)
    with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
        handle.write("ok")
    """
_EVALUATE = """
    json.dump({"n_cases": 400, "n_positive": 120,  # no cell below the benchmark's k
               "metrics": {"auroc": {"value": 0.8123, "lower": 0.7456, "upper": 0.8871}}},
              open(os.path.join(args["output_path"], "results.json"), "w"))
    """
CRASHED = "task 'infer' of cube 'signed-model' failed with exit code 3"


@dataclass(frozen=True)
class Signed:
    benchmark: int
    model: int
    old_key: str  # hospital A's key before it rotated
    new_key: str


def _current_key(person: Person) -> str:
    [current] = [k for k in person.json("keys", "show") if k["retired_at"] is None]
    return str(current["key_id"])


@pytest.fixture(scope="module")
def signed(people: dict[str, Person], tmp_path_factory: pytest.TempPathFactory) -> Signed:
    root = tmp_path_factory.mktemp("signed")
    committee, vendor = people["committee"], people["vendor"]
    cubes = (
        write_cube(root, "signed-prep", "data_preparator", _PREP),
        write_cube(root, "signed-reference", "model", {"infer.py": _MODEL}),
        write_cube(root, "signed-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    registered = register_benchmark(
        committee, people["admin"], "signed", cubes, write_site(root / "demo", "demo")
    )
    benchmark = registered.id
    model_folder = write_cube(root, "signed-model", "model", {"infer.py": _MODEL})
    model = vendor.json("model", "register", str(model_folder))["id"]
    vendor.ok("model", "associate", str(model), "--benchmark", str(benchmark), "--yes")
    for hospital, mode in (("hospital-a", "site"), ("hospital-b", "crash")):
        site = write_site(root / hospital, mode)
        people[hospital].ok(
            "dataset", "prepare", "--benchmark", str(benchmark), "--name", f"{hospital}-signed",
            "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
        )  # fmt: skip
        people[hospital].ok("dataset", "register", f"{hospital}-signed", "--yes")
        people[hospital].ok("dataset", "associate", f"{hospital}-signed", "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")

    a, b = people["hospital-a"], people["hospital-b"]
    a.ok("run", "--benchmark", str(benchmark), "--yes")
    a.ok("results", "upload", "--all", "--benchmark", str(benchmark), "--yes")
    old_key = _current_key(a)
    rotated = a.medval("keys", "rotate")
    assert rotated.code == 0, rotated.stderr
    assert f"key {old_key[:16]} is retired" in rotated.stderr
    ran = b.medval("run", "--benchmark", str(benchmark), "--yes")
    assert ran.code == 8, ran.stderr  # the model crashed at B: kept as a failed result
    b.ok("results", "upload", "--all", "--benchmark", str(benchmark), "--yes")
    return Signed(benchmark, model, old_key, _current_key(a))


def test_keys_are_private_files_and_rotation_keeps_the_old_key_on_the_server(
    people: dict[str, Person], signed: Signed
) -> None:
    hospital = people["hospital-a"]
    keys = hospital.json("keys", "show")
    assert [(k["key_id"], k["retired_at"] is None) for k in keys] == [
        (signed.old_key, False),
        (signed.new_key, True),
    ]
    path = hospital.home / "keys" / "hospital-a" / "signing-key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert (hospital.home / "keys").stat().st_mode & 0o777 == 0o700
    shown = hospital.medval("keys", "show")
    assert f"this machine's key: {signed.new_key} ({path})" in shown.stderr


def test_an_exported_bundle_verifies_offline_and_an_edited_metric_is_named(
    people: dict[str, Person], signed: Signed, tmp_path: Path
) -> None:
    bundle = tmp_path / "signed.bundle.json"
    exported = people["committee"].medval(
        "results", "export", "--benchmark", str(signed.benchmark), "-o", str(bundle)
    )
    assert exported.code == 0, exported.stderr
    assert f"wrote 4 results of benchmark signed and 2 keys to {bundle}" in exported.stderr
    document = json.loads(bundle.read_text())
    # The server's audit entries about the four results: each upload, by its uploader.
    uploads = sorted((e["actor"], e["action"]) for e in document["audit"])
    assert uploads == [("hospital-a", "result.add")] * 2 + [("hospital-b", "result.add")] * 2
    statuses = sorted((r["owner"], r["status"], r["key_id"]) for r in document["results"])
    b_key = next(k["key_id"] for k in document["keys"] if k["owner"] == "hospital-b")
    assert statuses == [
        ("hospital-a", "succeeded", signed.old_key),
        ("hospital-a", "succeeded", signed.old_key),
        ("hospital-b", "failed", b_key),
        ("hospital-b", "failed", b_key),
    ]
    failures = {r["failure"] for r in document["results"] if r["status"] == "failed"}
    assert failures == {CRASHED, CRASHED.replace("signed-model", "signed-reference")}

    # Someone with no account, no login and no server to ask.
    auditor = Person("auditor", tmp_path / "auditor-home", "http://127.0.0.1:9")
    verified = auditor.medval("verify", str(bundle))
    assert verified.code == 0, verified.stderr
    assert verified.stdout == "all 4 results and 2 keys verify; all 4 audit entries verify\n"
    assert not (tmp_path / "auditor-home").exists()

    edited = next(
        r
        for r in document["results"]
        if r["owner"] == "hospital-a" and r["model_id"] == signed.model
    )
    document_auroc = edited["document"]["metrics"]["auroc"]["value"]
    edited["document"]["metrics"]["auroc"]["value"] = 0.91
    bundle.write_text(json.dumps(document, indent=2))
    tampered = auditor.medval("verify", str(bundle))
    assert_clean_failure(
        tampered, 12, "1 of 4 results and 0 of 2 keys do not verify; all 4 audit entries verify"
    )
    name = f"result {edited['id']} (model signed-model on dataset hospital-a-signed)"
    entry = next(e for e in document["audit"] if e["entity_id"] == str(edited["id"]))
    assert tampered.stdout == (
        f"{name}: the signature by key {signed.old_key[:16]} does not match the result's "
        "content (changed after it was signed)\n"
        f"{name}: differs from what the audit trail recorded at its last change (entry seq "
        f"{entry['seq']}, result.add by hospital-a)\n"
    )
    # An audit entry edited in the bundle is named too.
    edited["document"]["metrics"]["auroc"]["value"] = document_auroc
    entry["actor"] = "hospital-b"
    bundle.write_text(json.dumps(document, indent=2))
    forged = auditor.medval("verify", str(bundle))
    assert_clean_failure(
        forged,
        12,
        "0 of 4 results and 0 of 2 keys do not verify; 1 of 4 audit entries do not verify",
    )
    assert forged.stdout == (
        f"audit entry {document['audit'].index(entry) + 1} (seq {entry['seq']}): its hash "
        "does not match its content (changed after it was logged)\n"
    )
