"""``medval run --jobs N``: executions side by side, through the real CLI and sandbox.

Every model here records when its ``infer`` started and ended in its output (which stays
in the data owner's results folder), so the tests see whether executions overlapped. At
a hospital (``mode.txt``: ``site``) a model takes a second and a half and writes its own
score; the crashing one fails. At a ``hang`` site every model waits for ever, under a
name the test can look for among the machine's processes.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.people import PASSWORD, Person, assert_clean_failure
from tests.e2e.script_cubes import copying_prep, register_benchmark, write_cube, write_site

pytestmark = [pytest.mark.e2e]

# What a waiting model's process carries on its command line: unique to this session.
TOKEN = f"medval-jobs-{uuid.uuid4().hex[:12]}"
_MODEL = """
    import time
    start = time.time()
    mode = open(os.path.join(args["data_path"], "mode.txt")).read()
    out = args["output_path"]
    json.dump({{"start": start}}, open(os.path.join(out, "started.json"), "w"))
    if mode == "hang":
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", {token!r}])
    if mode == "site" and {crash!r}:
        sys.exit(print("ValueError: a case has no age", file=sys.stderr) or 3)
    time.sleep(1.5 if mode == "site" else 0)
    open(os.path.join(out, "predictions.csv"), "w").write({score!r})
    json.dump({{"start": start, "end": time.time()}}, open(os.path.join(out, "times.json"), "w"))
    """
_EVALUATE = """
    score = float(open(os.path.join(args["predictions"], "predictions.csv")).read())
    json.dump({"n_cases": 100, "n_positive": 50, "metrics": {"score": {"value": score}}},
              open(os.path.join(args["output_path"], "results.json"), "w"))
    """
# Each model's own score, so that a result kept under another model's key shows.
SCORES = {"model-1": "0.61", "model-2": "0.62", "model-3": "0.63", "crashing-model": "0.64"}
CRASHED = "task 'infer' of cube 'crashing-model' failed with exit code 3"
REFUSED = "error: --jobs is how many executions run at once: at least 1, not 0"


def _model(root: Path, name: str, score: str, crash: bool = False) -> Path:
    body = _MODEL.format(token=TOKEN, crash=crash, score=score)
    return write_cube(root, name, "model", {"infer.py": body})


@dataclass(frozen=True)
class SideBySide:
    benchmark: int
    models: dict[str, int]  # the reference model too
    waiting: Person  # a hospital whose site makes every model wait


@pytest.fixture(scope="module")
def side(people: dict[str, Person], tmp_path_factory: pytest.TempPathFactory) -> SideBySide:
    root = tmp_path_factory.mktemp("side-by-side")
    committee, vendor, admin = people["committee"], people["vendor"], people["admin"]
    cubes = (
        write_cube(
            root, "plain-prep", "data_preparator", copying_prep({"n_cases": 100, "values": {}})
        ),
        _model(root, "reference-model", "0.71"),
        write_cube(root, "plain-evaluator", "evaluator", {"evaluate.py": _EVALUATE}),
    )
    registered = register_benchmark(
        committee, admin, "side-by-side", cubes, write_site(root / "demo", "demo")
    )
    models = {"reference-model": registered.cube_ids[1]}
    for name, score in SCORES.items():
        cube = _model(root, name, score, crash=name == "crashing-model")
        models[name] = vendor.json("model", "register", str(cube))["id"]
        vendor.ok(
            "model", "associate", str(models[name]), "--benchmark", str(registered.id), "--yes"
        )
    waiting = Person("hospital-c", root / "hospital-c-home", people["admin"].server_url)
    admin.ok("users", "create", waiting.username)
    waiting.ok("login", "--username", waiting.username)
    for person, mode in (
        (people["hospital-a"], "site"),
        (people["hospital-b"], "site"),
        (waiting, "hang"),
    ):
        site = write_site(root / person.username, mode)
        person.ok(
            "dataset", "prepare", "--benchmark", str(registered.id),
            "--name", f"{person.username}-jobs",
            "--data-path", str(site / "data"), "--labels-path", str(site / "labels"),
        )  # fmt: skip
        person.ok("dataset", "register", f"{person.username}-jobs", "--yes")
        person.ok("dataset", "associate", f"{person.username}-jobs", "--yes")
    for association in committee.json("association", "list", "--status", "pending"):
        committee.ok("association", "approve", str(association["id"]), "--yes")
    return SideBySide(registered.id, models, waiting)


def _key(side: SideBySide, person: Person, model: str) -> str:
    dataset = person.json("dataset", "list", "--mine")[0]["id"]
    return f"b{side.benchmark}-m{side.models[model]}-d{dataset}"


def _results(person: Person) -> dict[str, Any]:
    """Each local result by model, as ``medval results upload`` would send it (without
    when it ran)."""
    found = person.json("results", "list", "--local")
    return {
        r["model"]: {k: v for k, v in r.items() if k not in ("executed_at", "uploaded_at")}
        for r in found
    }


def _intervals(person: Person) -> list[tuple[float, float]]:
    """When each model's ``infer`` ran, as it recorded in its output (kept here)."""
    found = []
    for times in sorted((person.home / "results").glob("*/predictions/times.json")):
        recorded = json.loads(times.read_text())
        found.append((recorded["start"], recorded["end"]))
    return sorted(found)


def _overlapping(intervals: list[tuple[float, float]]) -> int:
    """How many of the (sorted) intervals start before the one before them ended."""
    return sum(later[0] < earlier[1] for earlier, later in itertools.pairwise(intervals))


def test_two_at_once_give_what_one_at_a_time_gives_and_overlap(
    people: dict[str, Person], side: SideBySide
) -> None:
    hospital = people["hospital-a"]
    crashing = _key(side, hospital, "crashing-model")
    failed = f"1 of 5 executions failed: {crashing}: {CRASHED}"

    two = hospital.medval("run", "--benchmark", str(side.benchmark), "--jobs", "2", "--yes")
    assert_clean_failure(two, 8, failed)
    side_by_side, overlapped = _results(hospital), _intervals(hospital)
    # The local audit log: whole, one approval and one outcome per execution.
    assert hospital.ok("audit", "verify").startswith("local audit log verified: ")
    actions = sorted(
        (e["entity_id"], e["action"]) for e in hospital.json("audit", "--entity", "execution")
    )
    assert actions == sorted(
        (_key(side, hospital, model), action)
        for model in side.models
        for action in (
            "execution.approve",
            "execution.failed" if model == "crashing-model" else "execution.succeeded",
        )
    )

    one = hospital.medval("run", "--benchmark", str(side.benchmark), "--force", "--yes")
    assert_clean_failure(one, 8, failed)
    in_turn, sequential = _results(hospital), _intervals(hospital)

    assert side_by_side == in_turn
    scores = {
        m: r["document"]["metrics"]["score"]["value"] for m, r in in_turn.items() if r["document"]
    }
    assert scores == {"reference-model": 0.71, "model-1": 0.61, "model-2": 0.62, "model-3": 0.63}
    assert (in_turn["crashing-model"]["status"], in_turn["crashing-model"]["failure"]) == (
        "failed",
        CRASHED,
    )
    assert len(overlapped) == len(sequential) == 4  # the crashing model records no end
    assert _overlapping(sequential) == 0
    assert _overlapping(overlapped) >= 1


def test_one_failing_among_several_leaves_the_others_whole(
    people: dict[str, Person], side: SideBySide
) -> None:
    # Its progress lines, which a pipe gets only when asked (MEDVAL_PROGRESS=always).
    hospital = replace(
        people["hospital-b"],
        environment=(*people["hospital-b"].environment, ("MEDVAL_PROGRESS", "always")),
    )
    run = hospital.medval("run", "--benchmark", str(side.benchmark), "--jobs", "3", "--yes")

    crashing = _key(side, hospital, "crashing-model")
    assert_clean_failure(run, 8, f"1 of 5 executions failed: {crashing}: {CRASHED}")
    results = _results(hospital)
    assert {m: r["status"] for m, r in results.items()} == {
        "reference-model": "succeeded", "model-1": "succeeded", "model-2": "succeeded",
        "model-3": "succeeded", "crashing-model": "failed",
    }  # fmt: skip
    assert results["model-2"]["document"]["metrics"]["score"]["value"] == 0.62
    # Each execution's start names its key; its number tags every line that follows.
    starts = re.findall(r"^\[(\d)/5\] (\S+) on hospital-b-jobs \((b\S+)\)$", run.stderr, re.M)
    assert sorted(int(n) for n, _, _ in starts) == [1, 2, 3, 4, 5]
    assert {model: key for _, model, key in starts} == {
        model: _key(side, hospital, model) for model in side.models
    }
    number = next(n for n, model, _ in starts if model == "crashing-model")
    assert f"  ✗ [{number}/5] {CRASHED}: ValueError: a case has no age\n" in run.stderr
    steps = [line for line in run.stderr.splitlines() if line.startswith(("  →", "  ✓"))]
    assert all(re.match(r"  [→✓] \[[1-5]/5\] ", step) for step in steps), steps
    tasks = [s for s in steps if re.match(r"  [→✓] \[[1-5]/5\] [a-z0-9-]+: (infer|evaluate)", s)]
    assert len(tasks) == 5 + 4 + 4 + 4  # infer started 5, ended 4; evaluate 4 and 4


def test_jobs_below_one_is_refused(people: dict[str, Person], side: SideBySide) -> None:
    refused = people["hospital-a"].medval("run", "--jobs", "0", "--yes")
    assert_clean_failure(refused, 2, REFUSED)
    assert refused.stderr == REFUSED + "\n"


def _running_with_token() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if TOKEN.encode() in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                continue  # ended meanwhile
    return found


def _started(home: Path) -> list[Path]:
    return sorted((home / "results").glob("*/predictions/started.json"))


def test_ctrl_c_stops_every_running_sandbox(side: SideBySide) -> None:
    person = side.waiting
    env = dict(os.environ, MEDVAL_HOME=str(person.home), MEDVAL_SERVER=person.server_url)
    env.update(MEDVAL_PASSWORD=PASSWORD, COLUMNS="200")
    command = [sys.executable, "-m", "medval", "run", "--jobs", "2", "--yes"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while len(_started(person.home)) < 2 or len(_running_with_token()) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "two models never started waiting"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends the foreground process
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    # As a run one at a time ends on Ctrl-C (Typer turns it into exit code 130).
    assert process.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr
    deadline = time.monotonic() + 10  # killed at once; the kernel reaps them
    while _running_with_token():
        assert time.monotonic() < deadline, f"still running: {_running_with_token()}"
        time.sleep(0.1)
    assert len(_started(person.home)) == 2  # no third execution started
    assert list((person.home / "results").glob("*/result.json")) == []  # nothing recorded
