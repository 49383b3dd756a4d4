"""The demo's training cube without Flower running: its declared configuration, its numpy
model against scikit-learn, its settings, and the model cube its final model becomes."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from medval.core.errors import InvalidInput
from medval.core.hashing import tree_hash
from medval.core.training_plan import DP_KEYS, PLAN_KEYS, SECAGG_KEYS, STRATEGY_SETTINGS
from medval.demo.federated import (
    APP_PACKAGE,
    build_training_cube,
    central_final_model,
    final_weights,
    model_cube_from_final_model,
    write_prepared_site,
)

SITES = ("rotterdam-1986-87", "gbsg")


# Two sites here, not the three of conftest's `prepared`.
@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("prepared")
    return [write_prepared_site(name, root / name) for name in SITES]


def _script(cube: Path, name: str) -> types.ModuleType:
    """One of the app's modules, run in-process without writing bytecode into the cube
    (registered under its own name so that its dataclasses resolve)."""
    path = cube / APP_PACKAGE / f"{name}.py"
    module = types.ModuleType(f"rfs5_test_{name}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def _pyproject(cube: Path) -> dict[str, object]:
    return tomllib.loads((cube / "pyproject.toml").read_text())


def test_the_app_declares_every_key_a_plan_may_set_with_privacy_off(cube: Path) -> None:
    document = _pyproject(cube)
    tool = document["tool"]
    assert isinstance(tool, dict)
    config = tool["flwr"]["app"]["config"]
    settings = {key for keys in STRATEGY_SETTINGS.values() for key in keys}
    assert PLAN_KEYS | settings | set(DP_KEYS) | set(SECAGG_KEYS) <= set(config)
    assert [config[key] for key in (*DP_KEYS, *SECAGG_KEYS)] == [0.0, 0.0, 1e-5, 0, 0]
    assert tool["flwr"]["app"]["components"] == {
        "serverapp": "rfs5_training.server_app:app",
        "clientapp": "rfs5_training.client_app:app",
    }
    assert "federations" not in tool["flwr"]
    assert tool["medval"]["training"] == {
        "final-model": "final_model.npz",
        "metrics": "training_metrics.json",
        "model-cube": "model_cube",
    }


def test_the_app_knows_the_strategies_and_settings_the_plan_knows(cube: Path) -> None:
    app = _script(cube, "settings")
    assert {name: set(keys) for name, keys in app.STRATEGY_SETTINGS.items()} == {
        strategy.value: set(keys) for strategy, keys in STRATEGY_SETTINGS.items()
    }


def test_settings_refuse_what_the_app_cannot_do(cube: Path) -> None:
    app = _script(cube, "settings")
    with pytest.raises(ValueError) as unknown:
        app.run_settings({"strategy": "FedSgd"})
    assert str(unknown.value).startswith("run config strategy: unknown strategy 'FedSgd' (one of")
    with pytest.raises(ValueError) as robust:
        app.run_settings({"strategy": "FedMedian", "min-nodes": 3, "secagg-num-shares": 3})
    assert "secure aggregation hides each site's update, which FedMedian needs" in str(robust.value)
    with pytest.raises(ValueError, match=r"^run config dp-clipping-norm: must be > 0"):
        app.run_settings({"dp-noise-multiplier": 1.0, "dp-clipping-norm": 0.0})
    with pytest.raises(ValueError, match=r"^run config local-epochs: 0 is not a whole number"):
        app.run_settings({"local-epochs": 0})


def test_settings_pass_only_the_strategys_own_and_leave_zero_eta_to_flower(cube: Path) -> None:
    app = _script(cube, "settings")
    config = tomllib.loads((cube / "pyproject.toml").read_text())["tool"]["flwr"]["app"]["config"]
    yogi = app.run_settings({**config, "strategy": "FedYogi"})
    assert yogi.strategy_settings == {"beta-1": 0.9, "beta-2": 0.99, "tau": 0.001}
    adam = app.run_settings({**config, "strategy": "FedAdam", "eta": 0.05})
    assert adam.strategy_settings["eta"] == 0.05
    prox = app.run_settings({**config, "strategy": "FedProx", "proximal-mu": 0.1})
    assert (prox.strategy_settings, prox.proximal_mu) == ({"proximal-mu": 0.1}, 0.1)
    assert not prox.differential_privacy and not prox.secure_aggregation


def test_the_numpy_model_matches_scikit_learn(cube: Path) -> None:
    model = _script(cube, "model")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 4))
    y = (rng.random(300) < 0.4).astype(float)
    w = rng.normal(size=5)
    p = model.probabilities(w, x)
    assert model.log_loss(w, x, y) == pytest.approx(log_loss(y, p), abs=1e-12)
    tied = np.round(p, 1)  # many ties: each counts one half
    assert model.auroc(y, tied) == pytest.approx(roc_auc_score(y, tied), abs=1e-12)
    assert np.isnan(model.auroc(np.ones(3), np.array([0.1, 0.2, 0.3])))
    step = w - 0.5 * model.gradient(w, x, y)
    assert np.array_equal(model.local_training(w, x, y, 1, 0.5), step)
    # The proximal term pulls toward the start: with a huge mu, barely a move.
    far = model.local_training(w, x, y, 20, 0.01)
    near = model.local_training(w, x, y, 20, 0.01, proximal_mu=50.0)
    assert np.linalg.norm(near - w) < np.linalg.norm(far - w) / 5


def test_builds_are_byte_identical(cube: Path, tmp_path: Path) -> None:
    again = build_training_cube(tmp_path)
    assert tree_hash(again) == tree_hash(cube)
    with pytest.raises(FileExistsError):
        build_training_cube(tmp_path)


def test_a_final_model_becomes_a_model_cube_that_predicts_with_it(
    cube: Path, prepared: list[Path], tmp_path: Path
) -> None:
    final = central_final_model(cube, prepared, tmp_path / "final_model.npz", epochs=30)
    first = model_cube_from_final_model(final, tmp_path / "one")
    second = model_cube_from_final_model(final, tmp_path / "two")
    assert tree_hash(first) == tree_hash(second)
    assert (first / "final_model.npz").read_bytes() == final.read_bytes()
    assert "name: rfs5-federated-logistic" in (first / "medval-cube.yaml").read_text()

    out = tmp_path / "predictions"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "infer.py", f"--data_path={prepared[1]}", f"--output_path={out}"],
        cwd=first,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    predictions = pd.read_csv(out / "predictions.csv", dtype={"case_id": str})
    features = _script(cube, "features")
    cases = features.read_cases(prepared[1])
    with np.load(final) as archive:
        z = (features.design_matrix(cases) - archive["mean"]) / archive["scale"]
    w = final_weights(final)
    expected = 1 / (1 + np.exp(-(w[0] + z @ w[1:])))
    assert list(predictions["case_id"]) == list(cases["case_id"])
    assert np.allclose(predictions["probability"], expected, atol=1e-6)


def test_a_file_that_is_no_final_model_is_one_line(tmp_path: Path) -> None:
    text = tmp_path / "final_model.npz"
    text.write_text("not a zip")
    with pytest.raises(InvalidInput) as error:
        model_cube_from_final_model(text, tmp_path / "cube")
    assert str(error.value) == (
        "final_model.npz is not a final model of this training cube: it is not a .npz archive"
    )
    partial = tmp_path / "partial.npz"
    np.savez(partial, intercept=np.array(0.0), coefficients=np.zeros(9))
    with pytest.raises(InvalidInput) as missing:
        model_cube_from_final_model(partial, tmp_path / "cube")
    assert str(missing.value) == (
        "partial.npz is not a final model of this training cube: it holds coefficients, intercept"
    )
    assert not (tmp_path / "cube").exists()


def test_non_finite_weights_are_refused(cube: Path, prepared: list[Path], tmp_path: Path) -> None:
    final = central_final_model(cube, prepared, tmp_path / "good.npz", epochs=1)
    with np.load(final) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["coefficients"][2] = np.inf
    writer = _script(cube, "final_model")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(writer.npz_bytes(arrays))
    with pytest.raises(InvalidInput) as error:
        model_cube_from_final_model(bad, tmp_path / "cube")
    assert str(error.value) == (
        "bad.npz is not a final model of this training cube: its weights are not all finite numbers"
    )


@pytest.fixture
def app_package(cube: Path) -> Iterator[Callable[[str], types.ModuleType]]:
    """Import the app's own modules as Flower would (its folder on the path), then forget
    them; no bytecode is written into the cube."""
    sys.path.insert(0, str(cube))
    was = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield lambda name: importlib.import_module(f"{APP_PACKAGE}.{name}")
    finally:
        sys.dont_write_bytecode = was
        sys.path.remove(str(cube))
        for name in [m for m in sys.modules if m.split(".")[0] == APP_PACKAGE]:
            del sys.modules[name]


def test_every_strategy_is_flowers_own_with_the_plans_settings(
    cube: Path, app_package: Callable[[str], types.ModuleType]
) -> None:
    import flwr.server.strategy as legacy
    from flwr.common import ndarrays_to_parameters
    from flwr.serverapp import strategy as message_api

    settings, strategies = app_package("settings"), app_package("strategies")
    declared = _pyproject(cube)["tool"]["flwr"]["app"]["config"]  # type: ignore[index]
    for name in settings.STRATEGY_SETTINGS:
        plain = settings.run_settings({**declared, "strategy": name, "min-nodes": 4})
        strategy = strategies.message_api_strategy(plain)
        assert type(strategy) is getattr(message_api, name)
        assert (strategy.min_available_nodes, strategy.weighted_by_key) == (4, "num-examples")
        private = settings.run_settings(
            {**declared, "strategy": name, "dp-noise-multiplier": 1.0, "dp-clipping-norm": 2.0}
        )
        wrapped = strategies.message_api_strategy(private)
        assert type(wrapped) is message_api.DifferentialPrivacyClientSideFixedClipping
        assert type(wrapped.strategy) is getattr(message_api, name)
        assert wrapped.strategy.weighted_by_key == "unit-weight"
        if name in settings.MEAN_STRATEGIES:
            start = ndarrays_to_parameters([np.zeros(10)])
            assert type(strategies.legacy_strategy(plain, start)) is getattr(legacy, name)
    yogi = settings.run_settings({**declared, "strategy": "FedYogi"})
    assert strategies.message_api_strategy(yogi).eta == 1e-2  # Flower's own default
    prox = settings.run_settings({**declared, "strategy": "FedProx", "proximal-mu": 0.3})
    assert strategies.message_api_strategy(prox).proximal_mu == 0.3
