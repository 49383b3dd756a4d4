"""Killed in the middle: the server (SIGKILL) during a result upload and during a blob
upload, an answer lost after the server committed, the client (SIGKILL) during an
execution. After a restart nothing is half-written, nothing is duplicated, and running
the same command again finishes the work.

A real server process behind a TCP proxy (``tests/e2e/fault_proxy.py``) that breaks one
exchange at a chosen byte; real CLI processes; cubes in medval's own format, sandboxed.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.client.workspace import LocalResult
from medval.core import api
from medval.core.hashing import sha256_file
from tests.e2e.fault_proxy import FaultProxy, KillableServer, fault_proxy
from tests.e2e.people import PASSWORD, Person, assert_clean_failure
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e]

_PREP = copying_prep({"n_cases": 400, "values": {}})
_MODEL = """
    import time
    site = open(os.path.join(args["data_path"], "mode.txt")).read() == "site"
    open(os.path.join(args["output_path"], "started"), "w").close()
    if site and {slow!r}:
        time.sleep(8)  # long enough for the test to kill the client meanwhile
    with open(os.path.join(args["output_path"], "predictions.csv"), "w") as handle:
        handle.write("0.{auroc}")
    """
_EVALUATE = """
    value = float(open(os.path.join(args["predictions"], "predictions.csv")).read())
    json.dump({"n_cases": 400, "n_positive": 200, "metrics": {"auroc": {"value": value}}},
              open(os.path.join(args["output_path"], "results.json"), "w"))
    """
RESULTS = f"POST {api.PREFIX}{api.RESULTS} ".encode()
BLOBS = f"PUT {api.PREFIX}/blobs/".encode()
# The proxy marks a fault fired once the server is dead (its SIGKILL waited for); the
# client may see its connection closed a moment before that, as the server's end closes.
FIRED_SECONDS = 30


@dataclass(frozen=True)
class Site:
    server: KillableServer
    proxy: FaultProxy
    people: dict[str, Person]
    benchmark: int
    root: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("faults")
    server = KillableServer(root / "server", root / "server.log")
    created = subprocess.run(
        [sys.executable, "-m", "medval", "server", "create-admin", "--username", "admin"],
        env={
            **os.environ,
            "MEDVAL_SERVER_DATA_DIR": str(server.data_dir),
            "MEDVAL_ADMIN_PASSWORD": PASSWORD,
        },
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    server.start()
    with fault_proxy(server.port) as proxy:
        names = ["admin", "committee", "hospital-a", "hospital-b", "vendor"]
        people = {name: Person(name, root / "homes" / name, proxy.url) for name in names}
        people["admin"].ok("login", "--username", "admin")
        for name in names[1:]:
            people["admin"].ok("users", "create", name)
            people[name].ok("login", "--username", name)
        cubes = (
            write_cube(root / "cubes", "fault-prep", "data_preparator", _PREP),
            write_cube(root / "cubes", "fault-reference", "model", {"infer.py": _model(70)}),
            write_cube(root / "cubes", "fault-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
        )
        demo = write_site(root / "demo", "demo")
        benchmark = register_benchmark(
            people["committee"], people["admin"], "faults", cubes, demo
        ).id
        for hospital in ("hospital-a", "hospital-b"):
            raw = write_site(root / "raw" / hospital, "site")
            people[hospital].ok(
                "dataset", "prepare", "--benchmark", str(benchmark), "--name", hospital,
                "--data-path", str(raw / "data"), "--labels-path", str(raw / "labels"),
            )  # fmt: skip
            people[hospital].ok("dataset", "register", hospital, "--yes")
            people[hospital].ok("dataset", "associate", hospital, "--yes")
        _approve_pending(people["committee"])
        yield Site(server, proxy, people, benchmark, root)
        server.kill()


def _model(auroc: int, slow: bool = False) -> str:
    return _MODEL.format(auroc=auroc, slow=slow)


def _approve_pending(committee: Person) -> None:
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")


def _restart(site: Site) -> None:
    assert not site.server.running
    site.server.start()


def _local(person: Person, key: str) -> LocalResult:
    path = person.home / "results" / key / "result.json"
    return LocalResult.model_validate_json(path.read_text())


def _key(site: Site, hospital: str) -> str:
    person = site.people[hospital]
    dataset = person.json("dataset", "list", "--mine")[0]["id"]
    pending = [p for p in person.json("results", "list", "--local") if p["dataset_id"] == dataset]
    assert len(pending) == 1, pending
    return f"b{site.benchmark}-m{pending[0]['model_id']}-d{dataset}"


def _held(site: Site) -> list[tuple[int, int]]:
    """Every (model, dataset) the server holds a result for, one entry per result."""
    results = site.people["committee"].json("results", "list", "--benchmark", str(site.benchmark))
    return sorted((r["model_id"], r["dataset_id"]) for r in results)


def test_an_answer_lost_after_the_server_committed_is_settled_on_the_next_upload(
    site: Site,
) -> None:
    hospital = site.people["hospital-a"]
    hospital.ok("run", "--benchmark", str(site.benchmark), "--yes")
    key = _key(site, "hospital-a")

    # The server commits the upload, then dies before its answer reaches the client.
    fired = site.proxy.drop_answer(RESULTS, then=site.server.kill)
    lost = hospital.medval("results", "upload", key, "--yes")
    assert fired.wait(FIRED_SECONDS)
    assert_clean_failure(
        lost, 7, f"cannot reach the medval server at {site.proxy.url} (RemoteProtocolError)"
    )
    assert _local(hospital, key).uploaded_at is None  # not known to be sent: still unsent

    _restart(site)
    assert len(_held(site)) == 1  # the server did commit it
    settled = hospital.medval("results", "upload", key, "--yes")
    assert settled.code == 0, settled.stderr
    server_id = _local(hospital, key).server_id
    assert server_id is not None
    assert (
        f"result {key} was already on the server as {server_id} (the answer to an earlier "
        "upload was lost); marked sent here"
    ) in settled.stderr
    assert _local(hospital, key).uploaded_at is not None
    assert len(_held(site)) == 1

    # A local copy that is not the result the server holds: one line, and it stays unsent.
    path = hospital.home / "results" / key / "result.json"
    record = json.loads(path.read_text())
    record.update(uploaded_at=None, server_id=None)
    record["document"]["metrics"]["auroc"]["value"] = 0.7777  # no c/d of a small count
    path.write_text(json.dumps(record))
    other = hospital.medval("results", "upload", key, "--yes")
    assert_clean_failure(
        other, 5, f"the server holds another result for {key} (result {server_id}, uploaded "
    )
    assert "it differs from this one in its document; this one stays unsent here" in (other.stderr)
    assert _local(hospital, key).uploaded_at is None
    assert len(_held(site)) == 1


def test_a_server_killed_while_a_result_arrives_keeps_nothing_and_takes_it_again(
    site: Site,
) -> None:
    hospital = site.people["hospital-b"]
    hospital.ok("run", "--benchmark", str(site.benchmark), "--yes")
    key = _key(site, "hospital-b")
    before = _held(site)

    # Killed with the request line and part of the headers received, nothing committed.
    fired = site.proxy.cut_request(RESULTS, after=60, then=site.server.kill)
    cut = hospital.medval("results", "upload", key, "--yes")
    assert fired.wait(FIRED_SECONDS)
    assert_clean_failure(cut, 7, f"error: cannot reach the medval server at {site.proxy.url} (")
    _restart(site)
    assert _held(site) == before

    again = hospital.medval("results", "upload", key, "--yes")
    assert again.code == 0, again.stderr
    assert f"result {key} uploaded as {_local(hospital, key).server_id}" in again.stderr
    assert len(_held(site)) == len(before) + 1
    assert len(set(_held(site))) == len(_held(site))


def test_a_server_killed_during_a_blob_upload_continues_it_after_a_restart(site: Site) -> None:
    vendor = site.people["vendor"]
    folder = write_cube(site.root / "cubes", "weighty-model", "model", {"infer.py": _model(60)})
    (folder / "weights.bin").write_bytes(os.urandom(6 << 20))  # incompressible: ~6 MiB archive

    fired = site.proxy.cut_request(BLOBS, after=3 << 20, then=site.server.kill)
    cut = vendor.medval("model", "register", str(folder))
    assert fired.wait(FIRED_SECONDS)
    assert_clean_failure(cut, 7, f"error: cannot reach the medval server at {site.proxy.url} (")

    partials = list((site.server.data_dir / "blobs" / ".partial").iterdir())
    assert len(partials) == 1
    sha256, held = partials[0].name, partials[0].stat().st_size
    assert 0 < held <= 3 << 20  # what arrived before the kill, kept to continue
    _restart(site)

    sent_before = site.proxy.forwarded_to_server
    again = vendor.medval("model", "register", str(folder), "--format", "json")
    assert again.code == 0, again.stderr
    resent = site.proxy.forwarded_to_server - sent_before
    blob = site.server.data_dir / "blobs" / sha256
    assert blob.is_file() and sha256_file(blob) == sha256
    assert resent < blob.stat().st_size  # continued from where it stopped, not resent whole
    assert not (site.server.data_dir / "blobs" / ".partial" / sha256).exists()
    registered = [c for c in vendor.json("cube", "list", "--mine") if c["name"] == "weighty-model"]
    assert [c["archive_hash"] for c in registered] == [sha256]


def test_a_client_killed_during_an_execution_leaves_nothing_half_done_and_runs_again(
    site: Site,
) -> None:
    vendor, hospital = site.people["vendor"], site.people["hospital-a"]
    folder = write_cube(site.root / "cubes", "slow-model", "model", {"infer.py": _model(65, True)})
    model = vendor.json("model", "register", str(folder))["id"]
    vendor.ok("model", "associate", str(model), "--benchmark", str(site.benchmark), "--yes")
    _approve_pending(site.people["committee"])
    dataset = hospital.json("dataset", "list", "--mine")[0]["id"]
    key = f"b{site.benchmark}-m{model}-d{dataset}"

    running = subprocess.Popen(
        [sys.executable, "-m", "medval", "run", "--benchmark", str(site.benchmark), "--yes"],
        env={**os.environ, "MEDVAL_HOME": str(hospital.home), "MEDVAL_PASSWORD": PASSWORD},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started = hospital.home / "results" / key / "predictions" / "started"
    deadline = time.monotonic() + 120
    while not started.exists():
        assert running.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(running.pid, signal.SIGKILL)  # the client and the sandbox it started
    running.wait()
    scratch = hospital.home / "scratch"
    assert any(f"p{running.pid}-" in entry.name for entry in scratch.iterdir())

    # Nothing half-written: no record of the execution, every other record readable.
    assert not (hospital.home / "results" / key / "result.json").exists()
    local = hospital.json("results", "list", "--local")
    assert key not in {f"b{r['benchmark_id']}-m{r['model_id']}-d{r['dataset_id']}" for r in local}

    again = hospital.medval("run", "--benchmark", str(site.benchmark), "--yes")
    assert again.code == 0, again.stderr
    assert _local(hospital, key).document is not None
    assert not any(f"p{running.pid}-" in entry.name for entry in scratch.iterdir())
    folder = hospital.home / "results" / key
    assert sorted(os.listdir(folder / "predictions")) == ["predictions.csv", "started"]
    # Per-case predictions and the result: owner-only, whatever the cube's umask was.
    for path in [folder.parent, folder, *folder.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path

    before = _held(site)
    upload = hospital.medval("results", "upload", key, "--yes")
    assert upload.code == 0, upload.stderr
    assert _held(site) == sorted([*before, (model, dataset)])  # one result per execution
    assert len(set(_held(site))) == len(_held(site))
