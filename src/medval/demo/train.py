"""Every cube folder of the demo benchmark, built from the templates shipped in the package.

The preparation and evaluator cubes are plain copies. The three model cubes are trained
here, on the public development cohort (Rotterdam, surgery up to 1985), prepared with the
benchmark's own preparation code and encoded with the model templates' own feature code,
so training and inference cannot drift apart:

- ``REFERENCE_MODEL``: the committee's clinical logistic model on nodes, size and grade;
- ``LOGISTIC_MODEL``: a vendor's logistic regression on every covariate;
- ``BOOSTING_MODEL``: a vendor's histogram gradient-boosting classifier.

Weights are not committed: they are written into each copy (JSON for the logistic models,
a pickle for boosting that is unpickled only inside the sandbox). Fixed seeds, no
randomness left: the same environment builds byte-identical folders, so cube hashes are
stable.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from medval.demo.data import DEVELOPMENT, site_export

PREPARATOR = "breast-rfs5-prep"
EVALUATOR = "breast-rfs5-evaluator"
REFERENCE_MODEL = "rfs5-reference-logistic"
LOGISTIC_MODEL = "rfs5-vendor-logistic"
BOOSTING_MODEL = "rfs5-vendor-boosting"

CUBES: dict[str, str] = {
    PREPARATOR: "Harmonises a hospital export; 5-year recurrence-free survival outcome",
    EVALUATOR: "AUROC, sensitivity/specificity, Brier, calibration, O/E with 95% intervals",
    REFERENCE_MODEL: "Reference: clinical logistic model on nodes, tumour size and grade",
    LOGISTIC_MODEL: "Vendor: logistic regression on every covariate",
    BOOSTING_MODEL: "Vendor: histogram gradient boosting on every covariate",
}
_TEMPLATES = {
    PREPARATOR: "breast_prep",
    EVALUATOR: "evaluator",
    REFERENCE_MODEL: "model_logistic",
    LOGISTIC_MODEL: "model_logistic",
    BOOSTING_MODEL: "model_boosting",
}
REFERENCE_FEATURES = ("size_20_50", "size_over_50", "grade_3", "log_nodes")
SEED = 20240611
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass(frozen=True)
class TrainingData:
    x: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]


@contextmanager
def _templates() -> Iterator[Path]:
    with resources.as_file(resources.files("medval.demo") / "cubes") as path:
        yield Path(path)


def _load_script(path: Path) -> types.ModuleType:
    """Execute a cube's helper module in-process without writing bytecode into the cube."""
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def development_data() -> TrainingData:
    """The development cohort through the benchmark's own preparation and features code."""
    with _templates() as templates:
        prep = _load_script(templates / "breast_prep" / "harmonize.py")
        params = prep.read_parameters(templates / "breast_prep" / "parameters.yaml")
        features = _load_script(templates / "model_logistic" / "features.py")
    export = site_export(DEVELOPMENT)
    cases, labels, _ = prep.harmonize(export.patients, export.outcomes, int(params["horizon_days"]))
    x = np.asarray(features.design_matrix(cases), dtype=float)
    y = labels["event_5y"].to_numpy(dtype=int)
    return TrainingData(x=x, y=y, features=tuple(features.FEATURES))


def logistic_weights(data: TrainingData, features: tuple[str, ...]) -> dict[str, Any]:
    """Fit a logistic model on standardised ``features``; its weights as JSON-ready data.

    C=1e4 on standardised predictors is, in effect, unpenalised maximum likelihood.
    """
    index = [data.features.index(name) for name in features]
    x = data.x[:, index]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    model = LogisticRegression(C=1e4, max_iter=10_000, tol=1e-10)
    model.fit((x - mean) / scale, data.y)
    return {
        "features": list(features),
        "mean": [round(float(v), 10) for v in mean],
        "scale": [round(float(v), 10) for v in scale],
        "coefficients": [round(float(v), 10) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 10),
        "trained_on": f"{DEVELOPMENT}: {len(data.y)} cases, {int(data.y.sum())} events",
    }


def boosting_model(data: TrainingData) -> HistGradientBoostingClassifier:
    model = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=150,
        max_leaf_nodes=8,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=SEED,
    )
    model.fit(data.x, data.y)
    return model


DECLARATIONS = "declarations.yaml"


def copy_declarations(dest: Path) -> Path:
    """The demo benchmark's declarations file (its metrics), copied into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with _templates() as templates:
        return Path(shutil.copy(templates / DECLARATIONS, dest / DECLARATIONS))


def _copy_template(name: str, dest: Path) -> Path:
    if name not in _TEMPLATES:
        raise ValueError(f"unknown cube {name!r}; known cubes: {', '.join(_TEMPLATES)}")
    target = dest / name
    if target.exists():
        raise FileExistsError(f"{target} already exists; build into an empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    with _templates() as templates:
        shutil.copytree(templates / _TEMPLATES[name], target, ignore=_IGNORE)
    spec = target / "medval-cube.yaml"
    spec.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", spec.read_text(), count=1))
    return target


def _write_model(name: str, dest: Path, data: TrainingData) -> Path:
    target = _copy_template(name, dest)
    if name == BOOSTING_MODEL:
        (target / "model.pkl").write_bytes(pickle.dumps(boosting_model(data), protocol=4))
    else:
        features = REFERENCE_FEATURES if name == REFERENCE_MODEL else data.features
        weights = logistic_weights(data, features)
        (target / "weights.json").write_text(json.dumps(weights, indent=2) + "\n")
    return target


def build_cube(name: str, dest: Path) -> Path:
    """Build one cube (see ``CUBES``) into ``dest/name``, training it if it is a model."""
    if name in (PREPARATOR, EVALUATOR):
        return _copy_template(name, dest)
    if name not in _TEMPLATES:
        raise ValueError(f"unknown cube {name!r}; known cubes: {', '.join(_TEMPLATES)}")
    return _write_model(name, dest, development_data())


def build_model_cubes(dest: Path) -> dict[str, Path]:
    """Train the three models once and write each model cube into ``dest/<name>``."""
    data = development_data()
    return {
        name: _write_model(name, dest, data)
        for name in (REFERENCE_MODEL, LOGISTIC_MODEL, BOOSTING_MODEL)
    }


def build_all_cubes(dest: Path) -> dict[str, Path]:
    """Every cube of the demo benchmark, by name: preparation, evaluator and three models."""
    cubes = {name: _copy_template(name, dest) for name in (PREPARATOR, EVALUATOR)}
    return cubes | build_model_cubes(dest)
