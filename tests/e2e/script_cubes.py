"""Tiny cubes in medval's own format, written by a test from Python snippets, and a site.

Each script starts with ``ARGS``: it imports ``json, os, shutil, sys`` and reads its mounts
from ``--NAME=PATH`` into ``args``. A site is a raw export whose ``data/mode.txt`` tells
the cubes how to behave there (so one cube can pass the demo data and misbehave at a
hospital).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.people import CliResult, Person

ARGS = 'import json, os, shutil, sys\nargs = dict(a[2:].split("=", 1) for a in sys.argv[1:])\n'


def write_cube(root: Path, name: str, kind: str, scripts: dict[str, str]) -> Path:
    """A cube folder ``root/name``: one task per script (``prepare.py`` is ``prepare``)."""
    folder = root / name
    folder.mkdir(parents=True)
    tasks = "".join(
        f"  {file.removesuffix('.py')}: {{entrypoint: [python, {file}]}}\n" for file in scripts
    )
    (folder / "medval-cube.yaml").write_text(f"name: {name}\nkind: {kind}\ntasks:\n{tasks}")
    for file, body in scripts.items():
        (folder / file).write_text(ARGS + textwrap.dedent(body))
    return folder


# A preparation step that keeps the site's data and labels as they are.
COPY_SITE = """
    for source, target in (("data_path", "output_path"), ("labels_path", "output_labels_path")):
        shutil.copytree(args[source], args[target], dirs_exist_ok=True)
    """


def copying_prep(statistics: dict[str, object]) -> dict[str, str]:
    """The scripts of a preparation cube that keeps the site as it is and reports
    ``statistics`` (``statistics.json``)."""
    return {
        "prepare.py": COPY_SITE,
        "sanity_check.py": "pass",
        "statistics.py": f"""
            json.dump({statistics!r},
                      open(os.path.join(args["output_path"], "statistics.json"), "w"))
            """,
    }


def write_site(root: Path, mode: str, labels: str = "id,y\n1,0\n") -> Path:
    """A raw export at ``root``: ``data/mode.txt`` says ``mode``; ``labels/labels.csv``."""
    for part in ("data", "labels"):
        (root / part).mkdir(parents=True)
    (root / "data" / "mode.txt").write_text(mode)
    (root / "labels" / "labels.csv").write_text(labels)
    return root


@dataclass(frozen=True)
class RegisteredBenchmark:
    id: int
    cube_ids: tuple[int, int, int]  # preparation, reference model, evaluator
    registration: CliResult  # what `benchmark register` printed (its compatibility test)


def register_benchmark(
    committee: Person, admin: Person, name: str, cubes: tuple[Path, Path, Path], demo: Path
) -> RegisteredBenchmark:
    """The committee registers the three cubes and the benchmark; the admin approves it."""
    prep, reference, evaluator = (
        committee.json("cube", "register", str(cube))["id"] for cube in cubes
    )
    registered = committee.medval(
        "benchmark", "register", "--name", name,
        "--data-preparator", str(prep), "--reference-model", str(reference),
        "--evaluator", str(evaluator), "--demo-data", str(demo),
        "--release-policy", "participants", "--format", "json",
    )  # fmt: skip
    assert registered.code == 0, registered.stderr
    benchmark = json.loads(registered.stdout)["id"]
    admin.ok("benchmark", "approve", "--yes", str(benchmark))
    return RegisteredBenchmark(benchmark, (prep, reference, evaluator), registered)
