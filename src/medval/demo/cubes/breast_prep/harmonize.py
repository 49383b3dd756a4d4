"""The prepared format of the benchmark and the harmonisation of hospital exports into it.

Raw export (one per site): ``patients.csv`` in the data folder and ``outcomes.csv`` in the
labels folder. The tumour size comes either as a category (``tumour_size``: <=20, 20-50,
>50 mm) or in millimetres (``tumour_size_mm``), which is cut into the same categories.

Prepared format: ``cases.csv`` (the predictors, one row per case) and ``labels.csv``
(``case_id``, ``event_5y``, and ``age_band``: <50, 50-69 or 70+, the subgroup variable the
benchmark declares, kept with the labels so that the evaluator, which sees only the labels
and the predictions, can report each band). Case ids are kept only to join predictions and
labels at the site; they never leave it.

Outcome: ``event_5y`` is 1 if recurrence or death happened within ``horizon_days``, 0 if
the case was followed for at least ``horizon_days`` without either. Cases censored before
the horizon have an unknown 5-year status and are EXCLUDED. Where follow-up is short this
removes mostly event-free cases and raises the event rate (complete-case bias); a
benchmark that needs the unbiased rate would weight by the inverse probability of
censoring instead. Cases with a missing or unreadable predictor or outcome, and cases
without an outcome row, are excluded too; every exclusion is counted in the report.

Only numpy and pandas: this file runs inside the sandbox and imports nothing else.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

PATIENTS_FILE = "patients.csv"
OUTCOMES_FILE = "outcomes.csv"
CASES_FILE = "cases.csv"
LABELS_FILE = "labels.csv"

SIZE_CATEGORIES = ("<=20", "20-50", ">50")
CASE_COLUMNS = (
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
LABEL_COLUMNS = ("case_id", "event_5y")
# Plausible ranges of the prepared numeric columns, inclusive.
RANGES = {
    "age": (18, 100),
    "postmenopausal": (0, 1),
    "grade": (1, 3),
    "nodes": (0, 100),
    "pgr": (0, 100_000),
    "er": (0, 100_000),
    "hormonal_therapy": (0, 1),
}
_RAW_COMMON = (
    "case_id",
    "age",
    "menopausal_status",
    "grade",
    "positive_nodes",
    "progesterone_receptor",
    "estrogen_receptor",
    "hormonal_therapy",
)
_RAW_OUTCOME = ("case_id", "followup_days", "event")


class InputError(Exception):
    """A problem with the input that the data owner can fix; reported as one line."""


def fail(task: str, exc: Exception) -> None:
    print(f"{task}: error: {exc}", file=sys.stderr)
    raise SystemExit(2)


def read_parameters(path: Path | None) -> dict[str, str]:
    """A flat ``key: value`` YAML file (comments allowed); no YAML library in the sandbox."""
    if path is None:
        return {}
    if not path.is_file():
        raise InputError(f"parameters file {path} does not exist")
    params: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, sep, value = line.partition(":")
            if not sep:
                raise InputError(f"{path}: expected 'key: value', got {line!r}")
            params[key.strip()] = value.strip().strip("'\"")
    return params


def read_csv(folder: Path, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    path = folder / name
    if not folder.is_dir():
        raise InputError(f"{folder} is not a directory")
    if not path.is_file():
        raise InputError(f"{name} not found in {folder}")
    try:
        frame = pd.read_csv(path, dtype={"case_id": str}, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{name} is not a readable CSV file ({exc.__class__.__name__})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{name} lacks column(s): {', '.join(missing)}")
    if frame["case_id"].isna().any():
        raise InputError(f"{name} has rows without a case_id")
    duplicated = frame["case_id"].duplicated()
    if duplicated.any():
        raise InputError(f"{name} has {int(duplicated.sum())} duplicated case_id value(s)")
    return frame


def read_export(data_path: Path, labels_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    patients = read_csv(data_path, PATIENTS_FILE, _RAW_COMMON)
    has_category, has_mm = "tumour_size" in patients, "tumour_size_mm" in patients
    if has_category == has_mm:
        raise InputError(f"{PATIENTS_FILE} needs exactly one of tumour_size, tumour_size_mm")
    outcomes = read_csv(labels_path, OUTCOMES_FILE, _RAW_OUTCOME)
    return patients, outcomes


def _size_category(patients: pd.DataFrame) -> pd.Series:
    if "tumour_size_mm" in patients:
        mm = pd.to_numeric(patients["tumour_size_mm"], errors="coerce")
        category = pd.Series(pd.NA, index=patients.index, dtype="object")
        category[mm > 0] = "<=20"
        category[mm > 20] = "20-50"
        category[mm > 50] = ">50"
        return category
    text = patients["tumour_size"].astype("string").str.strip()
    return text.where(text.isin(SIZE_CATEGORIES)).astype("object")


def _integer(values: pd.Series) -> pd.Series:
    """Whole numbers as floats; anything else (text, fractions, blanks) becomes NaN."""
    number = pd.to_numeric(values, errors="coerce")
    return number.where(number == number.round())


def harmonize(
    patients: pd.DataFrame, outcomes: pd.DataFrame, horizon_days: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Prepared cases, labels and the exclusion counts of one raw export."""
    meno = patients["menopausal_status"].astype("string").str.strip().str.lower()
    cases = pd.DataFrame(
        {
            "case_id": patients["case_id"].astype(str),
            "age": _integer(patients["age"]),
            "postmenopausal": meno.map({"pre": 0, "post": 1, "0": 0, "1": 1}).astype(float),
            "size_category": _size_category(patients),
            "grade": _integer(patients["grade"]),
            "nodes": _integer(patients["positive_nodes"]),
            "pgr": _integer(patients["progesterone_receptor"]),
            "er": _integer(patients["estrogen_receptor"]),
            "hormonal_therapy": _integer(patients["hormonal_therapy"]),
        }
    )
    for column, (low, high) in RANGES.items():
        cases[column] = cases[column].where(cases[column].between(low, high))
    complete = cases.notna().all(axis=1)

    days = pd.to_numeric(outcomes["followup_days"], errors="coerce")
    event = _integer(outcomes["event"])
    known = days.ge(0) & event.isin([0, 1])
    status = pd.Series(pd.NA, index=outcomes.index, dtype="Int64")
    status[known & (event == 1) & (days <= horizon_days)] = 1
    status[known & status.isna() & (days >= horizon_days)] = 0
    labels = pd.DataFrame({"case_id": outcomes["case_id"].astype(str), "event_5y": status})
    labels = labels.set_index("case_id")["event_5y"]

    has_outcome = cases["case_id"].isin(labels.index)
    joined = labels.reindex(cases["case_id"]).to_numpy()
    outcome_known = pd.Series(pd.notna(joined), index=cases.index) & has_outcome
    keep = complete & outcome_known
    counts = {
        "read": len(cases),
        "excluded_missing_or_invalid_predictor": int((~complete).sum()),
        "excluded_without_outcome": int((complete & ~has_outcome).sum()),
        "excluded_censored_before_horizon_or_invalid_outcome": int(
            (complete & has_outcome & ~outcome_known).sum()
        ),
        "written": int(keep.sum()),
    }
    prepared = cases[keep].sort_values("case_id").reset_index(drop=True)
    for column in RANGES:
        prepared[column] = prepared[column].astype(int)
    prepared_labels = pd.DataFrame(
        {
            "case_id": prepared["case_id"],
            "event_5y": labels.loc[prepared["case_id"]].astype(int).to_numpy(),
            "age_band": age_band(prepared["age"]),
        }
    )
    return prepared, prepared_labels, counts


AGE_BANDS = ((0, "<50"), (50, "50-69"), (70, "70+"))  # from each age on, up to the next


def age_band(age: pd.Series) -> list[str]:
    """Each age's band (the benchmark's declared levels, medval-cube declarations.yaml)."""
    return [next(name for low, name in reversed(AGE_BANDS) if years >= low) for years in age]


def read_prepared(data_path: Path, labels_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate a prepared dataset; raise InputError listing every problem."""
    cases = read_csv(data_path, CASES_FILE, CASE_COLUMNS)
    labels = read_csv(labels_path, LABELS_FILE, LABEL_COLUMNS)
    problems: list[str] = []
    extra = sorted(set(cases.columns) - set(CASE_COLUMNS))
    if extra:
        problems.append(f"{CASES_FILE} has unexpected column(s): {', '.join(extra)}")
    if len(cases) == 0:
        problems.append(f"{CASES_FILE} has no cases")
    missing = [c for c in CASE_COLUMNS if cases[c].isna().any()]
    if missing:
        problems.append(f"{CASES_FILE} has missing values in: {', '.join(missing)}")
    for column, (low, high) in RANGES.items():
        values = _integer(cases[column])
        bad = int((~values.between(low, high)).sum())
        if bad:
            problems.append(f"{column}: {bad} value(s) not whole numbers in [{low}, {high}]")
    bad_size = int((~cases["size_category"].isin(SIZE_CATEGORIES)).sum())
    if bad_size:
        problems.append(f"size_category: {bad_size} value(s) not in {', '.join(SIZE_CATEGORIES)}")
    bad_label = int((~_integer(labels["event_5y"]).isin([0, 1])).sum())
    if bad_label:
        problems.append(f"event_5y: {bad_label} value(s) not 0 or 1")
    only_cases = len(set(cases["case_id"]) - set(labels["case_id"]))
    only_labels = len(set(labels["case_id"]) - set(cases["case_id"]))
    if only_cases or only_labels:
        problems.append(
            f"case ids do not match: {only_cases} case(s) without a label, "
            f"{only_labels} label(s) without a case"
        )
    if problems:
        raise InputError("; ".join(problems))
    for column in RANGES:
        cases[column] = cases[column].astype(int)
    labels["event_5y"] = labels["event_5y"].astype(int)
    return cases, labels
