"""A training cube's Flower app as medval reads it (``core.flower_app``): its components,
its declared run-config keys, and one line for each thing wrong; and what a cube spec
says when it claims to be a training cube."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.core.cube_spec import load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.flower_app import is_flower_app, load_flower_app, read_flower_app
from medval.core.states import CubeKind
from medval.core.training_plan import TrainingPlan, undeclared_keys

APP = """
[project]
name = "fedapp"
version = "1.0.0"

[tool.medval.training]
final-model = "final_model.npz"

[tool.flwr.app]
publisher = "tests"

[tool.flwr.app.components]
serverapp = "fedapp.server_app:app"
clientapp = "fedapp.client_app:app"

[tool.flwr.app.config]
num-server-rounds = 3
local-epochs = 1
lr = 0.1

[tool.flwr.app.config.model]
width = 16
"""


def test_components_and_flattened_config_keys() -> None:
    app = read_flower_app(APP, "pyproject.toml")
    assert (app.name, app.serverapp, app.clientapp) == (
        "fedapp",
        "fedapp.server_app:app",
        "fedapp.client_app:app",
    )
    assert app.config == {"num-server-rounds": 3, "local-epochs": 1, "lr": 0.1, "model.width": 16}
    plan = TrainingPlan(rounds=2, min_sites=1)
    assert undeclared_keys(plan, app.declared_keys) == [
        "fraction-train",
        "min-nodes",
        "seed",
        "strategy",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool", "p.toml: not valid TOML (Expected ']' at the end of a table declaration (at "
         "end of document))"),
        ("[project]\nname = 'x'\n", "p.toml: not a Flower app: it has no [tool.flwr.app] table"),
        ("[tool.flwr.app]\npublisher = 'x'\n", "p.toml: [tool.flwr.app.components] is missing"),
        (
            "[tool.flwr.app.components]\nclientapp = 'a:b'\n",
            "p.toml: [tool.flwr.app.components] names no serverapp; a training cube needs a "
            "ServerApp",
        ),
        (
            "[tool.flwr.app.components]\nserverapp = 'a:b'\nclientapp = 'a/b.py'\n",
            "p.toml: clientapp must be 'module:attribute', not 'a/b.py'",
        ),
        (
            "[tool.flwr.app.components]\nserverapp = 'a:b'\nclientapp = 'a:c'\n"
            "[tool.flwr.app.config]\nlayers = [1, 2]\n",
            "p.toml: [tool.flwr.app.config] layers must be a number, a boolean or text "
            "(Flower's run-config values)",
        ),
    ],
)  # fmt: skip
def test_each_problem_is_one_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_flower_app(text, "p.toml")
    assert refused.value.message == message


def test_a_folder_must_hold_the_modules_its_components_name(tmp_path: Path) -> None:
    assert not is_flower_app(tmp_path)
    (tmp_path / "pyproject.toml").write_text(APP)
    assert is_flower_app(tmp_path)
    with pytest.raises(InvalidInput) as refused:
        load_flower_app(tmp_path)
    assert refused.value.message == (
        f"{tmp_path}/pyproject.toml: serverapp 'fedapp.server_app:app' names module "
        "fedapp/server_app.py, which is not in the app's folder"
    )
    (tmp_path / "fedapp").mkdir()
    (tmp_path / "fedapp" / "server_app.py").write_text("")
    (tmp_path / "fedapp" / "client_app").mkdir()
    (tmp_path / "fedapp" / "client_app" / "__init__.py").write_text("")
    assert load_flower_app(tmp_path).name == "fedapp"


def test_a_cube_spec_cannot_claim_to_be_a_training_cube(tmp_path: Path) -> None:
    (tmp_path / "medval-cube.yaml").write_text("name: x\nkind: training\ntasks: {}\n")
    with pytest.raises(InvalidInput) as refused:
        load_cube_spec(tmp_path)
    assert refused.value.message == (
        f"{tmp_path}/medval-cube.yaml: a training cube has no medval-cube.yaml: it is a "
        "Flower app folder (a pyproject.toml with [tool.flwr.app])"
    )
    with pytest.raises(InvalidInput):
        load_cube_spec(tmp_path, CubeKind.TRAINING)


def test_the_metrics_file_is_optional_and_stays_in_the_working_directory() -> None:
    assert read_flower_app(APP, "pyproject.toml").metrics is None
    declared = APP.replace(
        'final-model = "final_model.npz"',
        'final-model = "final_model.npz"\nmetrics = "out/training_metrics.json"',
    )
    assert read_flower_app(declared, "pyproject.toml").metrics == "out/training_metrics.json"
    outside = declared.replace("out/training_metrics.json", "../metrics.json")
    with pytest.raises(InvalidInput) as refused:
        read_flower_app(outside, "pyproject.toml")
    assert str(refused.value) == (
        "pyproject.toml: metrics '../metrics.json' must be a path inside the ServerApp's "
        "working directory"
    )
