"""The demo's federated training: its training cube, the model cube its final model becomes,
and the centrally trained baseline that federation is measured against.

- ``build_training_cube``: the Flower app of ``cubes/training_logistic`` with the vendor
  logistic model's own feature code copied in (``features.py``, so training and inference
  cannot drift apart) and the standardisation of the public development cohort
  (``standardization.json``, so every hospital and the final model share one scale).
- ``model_cube_from_final_model``: the ``cubes/model_federated`` template with the training's
  ``final_model.npz`` as its weights, byte for byte. It lives here, not in ``training/``,
  because what a final model holds is the training cube's own business: only the demo
  knows that its app's ``.npz`` plugs into this template.
- ``central_final_model``: the same model, optimiser and number of gradient steps on the
  pooled data of the hospitals, written in the same format (the baseline of the README).

Nothing here runs Flower; every number is deterministic.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from medval.core.errors import InvalidInput
from medval.demo.data import site_export
from medval.demo.train import (
    _IGNORE,
    _load_script,  # the cube helpers run in-process, as train.py runs them
    _templates,
    development_data,
)

TRAINING_CUBE = "rfs5-federated-training"
FEDERATED_MODEL = "rfs5-federated-logistic"
CENTRAL_MODEL = "rfs5-central-logistic"
APP_PACKAGE = "rfs5_training"
FINAL_MODEL = "final_model.npz"
CASES_FILE = "cases.csv"
LABELS_FILE = "labels.csv"
_FINAL_MODEL_KEYS = ("coefficients", "features", "intercept", "mean", "scale")


def _fresh(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} already exists; build into an empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)


MODEL_CUBE = "model_cube"


def build_training_cube(dest: Path) -> Path:
    """The training cube (a Flower app folder, ready for ``flwr run``) in ``dest/<name>``."""
    target = dest / TRAINING_CUBE
    _fresh(target)
    data = development_data()
    mean, scale = data.x.mean(axis=0), data.x.std(axis=0)
    with _templates() as templates:
        shutil.copytree(templates / "training_logistic", target, ignore=_IGNORE, dirs_exist_ok=True)
        shutil.copyfile(
            templates / "model_logistic" / "features.py", target / APP_PACKAGE / "features.py"
        )
    standardization = {
        "features": list(data.features),
        "mean": [float(v) for v in mean],
        "scale": [float(v) for v in scale],
        "source": f"public development cohort: {len(data.y)} cases",
    }
    text = json.dumps(standardization, indent=2) + "\n"
    (target / APP_PACKAGE / "standardization.json").write_text(text)
    # The model cube its final model becomes ([tool.medval.training] model-cube).
    with _templates() as templates:
        shutil.copytree(templates / "model_federated", target / MODEL_CUBE, ignore=_IGNORE)
        shutil.copyfile(
            templates / "model_logistic" / "features.py", target / MODEL_CUBE / "features.py"
        )
    return target


def write_prepared_site(name: str, folder: Path) -> Path:
    """A demo hospital's data as its preparation cube writes it (``cases.csv`` and
    ``labels.csv`` in ``folder``), prepared in-process with the cube's own code."""
    with _templates() as templates:
        prep = _load_script(templates / "breast_prep" / "harmonize.py")
        params = prep.read_parameters(templates / "breast_prep" / "parameters.yaml")
    export = site_export(name)
    cases, labels, _ = prep.harmonize(export.patients, export.outcomes, int(params["horizon_days"]))
    folder.mkdir(parents=True, exist_ok=True)
    cases.to_csv(folder / CASES_FILE, index=False)
    labels.to_csv(folder / LABELS_FILE, index=False)
    return folder


def write_pooled_sites(names: Sequence[str], folder: Path) -> Path:
    """The prepared data of several demo hospitals in one folder (for the simulation)."""
    parts = [write_prepared_site(name, folder / "sites" / name) for name in names]
    cases = pd.concat([pd.read_csv(p / CASES_FILE, dtype={"case_id": str}) for p in parts])
    labels = pd.concat([pd.read_csv(p / LABELS_FILE, dtype={"case_id": str}) for p in parts])
    cases.to_csv(folder / CASES_FILE, index=False)
    labels.to_csv(folder / LABELS_FILE, index=False)
    shutil.rmtree(folder / "sites")
    return folder


def _check_final_model(final_model: Path, features: tuple[str, ...]) -> None:
    """One line naming what is wrong with a final model, or nothing."""
    what = f"{final_model.name} is not a final model of this training cube"
    if final_model.is_symlink() or not final_model.is_file():
        raise InvalidInput(f"{final_model} is not a file")
    if not zipfile.is_zipfile(final_model):
        raise InvalidInput(f"{what}: it is not a .npz archive")
    try:
        with np.load(final_model, allow_pickle=False) as archive:
            if sorted(archive.files) != list(_FINAL_MODEL_KEYS):
                raise InvalidInput(f"{what}: it holds {', '.join(sorted(archive.files))}")
            arrays = {key: archive[key] for key in _FINAL_MODEL_KEYS}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise InvalidInput(f"{what} ({exc.__class__.__name__})") from None
    names = tuple(str(name) for name in arrays["features"].ravel())
    if not set(names) <= set(features) or len(set(names)) != len(names):
        raise InvalidInput(f"{what}: its features are not the model's")
    numbers = [arrays[key] for key in ("mean", "scale", "coefficients")]
    if any(a.shape != (len(names),) or a.dtype.kind != "f" for a in numbers):
        raise InvalidInput(f"{what}: mean, scale and coefficients need one number per feature")
    if arrays["intercept"].size != 1 or not all(
        np.all(np.isfinite(a)) for a in [*numbers, arrays["intercept"]]
    ):
        raise InvalidInput(f"{what}: its weights are not all finite numbers")
    if np.any(arrays["scale"] <= 0):
        raise InvalidInput(f"{what}: a scale is not positive")


def model_cube_from_final_model(final_model: Path, out: Path, name: str = FEDERATED_MODEL) -> Path:
    """A ready-to-register model cube in ``out`` (new or empty) that infers with the
    training's final model. The same final model always gives the same bytes."""
    with _templates() as templates:
        features = _load_script(templates / "model_logistic" / "features.py")
        _check_final_model(final_model, tuple(features.FEATURES))
        _fresh(out)
        shutil.copytree(templates / "model_federated", out, ignore=_IGNORE, dirs_exist_ok=True)
        shutil.copyfile(templates / "model_logistic" / "features.py", out / "features.py")
    shutil.copyfile(final_model, out / FINAL_MODEL)
    spec = out / "medval-cube.yaml"
    spec.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", spec.read_text(), count=1))
    return out


def _pooled(training_cube: Path, prepared: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Standardised predictors and outcome of every prepared folder, one after another."""
    package = training_cube / APP_PACKAGE
    features = _load_script(package / "features.py")
    scale = json.loads((package / "standardization.json").read_text())
    xs, ys = [], []
    for folder in prepared:
        cases = features.read_cases(folder)
        labels = pd.read_csv(folder / LABELS_FILE, dtype={"case_id": str})
        joined = cases.merge(labels, on="case_id", validate="one_to_one")
        joined = joined.sort_values("case_id", kind="mergesort")
        x = np.asarray(features.design_matrix(joined), dtype=np.float64)
        xs.append((x - np.asarray(scale["mean"])) / np.asarray(scale["scale"]))
        ys.append(joined["event_5y"].to_numpy(dtype=np.float64))
    return np.vstack(xs), np.concatenate(ys)


def central_final_model(
    training_cube: Path,
    prepared: Sequence[Path],
    out: Path,
    epochs: int,
    learning_rate: float = 0.5,
) -> Path:
    """The baseline: the training cube's own model and optimiser, ``epochs`` full-batch
    gradient steps on the pooled ``prepared`` folders, written as a final model to ``out``."""
    package = training_cube / APP_PACKAGE
    model = _load_script(package / "model.py")
    writer = _load_script(package / "final_model.py")
    scale = json.loads((package / "standardization.json").read_text())
    x, y = _pooled(training_cube, prepared)
    start = model.initial_weights(x.shape[1])
    weights = model.local_training(start, x, y, epochs, learning_rate)
    out.parent.mkdir(parents=True, exist_ok=True)
    path: Path = writer.write_final_model(
        out,
        weights,
        tuple(scale["features"]),
        np.asarray(scale["mean"]),
        np.asarray(scale["scale"]),
    )
    return path


def final_weights(final_model: Path) -> np.ndarray:
    """The intercept then the coefficients of a final model (to compare two trainings)."""
    with np.load(final_model, allow_pickle=False) as archive:
        return np.concatenate([archive["intercept"].ravel(), archive["coefficients"]])
