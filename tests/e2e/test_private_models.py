"""Private models (issue 16), through the CLI against a real server, run in the real
sandbox: the demo's logistic model with a canary in its weights, registered with
``model register --private``. The server's database, blob store and log never hold the
canary nor the clear archive; a site without the key gets one line (exit 16) and nothing
runs; ciphertext changed by one byte in the site's cache, or the wrong key, is refused
before anything runs; with its key, the site runs it and gets exactly the metrics of the
same model registered in clear, and nothing of it in clear stays behind.

The site's key is the model owner's, wrapped to the site's encryption key by
``medval model keys sync`` (or ``grant``) and released by the server while the site is
approved (``client.released_model_keys``)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from medval.core.hashing import pack_directory
from medval.core.scratch import MEMORY_BACKED
from medval.trust.keys import SigningKey
from tests.e2e.clear_scan import files_holding
from tests.e2e.conftest import E2E_SITES, Assets, Benchmark, Server
from tests.e2e.people import Person, assert_clean_failure

# machine_wide: it looks for the model in clear in /dev/shm/medval-private-UID, which the
# container runs of test_private_models_containers fill too (and the main lane's demo, whose
# folders come and go there: tests/e2e/clear_scan.py passes over what vanishes).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.machine_wide]

CANARY = "canary-7f3a9c1e-private-weights-never-leave"


@dataclass(frozen=True)
class PrivateModel:
    id: int
    clear_id: int
    registered: dict[str, object]
    folder: Path
    key_file: Path  # the vendor's
    registration: str  # what the registration said on stderr


def with_canary(logistic: Path, root: Path) -> Path:
    """The logistic model cube, its weights file holding the canary (an extra key the
    model does not read: its predictions are the same)."""
    folder = root / "private-logistic"
    shutil.copytree(logistic, folder)
    weights = json.loads((folder / "weights.json").read_text())
    weights["provenance"] = CANARY
    (folder / "weights.json").write_text(json.dumps(weights, indent=2) + "\n")
    return folder


@pytest.fixture(scope="module")
def private_model(
    people: dict[str, Person],
    benchmark: Benchmark,
    assets: Assets,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PrivateModel]:
    """Registered private, compatibility-tested by its owner (who holds the key), and
    accepted into the benchmark; beside it, the same model in clear (no canary)."""
    vendor = people["vendor"]
    folder = with_canary(assets.models["logistic"], tmp_path_factory.mktemp("vendor"))
    result = vendor.medval(
        "model", "register", str(folder), "--private", "--name", "private-logistic",
        "--format", "json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    registered = json.loads(result.stdout)
    clear = vendor.json(
        "model", "register", str(assets.models["logistic"]), "--name", "clear-logistic"
    )
    for model in (registered["id"], clear["id"]):
        vendor.ok("model", "associate", str(model), "--benchmark", str(benchmark.id), "--yes")
    committee = people["committee"]
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    sealed = registered["sealed"]["sealed_hash"]
    key_file = vendor.home / "keys" / "vendor" / "model-keys" / f"{sealed}.key"
    yield PrivateModel(registered["id"], clear["id"], registered, folder, key_file, result.stderr)


def test_the_server_holds_the_ciphertext_only(
    private_model: PrivateModel, server: Server, people: dict[str, Person]
) -> None:
    registered = private_model.registered
    sealed = registered["sealed"]
    assert isinstance(sealed, dict) and sealed["key_release"] == "none"
    clear_archive = pack_directory(private_model.folder)
    assert registered["archive_hash"] != sealed["sealed_hash"]
    # The owner's key, kept before the upload, readable by the owner only.
    key = private_model.key_file.read_bytes()
    assert len(key) == 32 and private_model.key_file.stat().st_mode & 0o777 == 0o600
    # The canary scan: the database, the blob store, the log (and every other file the
    # server keeps) hold neither the canary, nor the archive in clear, nor the key.
    stored = [p for p in server.data_dir.rglob("*") if p.is_file()]
    stored.append(server.data_dir.parent / "server.log")
    assert (server.data_dir.parent / "server.log").is_file()
    everything = b"".join(path.read_bytes() for path in stored)
    assert sealed["sealed_hash"].encode() in everything  # the scan reads what is stored
    assert CANARY.encode() not in everything
    assert clear_archive not in everything
    assert key not in everything
    blobs = {p.name for p in stored}
    assert str(registered["archive_hash"]) not in blobs  # no blob named by the clear hash


def test_it_shows_as_private(private_model: PrivateModel, people: dict[str, Person]) -> None:
    shown = people["hospital-a"].json("model", "show", str(private_model.id))
    assert shown["sealed"] == private_model.registered["sealed"]
    table = people["hospital-a"].medval("cube", "show", str(private_model.id))
    assert table.code == 0, table.stderr
    assert "sealed" in table.stdout and private_model.registered["sealed"]["sealed_hash"][:12] in (
        table.stdout
    )
    assert "is private: its archive is sealed" in table.stderr
    listed = people["hospital-a"].ok("model", "list")
    assert "private-logistic" in listed


def test_a_private_model_with_an_image_or_from_a_hub_or_not_a_model_is_one_line(
    private_model: PrivateModel, people: dict[str, Person], assets: Assets
) -> None:
    vendor = people["vendor"]
    assert_clean_failure(
        vendor.medval("model", "register", "--private", "--hub", "a/b@main"),
        2,
        "a model from a hub (--hub) cannot be private: the hub holds it in clear",
    )
    assert_clean_failure(
        vendor.medval("model", "register", str(private_model.folder), "--key-release", "none"),
        2,
        "--key-release goes with --private",
    )
    assert_clean_failure(
        vendor.medval(
            "model", "register", str(private_model.folder), "--private", "--key-release", "tpm"
        ),
        2,
        "unknown key-release verifier 'tpm' (known: none, attested)",
    )
    assert_clean_failure(
        vendor.medval("model", "register", str(assets.evaluator), "--private"),
        2,
        "is a evaluator cube, not a model cube",
    )
    names = [c["name"] for c in vendor.json("model", "list", "--mine")]
    assert names.count("private-logistic") == 1  # nothing else was registered


def _model_logs(home: Path, model_id: int) -> list[Path]:
    return sorted((home / "logs").glob(f"*-{model_id}-infer-*.log"))


def _clear_files_left(home: Path) -> list[Path]:
    """Files under ``home`` or in the memory-backed scratch that hold the canary."""
    return files_holding([home, MEMORY_BACKED / f"medval-private-{os.getuid()}"], [CANARY.encode()])


def test_a_site_runs_it_only_with_its_key_and_gets_the_metrics_in_clear(
    private_model: PrivateModel,
    people: dict[str, Person],
    benchmark: Benchmark,
    assets: Assets,
) -> None:
    hospital = people["hospital-a"]
    site = assets.sites[E2E_SITES[0]].data_path.parent
    hospital.ok(
        "dataset", "prepare", "--benchmark", str(benchmark.id), "--name", "private-site",
        "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
    )  # fmt: skip
    hospital.ok("dataset", "register", "private-site", "--yes")
    hospital.ok("dataset", "associate", "private-site", "--yes")
    committee = people["committee"]
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    run = ("run", "--model", str(private_model.id), "--yes")
    sealed = private_model.registered["sealed"]["sealed_hash"]
    cached = hospital.home / "cubes" / f"{sealed}.sealed"

    # No key released to this site yet: one line, exit 16, nothing runs.
    assert_clean_failure(
        hospital.medval(*run),
        16,
        "key release refused: no key of model private-logistic is wrapped for hospital-a "
        "yet; its owner wraps one with 'medval model keys sync'",
    )
    assert hospital.json("results", "list", "--local") == []
    assert _model_logs(hospital.home, private_model.id) == []
    # What the site fetched is the ciphertext only; `medval storage` shows it as sealed.
    assert cached.is_file() and CANARY.encode() not in cached.read_bytes()
    assert not (
        hospital.home / "cubes" / f"{private_model.registered['archive_hash']}.tar.gz"
    ).exists()
    cubes = next(a for a in hospital.json("storage", "list") if a["area"] == "cubes")
    assert "1 sealed" in cubes["holds"]

    # The model's owner wraps its key to every approved site; the server releases it.
    vendor = people["vendor"]
    synced = vendor.medval("model", "keys", "sync", str(private_model.id))
    assert synced.code == 0, synced.stderr
    assert "hospital-a: granted" in synced.stdout.splitlines()

    # Ciphertext changed by one byte in the site's cache: refused before anything runs.
    good = cached.read_bytes()
    changed = bytearray(good)
    changed[len(changed) // 2] ^= 0x01
    cached.write_bytes(bytes(changed))
    failed = hospital.medval(*run)
    assert_clean_failure(
        failed,
        6,
        f"sealed model private-logistic (cached at {cached}): content hash "
        f"{hashlib_of(bytes(changed))[:12]}… does not match the registered {sealed[:12]}…",
    )
    assert _model_logs(hospital.home, private_model.id) == []
    cached.write_bytes(good)

    # The wrong key (the owner granted this site another key): one line, nothing runs.
    right_key = private_model.key_file.read_bytes()
    private_model.key_file.write_bytes(os.urandom(32))
    grant = ("model", "keys", "grant", str(private_model.id), "--site", "hospital-a")
    vendor.ok(*grant)
    private_model.key_file.write_bytes(right_key)
    assert_clean_failure(
        hospital.medval(*run),
        6,
        "model private-logistic: the sealed archive does not open with this key "
        "(the wrong key, or ciphertext changed since it was sealed)",
    )
    assert _model_logs(hospital.home, private_model.id) == []
    assert hospital.json("results", "list", "--local") == []

    vendor.ok(*grant)
    hospital.ok(*run)
    hospital.ok("run", "--model", str(private_model.clear_id), "--yes")
    results = {r["model_id"]: r for r in hospital.json("results", "list", "--local")}
    private, clear = results[private_model.id], results[private_model.clear_id]
    assert private["status"] == clear["status"] == "succeeded"
    assert private["document"]["metrics"] == clear["document"]["metrics"]
    assert private["document"] == clear["document"]
    assert len(_model_logs(hospital.home, private_model.id)) == 1
    # Nothing in clear stayed behind: not in the cache, the scratch, the memory-backed
    # scratch, nor anywhere else in the site's folder.
    assert _clear_files_left(hospital.home) == []


def hashlib_of(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


MEASUREMENT = "a1" * 48  # what the model's owner pins: the runner image's launch measurement
POLICY = "0x30000"


def _attester(person: Person, key: Path, measurement: str = MEASUREMENT) -> Person:
    """``person`` with ``MEDVAL_ATTESTATION_COMMAND`` naming the stand-in attester."""
    command = shlex.join(
        [
            sys.executable,
            str(Path(__file__).with_name("stand_in_attester.py")),
            "--key", str(key), "--measurement", measurement, "--launch-policy", POLICY,
        ]
    )  # fmt: skip
    return replace(
        person, environment=(*person.environment, ("MEDVAL_ATTESTATION_COMMAND", command))
    )


def test_an_attested_model_runs_only_against_evidence_its_pins_accept(
    private_model: PrivateModel,
    people: dict[str, Person],
    benchmark: Benchmark,
    tmp_path: Path,
) -> None:
    """After the test above (the site's dataset is approved on the benchmark): the same
    model registered ``--key-release attested``, pinned, its key synced to the site."""
    vendor, committee = people["vendor"], people["committee"]
    registered = vendor.json(
        "model", "register", str(private_model.folder), "--private", "--key-release",
        "attested", "--name", "attested-logistic",
    )  # fmt: skip
    model = str(registered["id"])
    vendor.ok("model", "associate", model, "--benchmark", str(benchmark.id), "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    assert "hospital-a: granted" in vendor.ok("model", "keys", "sync", model).splitlines()
    hospital = people["hospital-a"]
    run = ("run", "--model", model, "--yes")

    # No pins yet: the server releases nothing, whatever the evidence.
    attester_key = SigningKey.generate()
    key_file = tmp_path / "attester.pem"
    key_file.write_bytes(attester_key.to_pem())
    assert_clean_failure(
        _attester(hospital, key_file).medval(*run),
        16,
        f"key release refused: model {model} releases its key only against attestation "
        "evidence, and its owner has pinned no measurement yet ('medval model attestation pin')",
    )
    pinned = vendor.medval(
        "model", "attestation", "pin", model, "--measurement", MEASUREMENT,
        "--launch-policy", POLICY, "--signing-key", attester_key.public_key,
    )  # fmt: skip
    assert pinned.code == 0, pinned.stderr
    assert pinned.stderr.splitlines() == [
        f"model attested-logistic: its key is released only to measurement {MEASUREMENT[:16]}"
    ]
    shown = hospital.json("model", "attestation", "show", model)
    assert (shown["measurement"], shown["launch_policy"]) == (MEASUREMENT, POLICY)

    # This machine names no attestation command: one line, nothing asked of the server.
    assert_clean_failure(
        hospital.medval(*run),
        16,
        "model attested-logistic releases its key only against attestation evidence, and "
        "this machine names no command that makes it: set MEDVAL_ATTESTATION_COMMAND "
        "(docs/confidential-computing.md)",
    )
    # Evidence of another runner image: refused by the server, nothing runs.
    assert_clean_failure(
        _attester(hospital, key_file, measurement="b2" * 48).medval(*run),
        16,
        f"key release refused: the runner's measurement {'b2' * 8} is not the pinned {'a1' * 8}",
    )
    # Evidence signed by another key than the pinned one.
    other = tmp_path / "other.pem"
    other.write_bytes(SigningKey.generate().to_pem())
    assert_clean_failure(
        _attester(hospital, other).medval(*run),
        16,
        "key release refused: the evidence's signature does not verify with the pinned key "
        f"{attester_key.key_id[:16]}",
    )
    assert _model_logs(hospital.home, registered["id"]) == []

    # Evidence the pins accept: the key is released, the model runs, the metrics are the
    # clear model's, and nothing in clear stays behind.
    _attester(hospital, key_file).ok(*run)
    results = {r["model_id"]: r for r in hospital.json("results", "list", "--local")}
    attested, clear = results[registered["id"]], results[private_model.clear_id]
    assert attested["status"] == "succeeded"
    assert attested["document"]["metrics"] == clear["document"]["metrics"]
    assert _clear_files_left(hospital.home) == []
