"""Contract: a native cube's own Python environment, built from the wheels it ships.

Runs against every runner in ``RUNNER_FACTORIES`` (see conftest.py). One environment is
built for the whole module (a store shared by its tests; the same key on every runner),
but for the test that counts builds, which starts from an empty store.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.registration import register_cube
from medval.client.workspace import Workspace
from medval.core.cube_spec import SPEC_FILE, load_cube_spec
from medval.core.errors import InvalidInput, SandboxError
from medval.runner import BubblewrapRunner, Limits, Runner, TaskFailed
from medval.runner.python_environments import DESCRIPTION_FILE
from tests.cube_wheels import PROBE_MODULE, write_environment_cube, write_wheel

pytestmark = pytest.mark.sandbox

FAST = Limits(timeout_seconds=60, memory_bytes=1 << 30)
CLIENT_VENV = Path(__import__("sys").prefix)

_PROBE = f"""\
import importlib, json, os, sys
args = dict(arg[2:].split("=", 1) for arg in sys.argv[1:])
found = {{}}
for name in ("{PROBE_MODULE}", "medval", "pandas", "numpy"):
    try:
        found[name] = getattr(importlib.import_module(name), "VALUE", True)
    except ImportError:
        found[name] = False
with open(os.path.join(args["output_path"], "report.json"), "w") as handle:
    json.dump({{"found": found, "prefix": sys.prefix, "path": sys.path,
               "client_venv_here": os.path.exists({str(CLIENT_VENV)!r})}}, handle)
"""


@pytest.fixture(scope="module")
def cubes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("environment-cubes")
    write_environment_cube(root / "with", _PROBE)
    write_environment_cube(root / "without", _PROBE, with_environment=False)
    (root / "data").mkdir()
    return root


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("environments")


def _run(runner: Runner, cube: Path, data: Path, output: Path) -> dict[str, object]:
    runner.run(
        cube, load_cube_spec(cube), "infer", {"data_path": data, "output_path": output}, FAST
    )
    report = json.loads((output / "report.json").read_text())
    assert isinstance(report, dict)
    return report


def test_a_cube_imports_what_only_its_wheel_provides_and_nothing_of_medvals(
    runner: Runner, cubes: Path, store: Path, tmp_path: Path
) -> None:
    report = _run(runner.with_environment_cache(store), cubes / "with", cubes / "data", tmp_path)

    (environment,) = [p for p in store.iterdir() if p.is_dir()]
    assert report["found"] == {PROBE_MODULE: 42, "medval": False, "pandas": False, "numpy": False}
    assert report["prefix"] == str(environment)
    assert not any(str(CLIENT_VENV) in entry for entry in report["path"])  # type: ignore[attr-defined]
    if isinstance(runner, BubblewrapRunner):
        # The engines' Python image holds the client's venv (unused); the local runner
        # does not even show it.
        assert report["client_venv_here"] is False


def test_the_same_cube_without_its_environment_cannot_import_the_wheel(
    runner: Runner, cubes: Path, store: Path, tmp_path: Path
) -> None:
    report = _run(runner.with_environment_cache(store), cubes / "without", cubes / "data", tmp_path)

    assert report["found"][PROBE_MODULE] is False  # type: ignore[index]
    assert report["found"]["pandas"] is True  # type: ignore[index]  # the runner's own Python


def test_the_environment_is_built_once_for_two_runs(
    runner: Runner, cubes: Path, tmp_path: Path
) -> None:
    fresh = runner.with_environment_cache(tmp_path / "environments")
    _run(fresh, cubes / "with", cubes / "data", tmp_path / "first")
    (built,) = [p for p in (tmp_path / "environments").iterdir() if p.is_dir()]
    description = json.loads((built / DESCRIPTION_FILE).read_text())
    (built / "seen-by-the-test").write_text("")  # gone if it were built again

    report = _run(fresh, cubes / "with", cubes / "data", tmp_path / "second")

    assert [p for p in (tmp_path / "environments").iterdir() if p.is_dir()] == [built]
    assert (built / "seen-by-the-test").is_file()
    assert report["found"][PROBE_MODULE] == 42  # type: ignore[index]
    assert description["requirements"] == ["medval-probe-wheel==1.0"]


def test_a_tampered_wheel_is_refused_in_one_line_before_anything_runs(
    runner: Runner, tmp_path: Path
) -> None:
    cube = tmp_path / "cube"
    write_environment_cube(cube, _PROBE)
    wheel = write_wheel(cube / "wheels", "medval_probe_wheel", "1.0", {f"{PROBE_MODULE}.py": ""})
    spec = load_cube_spec(cube)
    (tmp_path / "data").mkdir()
    mounts = {"data_path": tmp_path / "data", "output_path": tmp_path / "out"}

    with pytest.raises(InvalidInput) as caught:
        runner.with_environment_cache(tmp_path / "envs").run(cube, spec, "infer", mounts, FAST)

    assert str(caught.value).startswith(f"{cube / 'wheels'}: {wheel.name} has sha256 ") and str(
        caught.value
    ).endswith(
        "which requirements.lock does not pin for medval-probe-wheel==1.0: refused "
        "(tampered or another build)"
    )
    assert not (tmp_path / "envs").exists() or not any((tmp_path / "envs").iterdir())
    assert not (tmp_path / "out").exists()


def test_a_runner_with_no_place_to_build_refuses_in_one_line(
    runner: Runner, cubes: Path, tmp_path: Path
) -> None:
    spec = load_cube_spec(cubes / "with")
    mounts = {"data_path": cubes / "data", "output_path": tmp_path}
    with pytest.raises(SandboxError) as caught:
        runner.run(cubes / "with", spec, "infer", mounts, FAST)
    assert str(caught.value) == (
        f"cube 'probe' declares a Python environment and runner {runner.kind} has no place "
        "to build it: run it through the medval client"
    )


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_a_native_cube_reads_its_additional_files(
    runner: Runner, tmp_path: Path, packed: bool
) -> None:
    cube = tmp_path / "cube"
    (cube / "weights").mkdir(parents=True)
    (cube / "weights" / "model.txt").write_text("w=3\n")
    declared = "weights/"
    if packed:
        with tarfile.open(cube / "weights.tar.gz", "w:gz") as archive:
            archive.add(cube / "weights" / "model.txt", arcname="model.txt")
        declared = "weights.tar.gz"
    (cube / SPEC_FILE).write_text(
        "name: probe\nkind: model\ntasks:\n  infer: {entrypoint: [python, infer.py]}\n"
        f"additional_files: {declared}\n"
    )
    (cube / "infer.py").write_text(
        "import json, os, sys\n"
        "args = dict(a[2:].split('=', 1) for a in sys.argv[1:])\n"
        "weights = open(os.path.join(args['additional_files'], 'model.txt')).read()\n"
        "json.dump({'argv': sys.argv[1:], 'weights': weights},"
        " open(os.path.join(args['output_path'], 'report.json'), 'w'))\n"
    )
    (tmp_path / "data").mkdir()

    report = _run(runner, cube, tmp_path / "data", tmp_path / "out")

    assert report == {
        "argv": [
            "--data_path=/mlcube_io/data_path",
            "--additional_files=/mlcube_io/additional_files",
            "--output_path=/mlcube_io/output_path",
        ],
        "weights": "w=3\n",
    }


def test_a_cube_failing_to_import_a_module_not_in_its_lock_fails_as_the_cube(
    runner: Runner, store: Path, tmp_path: Path
) -> None:
    cube = tmp_path / "cube"
    write_environment_cube(cube, "import pandas\n")
    (tmp_path / "data").mkdir()
    mounts = {"data_path": tmp_path / "data", "output_path": tmp_path / "out"}
    with pytest.raises(TaskFailed) as caught:
        runner.with_environment_cache(store).run(cube, load_cube_spec(cube), "infer", mounts, FAST)
    assert "ModuleNotFoundError: No module named 'pandas'" in caught.value.log_tail


def test_a_registered_cube_runs_on_its_environment_built_in_the_workspace(
    runner: Runner, author: MedvalClient, tmp_path: Path
) -> None:
    folder = tmp_path / "cube"
    write_environment_cube(folder, _PROBE)
    cube = register_cube(author, folder, runner_kind=runner.kind)
    workspace = Workspace(tmp_path / "home")
    executor = Executor(author, workspace, runner, FAST)
    (tmp_path / "data").mkdir()

    executor.run_task(
        cube, "infer", {"data_path": tmp_path / "data", "output_path": tmp_path / "o"}
    )

    report = json.loads((tmp_path / "o" / "report.json").read_text())
    (built,) = [p for p in workspace.environments_dir.iterdir() if p.is_dir()]
    assert report["found"][PROBE_MODULE] == 42 and report["found"]["medval"] is False
    assert report["prefix"] == str(built.resolve())
