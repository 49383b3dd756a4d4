"""A preparation cube with a workflow, synthetic cases for it, and a seam that runs its tasks
in the real local sandbox and counts each run in a file (shared across processes).

Run as ``python -m tests.client.workflow_cube CUBE RAW WORK COUNTS JOBS`` to prepare in a
process of its own (a test kills it mid-way).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from medval.client.preparation.workflow_run import WorkflowOutcome, run_workflow
from medval.core.cube_spec import load_cube_spec
from medval.runner import BubblewrapRunner
from tests.e2e.script_cubes import write_cube

# convert (per case): a case whose value.txt says "broken" fails with a line of its own.
CONVERT = """
    [case] = os.listdir(args["data_path"])
    text = open(os.path.join(args["data_path"], case, "value.txt")).read()
    if text == "broken":
        sys.exit(f"case {case}: value.txt is broken")
    os.makedirs(os.path.join(args["output_path"], case))
    with open(os.path.join(args["output_path"], case, "value.txt"), "w") as out:
        out.write(text.upper())
    with open(os.path.join(args["output_path"], case, "overlay.png"), "w") as out:
        out.write("png")
    """

# prepare (once): the converted cases, and one label per case.
PREPARE = """
    shutil.copytree(args["data_path"], args["output_path"], dirs_exist_ok=True)
    with open(os.path.join(args["output_labels_path"], "labels.csv"), "w") as out:
        out.write("case\\n" + "".join(c + "\\n" for c in sorted(os.listdir(args["data_path"]))))
    """

SCRIPTS = {
    "prepare.py": PREPARE,
    "sanity_check.py": "pass",
    "statistics.py": """
        n_cases = len(os.listdir(args["data_path"]))
        with open(os.path.join(args["output_path"], "statistics.json"), "w") as out:
            json.dump({"n_cases": n_cases}, out)
        """,
    "convert.py": CONVERT,
}

WORKFLOW = """workflow:
  steps:
    convert: {task: convert, runs: per_case}
    prepare: {task: prepare, runs: whole}
"""


def write_workflow_cube(root: Path, workflow: str = WORKFLOW) -> Path:
    folder = write_cube(root, "workflow-prep", "data_preparator", SCRIPTS)
    spec = folder / "medval-cube.yaml"
    spec.write_text(spec.read_text() + workflow)
    return folder


def write_cases(raw: Path, count: int, broken: tuple[int, ...] = ()) -> tuple[Path, Path]:
    """``count`` cases (``case-00``...), each a folder with ``value.txt``; raw data and labels."""
    data, labels = raw / "data", raw / "labels"
    labels.mkdir(parents=True)
    (labels / "ids.csv").write_text("id\n")
    for index in range(count):
        case = data / f"case-{index:02d}"
        case.mkdir(parents=True)
        (case / "value.txt").write_text("broken" if index in broken else f"value {index}")
    return data, labels


class CountingCube:
    """The seam: each task of the cube run in the local sandbox, one line per run in
    ``counts`` (``TASK CASE``), written before it runs."""

    def __init__(self, folder: Path, counts: Path) -> None:
        self.folder = folder
        self.spec = load_cube_spec(folder)
        self.counts = counts
        self.runner = BubblewrapRunner()

    def __call__(self, task: str, mounts: Mapping[str, Path]) -> None:
        entries = sorted(p.name for p in mounts["data_path"].iterdir())
        what = entries[0] if len(entries) == 1 else "all"
        with self.counts.open("a") as out:
            out.write(f"{task} {what}\n")
        self.runner.run(self.folder, self.spec, task, mounts)

    def runs(self) -> list[str]:
        return self.counts.read_text().splitlines() if self.counts.exists() else []


def prepare(cube: Path, raw: Path, work: Path, counts: Path, jobs: int) -> WorkflowOutcome:
    spec = load_cube_spec(cube)
    assert spec.workflow is not None
    return run_workflow(
        spec.workflow, CountingCube(cube, counts), raw / "data", raw / "labels", work, jobs=jobs
    )


if __name__ == "__main__":
    cube_folder, raw_folder, work_folder, counts_file, jobs = sys.argv[1:]
    prepare(Path(cube_folder), Path(raw_folder), Path(work_folder), Path(counts_file), int(jobs))
