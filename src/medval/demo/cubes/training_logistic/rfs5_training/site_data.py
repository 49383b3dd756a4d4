"""A site's prepared data as the model sees it: standardised predictors and the outcome.

Where the data is comes from the SuperNode's node config:

``data-path``
    the site's prepared dataset, as the benchmark's preparation cube wrote it: either one
    folder holding ``cases.csv`` and ``labels.csv``, or medval's layout of a prepared
    dataset, ``data/cases.csv`` and ``labels/labels.csv`` under it. ``labels-path`` (a
    folder holding ``labels.csv``) may name the labels' folder apart.

On Flower's simulation engine a virtual node has no data of its own: its node config holds
``partition-id`` and ``num-partitions``, and it takes its share of the one prepared dataset
named by the run config's ``simulation-data-path`` (cases dealt round-robin after a
shuffle fixed by the run's seed).

The predictors are the vendor logistic model's own (``features.py``, copied in when the cube
is built) on the scale of the public development cohort (``standardization.json``, written
when the cube is built), so every site and the final model share one scale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rfs5_training.features import FEATURES, InputError, design_matrix, read_cases
from rfs5_training.model import Matrix, Vector

LABELS_FILE = "labels.csv"
LABEL_COLUMN = "event_5y"
STANDARDIZATION = Path(__file__).resolve().parent / "standardization.json"


@dataclass(frozen=True)
class Standardization:
    features: tuple[str, ...]
    mean: Vector
    scale: Vector


@dataclass(frozen=True)
class SiteData:
    x: Matrix
    y: Vector


def standardization() -> Standardization:
    document = json.loads(STANDARDIZATION.read_text())
    if tuple(document["features"]) != tuple(FEATURES):
        raise InputError("standardization.json does not match the features of features.py")
    return Standardization(
        tuple(document["features"]),
        np.asarray(document["mean"], dtype=np.float64),
        np.asarray(document["scale"], dtype=np.float64),
    )


def _folders(node_config: dict[str, object]) -> tuple[Path, Path]:
    root = Path(str(node_config["data-path"]))
    if (root / "cases.csv").is_file():
        cases = root
    elif (root / "data" / "cases.csv").is_file():
        cases = root / "data"
    else:
        raise InputError(f"no cases.csv in {root} nor in {root / 'data'}")
    if "labels-path" in node_config:
        return cases, Path(str(node_config["labels-path"]))
    for labels in (cases, root / "labels"):
        if (labels / LABELS_FILE).is_file():
            return cases, labels
    raise InputError(f"no {LABELS_FILE} beside cases.csv nor in {root / 'labels'}")


def read_prepared(cases_folder: Path, labels_folder: Path) -> SiteData:
    """Predictors and outcome of a prepared dataset, standardised, in case_id order."""
    cases = read_cases(cases_folder)
    path = labels_folder / LABELS_FILE
    if not path.is_file():
        raise InputError(f"{LABELS_FILE} not found in {labels_folder}")
    labels = pd.read_csv(path, dtype={"case_id": str})
    if LABEL_COLUMN not in labels or "case_id" not in labels:
        raise InputError(f"{LABELS_FILE} needs the columns case_id and {LABEL_COLUMN}")
    joined = cases.merge(labels[["case_id", LABEL_COLUMN]], on="case_id", how="inner")
    if len(joined) != len(cases) or len(joined) != len(labels):
        raise InputError("the case ids of cases.csv and labels.csv do not match")
    joined = joined.sort_values("case_id", kind="mergesort").reset_index(drop=True)
    y = pd.to_numeric(joined[LABEL_COLUMN], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isin(y, (0.0, 1.0))):
        raise InputError(f"every {LABEL_COLUMN} must be 0 or 1")
    scale = standardization()
    x = (design_matrix(joined) - scale.mean) / scale.scale
    return SiteData(np.asarray(x, dtype=np.float64), y)


def partition(data: SiteData, partition_id: int, num_partitions: int, seed: int) -> SiteData:
    """The ``partition_id``-th of ``num_partitions`` shares of ``data``."""
    if not 0 <= partition_id < num_partitions:
        raise InputError(f"partition-id {partition_id} is not in [0, {num_partitions})")
    order = np.random.default_rng(seed).permutation(len(data.y))
    rows = np.sort(order[partition_id::num_partitions])
    return SiteData(data.x[rows], data.y[rows])


def site_data(node_config: dict[str, object], run_config: dict[str, object]) -> SiteData:
    """This node's data (see the module's docstring for where it comes from)."""
    if "data-path" in node_config:
        return read_prepared(*_folders(node_config))
    pooled = str(run_config.get("simulation-data-path", ""))
    if "partition-id" in node_config and pooled:
        data = read_prepared(*_folders({"data-path": pooled}))
        return partition(
            data,
            int(str(node_config["partition-id"])),
            int(str(node_config["num-partitions"])),
            int(str(run_config.get("seed", 0))),
        )
    raise InputError(
        "this node has no data: give the SuperNode --node-config 'data-path=\"FOLDER\"' "
        "(or, on the simulation engine, the run config simulation-data-path)"
    )
