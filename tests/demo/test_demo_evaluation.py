"""The evaluator and the trained model cubes, on the prepared sites."""

from __future__ import annotations

import hashlib
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score
from tests.demo.conftest import DEMO, MODELS, Federation, folder, run_task

from medval.core.cube_spec import load_cube_spec
from medval.core.declaration_files import read_declarations
from medval.core.declared_results import declared_document
from medval.core.documents import ResultDocument
from medval.core.states import CubeKind
from medval.demo.data import SITES
from medval.demo.train import (
    CUBES,
    EVALUATOR,
    REFERENCE_MODEL,
    build_model_cubes,
    copy_declarations,
)


def _joined(federation: Federation, site: str, model: str) -> tuple[np.ndarray, np.ndarray]:
    s = federation.sites[site]
    labels = pd.read_csv(s.labels / "labels.csv", dtype={"case_id": str})
    predictions = pd.read_csv(s.predictions[model] / "predictions.csv", dtype={"case_id": str})
    joined = labels.merge(predictions, on="case_id", validate="one_to_one")
    assert len(joined) == len(labels) == len(predictions)
    return joined["event_5y"].to_numpy(), joined["probability"].to_numpy()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("site", [*SITES, DEMO])
def test_results_validate_and_match_independent_computations(
    federation: Federation, site: str, model: str
) -> None:
    document = ResultDocument.model_validate(federation.sites[site].results[model])
    y, p = _joined(federation, site, model)
    assert (document.n_cases, document.n_positive) == (len(y), int(y.sum()))
    m = document.metrics
    assert set(m) == {
        "auroc",
        "sensitivity",
        "specificity",
        "brier",
        "calibration_slope",
        "calibration_intercept",
        "oe_ratio",
    }
    assert m["auroc"].value == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m["brier"].value == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert m["sensitivity"].value == pytest.approx(np.mean(p[y == 1] >= 0.3))
    assert m["specificity"].value == pytest.approx(np.mean(p[y == 0] < 0.3))
    assert m["oe_ratio"].value == pytest.approx(y.sum() / p.sum())
    for metric in m.values():
        assert metric.lower is not None and metric.upper is not None
        assert metric.lower <= metric.value <= metric.upper


@pytest.mark.parametrize("site", SITES)
def test_each_age_band_is_evaluated_on_its_own_cases(federation: Federation, site: str) -> None:
    s = federation.sites[site]
    labels = pd.read_csv(s.labels / "labels.csv", dtype={"case_id": str})
    cases = pd.read_csv(s.cases / "cases.csv", dtype={"case_id": str})
    ages = labels.merge(cases, on="case_id", validate="one_to_one")["age"]
    expected = np.select([ages < 50, ages < 70], ["<50", "50-69"], "70+")
    assert (labels["age_band"].to_numpy() == expected).all()  # the prepared band is the age's
    document = ResultDocument.model_validate(s.results[REFERENCE_MODEL])
    y, p = _joined(federation, site, REFERENCE_MODEL)
    bands = labels["age_band"].to_numpy()
    assert document.subgroups is not None
    levels = document.subgroups["age_band"]
    assert set(levels) == set(bands)
    assert sum(level.n_cases for level in levels.values()) == document.n_cases
    for name, level in levels.items():
        mask = bands == name
        assert (level.n_cases, level.n_positive) == (int(mask.sum()), int(y[mask].sum()))
        if 0 < y[mask].sum() < mask.sum():
            auroc = roc_auc_score(y[mask], p[mask])
            assert level.metrics["auroc"].value == pytest.approx(auroc, abs=1e-12)
        assert level.metrics["brier"].value == pytest.approx(
            brier_score_loss(y[mask], p[mask]), abs=1e-12
        )


def test_delong_standard_error_matches_the_pairwise_definition(federation: Federation) -> None:
    y, p = _joined(federation, DEMO, REFERENCE_MODEL)
    pos, neg = p[y == 1], p[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    se = math.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))
    auc = psi.mean()
    half = 1.959963984540054 * se / (auc * (1 - auc))
    lower = 1 / (1 + math.exp(-(math.log(auc / (1 - auc)) - half)))
    auroc = federation.sites[DEMO].results[REFERENCE_MODEL]["metrics"]["auroc"]
    assert auroc["lower"] == pytest.approx(lower, abs=1e-9)


def test_models_discriminate_plausibly_on_every_hospital(federation: Federation) -> None:
    for site in SITES:
        for model in MODELS:
            auroc = federation.sites[site].results[model]["metrics"]["auroc"]["value"]
            print(f"{site:18s} {model:24s} AUROC {auroc:.3f}")
            assert 0.6 <= auroc <= 0.85, (site, model, auroc)


def test_gbsg_shift_shows_as_miscalibration(federation: Federation) -> None:
    # GBSG is node-positive only with short follow-up: more events than the models expect.
    for model in MODELS:
        metrics = federation.sites["gbsg"].results[model]["metrics"]
        assert metrics["oe_ratio"]["lower"] > 1.0
        assert metrics["calibration_intercept"]["lower"] > 0.0


def test_evaluator_refuses_mismatched_ids(federation: Federation, tmp_path: Path) -> None:
    site = federation.sites["gbsg"]
    predictions = pd.read_csv(site.predictions[REFERENCE_MODEL] / "predictions.csv")
    folder(tmp_path / "p")
    predictions.iloc[1:].to_csv(tmp_path / "p" / "predictions.csv", index=False)
    out = folder(tmp_path / "out")
    done = run_task(
        federation.cubes[EVALUATOR],
        "evaluate.py",
        predictions=tmp_path / "p",
        labels=site.labels,
        output_path=out,
    )
    assert done.returncode != 0
    assert done.stderr.strip() == (
        "evaluate: error: case ids of predictions and labels do not match: "
        "0 prediction(s) without a label, 1 label(s) without a prediction"
    )
    assert not (out / "results.json").exists()


def test_evaluator_refuses_bad_probabilities_and_paths(
    federation: Federation, tmp_path: Path
) -> None:
    site = federation.sites[DEMO]
    predictions = pd.read_csv(site.predictions[REFERENCE_MODEL] / "predictions.csv")
    predictions.loc[0, "probability"] = 1.5
    folder(tmp_path / "p")
    predictions.to_csv(tmp_path / "p" / "predictions.csv", index=False)
    out = folder(tmp_path / "out")
    bad = run_task(
        federation.cubes[EVALUATOR],
        "evaluate.py",
        predictions=tmp_path / "p",
        labels=site.labels,
        output_path=out,
    )
    assert bad.returncode != 0 and "between 0 and 1" in bad.stderr
    missing = run_task(
        federation.cubes[EVALUATOR],
        "evaluate.py",
        predictions=tmp_path / "nowhere",
        labels=site.labels,
        output_path=out,
    )
    assert missing.returncode != 0
    assert missing.stderr.strip() == f"evaluate: error: {tmp_path / 'nowhere'} is not a directory"


def test_model_refuses_missing_input(federation: Federation, tmp_path: Path) -> None:
    done = run_task(
        federation.cubes[REFERENCE_MODEL],
        "infer.py",
        data_path=tmp_path,
        output_path=folder(tmp_path / "out"),
    )
    assert done.returncode != 0
    assert done.stderr.strip() == f"infer: error: cases.csv not found in {tmp_path}"


def _digest(folder_: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder_.rglob("*")):
        h.update(str(path.relative_to(folder_)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def test_training_is_deterministic(federation: Federation, tmp_path: Path) -> None:
    again = build_model_cubes(tmp_path)
    for name, path in again.items():
        assert _digest(path) == _digest(federation.cubes[name]), name
        assert "__pycache__" not in {p.name for p in path.rglob("*")}


def test_every_cube_folder_follows_the_cube_spec(federation: Federation) -> None:
    assert set(federation.cubes) == set(CUBES)
    kinds = {load_cube_spec(path).kind for path in federation.cubes.values()}
    assert kinds == {CubeKind.DATA_PREPARATOR, CubeKind.EVALUATOR, CubeKind.MODEL}
    for name, path in federation.cubes.items():
        assert load_cube_spec(path).name == name


def test_cube_templates_ship_as_package_data() -> None:
    cubes = resources.files("medval.demo") / "cubes"
    shipped = {entry.name for entry in cubes.iterdir() if entry.is_dir()}
    assert {"breast_prep", "evaluator", "model_logistic", "model_boosting"} <= shipped
    logistic = (cubes / "model_logistic" / "features.py").read_text()
    assert logistic == (cubes / "model_boosting" / "features.py").read_text()


@pytest.mark.parametrize("site", [*SITES, DEMO])
def test_the_declarations_file_matches_what_the_evaluator_reports(
    federation: Federation, site: str, tmp_path: Path
) -> None:
    """The demo benchmark registers with cubes/declarations.yaml: every metric its
    evaluator reports is declared (none dropped), and every declared one is reported
    on its scale, at every site and on the demo data."""
    declared = read_declarations(copy_declarations(tmp_path)).metrics
    document = ResultDocument.model_validate(federation.sites[site].results[REFERENCE_MODEL])
    checked = declared_document(declared, document, site)
    assert checked.undeclared == []
    assert [m.name for m in declared] == list(checked.document.metrics)
    labels = {m.name: m.label for m in declared}
    assert (labels["auroc"], labels["oe_ratio"]) == ("AUROC", "O:E ratio")
    assert [m.name for m in declared if m.primary] == ["auroc"]
