"""End-to-end fixtures: a real server process, real CLI processes, real sandboxed cubes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.demo import data
from medval.demo.embedded_server import embedded_server, server_env
from medval.demo.train import (
    BOOSTING_MODEL,
    EVALUATOR,
    LOGISTIC_MODEL,
    PREPARATOR,
    REFERENCE_MODEL,
    build_all_cubes,
)
from medval.server.settings import CHEAPEST_HASHING_ENV
from tests.e2e.people import PASSWORD, Person

E2E_SITES = ("rotterdam-1990-93", "gbsg")


@dataclass(frozen=True)
class Assets:
    prep: Path
    evaluator: Path
    models: dict[str, Path]
    demo_data: Path
    sites: dict[str, data.SiteFiles]


@pytest.fixture(scope="session")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Assets:
    root = tmp_path_factory.mktemp("assets")
    demo_data = root / "demo-data"
    data.write_demo_data(demo_data)
    cubes = build_all_cubes(root / "cubes")
    return Assets(
        prep=cubes[PREPARATOR],
        evaluator=cubes[EVALUATOR],
        models={
            "reference": cubes[REFERENCE_MODEL],
            "logistic": cubes[LOGISTIC_MODEL],
            "boosting": cubes[BOOSTING_MODEL],
        },
        demo_data=demo_data,
        sites={name: data.write_site(name, root / "sites" / name) for name in E2E_SITES},
    )


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("server")
    data_dir = root / "data"
    # Hashed with argon2's cheapest parameters, as the in-process tests' servers do: the
    # standard ones cost 0.2 s of CPU per login or account, about a dozen per module, and
    # nothing here measures them (the demo keeps them).
    created = subprocess.run(
        [sys.executable, "-m", "medval", "server", "create-admin", "--username", "admin"],
        env={**server_env(data_dir, 0), **CHEAPEST_HASHING_ENV, "MEDVAL_ADMIN_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    with embedded_server(data_dir, root / "server.log", extra_env=CHEAPEST_HASHING_ENV) as url:
        yield Server(url, data_dir)


@pytest.fixture(scope="module")
def people(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Person]:
    """Everyone logged in: an admin, a committee, two hospitals, a vendor, an outsider."""
    homes = tmp_path_factory.mktemp("homes")
    names = ["admin", "committee", "hospital-a", "hospital-b", "vendor", "outsider"]
    everyone = {name: Person(name, homes / name, server.url) for name in names}
    everyone["admin"].ok("login", "--username", "admin")
    for name in names[1:]:
        everyone["admin"].ok("users", "create", name)
        everyone[name].ok("login", "--username", name)
    return everyone


@dataclass(frozen=True)
class Benchmark:
    id: int
    prep_id: int
    reference_id: int
    evaluator_id: int


@pytest.fixture(scope="module")
def benchmark(people: dict[str, Person], assets: Assets) -> Benchmark:
    """The committee's benchmark, compatibility-tested, registered and approved (k 10)."""
    committee = people["committee"]
    prep = committee.json("cube", "register", str(assets.prep))["id"]
    reference = committee.json("cube", "register", str(assets.models["reference"]))["id"]
    evaluator = committee.json("cube", "register", str(assets.evaluator))["id"]
    registered = committee.json(
        "benchmark", "register", "--name", "breast-e2e",
        "--data-preparator", str(prep), "--reference-model", str(reference),
        "--evaluator", str(evaluator), "--demo-data", str(assets.demo_data),
        "--release-policy", "participants",
        # Two hospitals take part: the benchmark releases from two sites on (the rule
        # itself: tests/server/test_api_release.py).
        "--min-sites", "2",
    )  # fmt: skip
    people["admin"].ok("benchmark", "approve", "--yes", str(registered["id"]))
    return Benchmark(registered["id"], prep, reference, evaluator)
