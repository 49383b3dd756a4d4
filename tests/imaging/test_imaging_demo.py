"""``medval demo --imaging`` on two small sites (ten 2-slice slabs each: Colin27 as NIfTI,
MNI152 as DICOM series), every step through the CLI in the sandbox, with both models: the
committee's threshold model and a vendor's learned one (the PyTorch segmenter cube). Each
site's Dice of each model checked against an independent computation here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from rich.console import Console
from tests.imaging.cube_scripts import run_script

from medval.demo import imaging_data
from medval.demo.imaging_cubes import LEARNED_MODEL, THRESHOLD_MODEL
from medval.demo.play_imaging import run_imaging_demo

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


def _local_results(home: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "medval", "results", "list", "--local", "--format", "json"],
        env={**os.environ, "MEDVAL_HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
    )
    results: list[dict[str, object]] = json.loads(done.stdout)
    return results


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def _site_dices(predictions: Path, raw_labels: Path, prepared_labels: Path) -> list[float]:
    """Each case's Dice of the masks in ``predictions`` against the site's own labels."""
    dices = []
    for case in sorted(raw_labels.glob("*.nii.gz")):
        truth = np.asarray(nib.load(case).dataobj).astype(bool)
        assert np.array_equal(
            truth, np.asarray(nib.load(prepared_labels / case.name).dataobj).astype(bool)
        )
        guess = np.asarray(nib.load(predictions / case.name).dataobj).astype(bool)
        dices.append(_dice(guess, truth))
    return dices


@pytest.mark.timeout(1500)
def test_the_imaging_demo_plays_two_small_sites_with_both_models(
    tmp_path: Path, wheels: Path, machine_environments: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run's environments folder, as a machine's: the demo's clients use it, not one
    # of the demo's own, since it is set (and the segmenter tests' PyTorch is built once).
    monkeypatch.setenv("MEDVAL_ENVIRONMENTS", str(machine_environments))
    sites = {}
    for name in imaging_data.SITES:
        imaging_data.write_site(name, tmp_path / "sites" / name, wheels, cases=10, slices=2)
        sites[name] = tmp_path / "sites" / name
    workdir = tmp_path / "run"
    with (tmp_path / "demo.log").open("w") as log:
        console = Console(file=log, width=160)
        run_imaging_demo(workdir, console, wheels, "local", sites=sites)
    assert (workdir / "report" / "report.html").is_file()
    shown = (tmp_path / "demo.log").read_text()
    # A segmentation's result has no events: the hospital's review shows cases only.
    assert shown.count("(local, not uploaded): 10 cases\n") == 4
    assert "events" not in shown
    leaderboard = shown.split("Step 5: the leaderboard")[1].split("Step 6")[0]
    assert THRESHOLD_MODEL in leaderboard
    assert LEARNED_MODEL in leaderboard
    # Every client built its cubes' environments in the machine's folder, none its own.
    assert f"built once for this machine, in {machine_environments}\n" in shown
    clients = sorted((workdir / "clients").iterdir())
    assert len(clients) == 5 and not [c for c in clients if (c / "environments").exists()]
    built = [e for e in machine_environments.iterdir() if (e / "medval-environment.json").is_file()]
    assert len(built) >= 3  # preparation, the models' and the evaluator's (and others' tests')

    for name in imaging_data.SITES:
        home = workdir / "clients" / f"hospital-{name}"
        results = {result["model"]: result for result in _local_results(home)}
        assert sorted(results) == sorted([THRESHOLD_MODEL, LEARNED_MODEL])
        prepared = home / "datasets" / name
        statistics = json.loads((prepared / "statistics" / "statistics.json").read_text())
        source = "dicom" if name == imaging_data.MNI152 else "nifti"
        assert statistics["values"]["source_format"] == {source: 10}
        # The reference model's masks, made again outside the sandbox; the learned
        # model's, as the run kept them at the site; Dice by numpy either way.
        predictions = {THRESHOLD_MODEL: tmp_path / "predictions" / name}
        predictions[THRESHOLD_MODEL].mkdir(parents=True)
        done = run_script(
            "imaging_threshold",
            "infer.py",
            data_path=prepared / "data",
            output_path=predictions[THRESHOLD_MODEL],
        )
        assert done.returncode == 0, done.stderr
        learned = results[LEARNED_MODEL]
        key = f"b{learned['benchmark_id']}-m{learned['model_id']}-d{learned['dataset_id']}"
        predictions[LEARNED_MODEL] = home / "results" / key / "predictions"
        for model, result in results.items():
            document = result["document"]
            assert isinstance(document, dict)
            assert (document["n_cases"], document["n_positive"]) == (10, None)
            assert set(document["metrics"]) == {"dice", "hd95", "surface_dice"}
            dices = _site_dices(predictions[model], sites[name] / "labels", prepared / "labels")
            assert len(dices) == 10
            value = document["metrics"]["dice"]["value"]
            assert value == pytest.approx(np.mean(dices), abs=1e-4), (name, model)
