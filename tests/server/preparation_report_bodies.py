"""A preparation report's body as a site's client sends it (the API tests and the access
matrix's doors both send one)."""

from __future__ import annotations

from typing import Any


def report_body(benchmark_id: int) -> dict[str, Any]:
    step = {"step": "convert", "runs": "per_case", "done": 190, "failed": 10,
            "waiting_for_review": 0, "not_yet": 0}  # fmt: skip
    return {"benchmark_id": benchmark_id, "dataset": "site-a", "min_cell_count": 10,
            "cases": 200, "excluded": 0, "steps": [step], "withheld": []}  # fmt: skip
