"""Predictors derived from a prepared ``cases.csv``, shared by training and inference.

The development cohort (Rotterdam up to 1985) has no grade 1 tumours, so grade enters as
high grade (3) against 1-2. Counts and receptor levels are skewed: they enter as log(1 + x).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CASES_FILE = "cases.csv"
PREDICTIONS_FILE = "predictions.csv"
FEATURES = (
    "age",
    "postmenopausal",
    "size_20_50",
    "size_over_50",
    "grade_3",
    "log_nodes",
    "log_pgr",
    "log_er",
    "hormonal_therapy",
)
_CASE_COLUMNS = (
    "case_id",
    "age",
    "postmenopausal",
    "size_category",
    "grade",
    "nodes",
    "pgr",
    "er",
    "hormonal_therapy",
)


class InputError(Exception):
    pass


def read_cases(folder) -> pd.DataFrame:
    path = folder / CASES_FILE
    if not folder.is_dir():
        raise InputError(f"{folder} is not a directory")
    if not path.is_file():
        raise InputError(f"{CASES_FILE} not found in {folder}")
    try:
        cases = pd.read_csv(path, dtype={"case_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{CASES_FILE} is not a readable CSV ({exc.__class__.__name__})") from None
    missing = [c for c in _CASE_COLUMNS if c not in cases.columns]
    if missing:
        raise InputError(f"{CASES_FILE} lacks column(s): {', '.join(missing)}")
    return cases


def design_matrix(cases: pd.DataFrame) -> np.ndarray:
    """One row per case, one column per name in FEATURES; fails on missing values."""
    numeric = [c for c in _CASE_COLUMNS[1:] if c != "size_category"]
    number = {c: pd.to_numeric(cases[c], errors="coerce") for c in numeric}
    size = cases["size_category"].astype(str)
    columns = {
        "age": number["age"],
        "postmenopausal": number["postmenopausal"],
        "size_20_50": (size == "20-50").astype(float),
        "size_over_50": (size == ">50").astype(float),
        "grade_3": (number["grade"] >= 3).astype(float).where(number["grade"].notna()),
        "log_nodes": np.log1p(number["nodes"].clip(lower=0)),
        "log_pgr": np.log1p(number["pgr"].clip(lower=0)),
        "log_er": np.log1p(number["er"].clip(lower=0)),
        "hormonal_therapy": number["hormonal_therapy"],
    }
    x = np.column_stack([columns[name].to_numpy(dtype=float) for name in FEATURES])
    if not size.isin(["<=20", "20-50", ">50"]).all() or not np.all(np.isfinite(x)):
        raise InputError(f"{CASES_FILE} has missing or invalid predictor values")
    return x
