"""The demo federation run once per session: cubes built, every site prepared, every model
inferred and evaluated, by running the cube scripts directly (no sandbox here)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from medval.demo.data import SITES, write_demo_data, write_site
from medval.demo.train import (
    BOOSTING_MODEL,
    EVALUATOR,
    LOGISTIC_MODEL,
    PREPARATOR,
    REFERENCE_MODEL,
    build_all_cubes,
)

MODELS = (REFERENCE_MODEL, LOGISTIC_MODEL, BOOSTING_MODEL)
DEMO = "demo"


def run_task(cube: Path, script: str, **mounts: Path) -> subprocess.CompletedProcess[str]:
    """Run a cube script as the runner would: one --NAME=PATH per mount, cwd = cube."""
    args = [sys.executable, str(cube / script), *(f"--{k}={v}" for k, v in mounts.items())]
    return subprocess.run(args, cwd=cube, capture_output=True, text=True, timeout=120)


def run_ok(cube: Path, script: str, **mounts: Path) -> None:
    done = run_task(cube, script, **mounts)
    assert done.returncode == 0, done.stderr


def folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Site:
    raw_data: Path
    raw_labels: Path
    cases: Path
    labels: Path
    statistics: Path
    predictions: dict[str, Path] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Federation:
    cubes: dict[str, Path]
    sites: dict[str, Site]


def _run_site(name: str, root: Path, cubes: dict[str, Path]) -> Site:
    base = root / name
    raw = write_demo_data(base / "raw") if name == DEMO else write_site(name, base / "raw")
    site = Site(
        raw.data_path,
        raw.labels_path,
        folder(base / "cases"),
        folder(base / "labels"),
        folder(base / "statistics"),
    )
    prep = cubes[PREPARATOR]
    run_ok(
        prep,
        "prepare.py",
        data_path=site.raw_data,
        labels_path=site.raw_labels,
        output_path=site.cases,
        output_labels_path=site.labels,
    )
    run_ok(prep, "sanity_check.py", data_path=site.cases, labels_path=site.labels)
    run_ok(
        prep,
        "compute_statistics.py",
        data_path=site.cases,
        labels_path=site.labels,
        output_path=site.statistics,
    )
    for model in MODELS:
        site.predictions[model] = folder(base / model / "predictions")
        results = folder(base / model / "results")
        run_ok(cubes[model], "infer.py", data_path=site.cases, output_path=site.predictions[model])
        run_ok(
            cubes[EVALUATOR],
            "evaluate.py",
            predictions=site.predictions[model],
            labels=site.labels,
            output_path=results,
        )
        site.results[model] = json.loads((results / "results.json").read_text())
    return site


@pytest.fixture(scope="session")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    root = tmp_path_factory.mktemp("federation")
    cubes = build_all_cubes(root / "cubes")
    names = [*SITES, DEMO]
    with ThreadPoolExecutor(max_workers=4) as pool:
        sites = list(pool.map(lambda name: _run_site(name, root, cubes), names))
    return Federation(cubes=cubes, sites=dict(zip(names, sites, strict=True)))
