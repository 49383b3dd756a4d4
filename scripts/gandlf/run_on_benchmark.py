"""Run the GaNDLF MLCube on the imaging benchmark's Colin27 site through medval's runners.

    PYTHONPATH=src python scripts/gandlf/run_on_benchmark.py CUBE WORK [--wheels W]

No server: the benchmark's own preparation cube and evaluator (their Python environments,
medval's local runner) around the GaNDLF cube on medval's Podman runner (its image,
``localhost/medval-gandlf-brain:0.1.5``, already in Podman: scripts/gandlf_cube.sh).
Prints the evaluator's results.json.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from medval.core.cube_spec import load_cube_spec as load_spec
from medval.demo import imaging_cubes, imaging_data
from medval.runner.registry import runner_for

IMAGE = "localhost/medval-gandlf-brain:0.1.5"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cube", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--wheels", type=Path, default=Path(".imaging-wheels"))
    args = parser.parse_args()
    work = args.work
    site = imaging_data.write_site(imaging_data.COLIN27, work / "site", args.wheels)
    cubes = {
        name: imaging_cubes.build_cube(name, work / "cubes", args.wheels)
        for name in (imaging_cubes.PREPARATOR, imaging_cubes.EVALUATOR)
    }
    local = runner_for("local").with_environment_cache(work / "environments")
    folders = {k: work / k for k in ("prepared", "prepared-labels", "predictions", "results")}
    for folder in folders.values():
        folder.mkdir()
    prep = cubes[imaging_cubes.PREPARATOR]
    local.run(
        prep,
        load_spec(prep),
        "prepare",
        {
            "data_path": site.data_path,
            "labels_path": site.labels_path,
            "output_path": folders["prepared"],
            "output_labels_path": folders["prepared-labels"],
        },
    )
    image_id = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Id}}", IMAGE],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    image_id = image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
    podman = runner_for("podman")
    start = time.monotonic()
    run = podman.run(
        args.cube,
        load_spec(args.cube),
        "infer",
        {"data_path": folders["prepared"], "output_path": folders["predictions"]},
        image=image_id,
    )
    print(f"GaNDLF cube infer on podman: {time.monotonic() - start:.0f} s, exit {run.exit_code}")
    evaluator = cubes[imaging_cubes.EVALUATOR]
    local.run(
        evaluator,
        load_spec(evaluator),
        "evaluate",
        {
            "predictions": folders["predictions"],
            "labels": folders["prepared-labels"],
            "output_path": folders["results"],
        },
    )
    print((folders["results"] / "results.json").read_text())


if __name__ == "__main__":
    main()
