"""What the imaging tests share: the wheels ``make imaging-wheels`` fetches (the cubes'
environments, nilearn's data), Debian's mricron-data, and cube scripts run as the runner
would run them (one ``--NAME=PATH`` per mount, in the cube's folder; no sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.demo.imaging_data import MRICRON

ROOT = Path(__file__).resolve().parents[2]
WHEELS = ROOT / ".imaging-wheels"


@pytest.fixture(scope="session")
def wheels() -> Path:
    """The imaging wheels; ``make test`` (its ``setup``) fetches them and mricron-data."""
    if not (WHEELS / ".fetched").is_file():
        pytest.fail(f"{WHEELS} is not fetched: run make imaging-wheels", pytrace=False)
    if not (MRICRON / "ch2bet.nii.gz").is_file():
        pytest.fail("Debian's mricron-data is missing: run make system-deps", pytrace=False)
    return WHEELS
