"""The review before a run: a model that needs a GPU, in a run that gives none, is
refused in one line before any task runs; one that can use a GPU runs without."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.client.pending_review import refuse_missing_gpus
from medval.client.runs import PlannedExecution
from medval.core.errors import InvalidInput
from medval.core.gpus import GpuDevices, GpuNeed
from medval.core.result_schemas import PendingExecution


def planned(model_id: int, model: str) -> PlannedExecution:
    pending = PendingExecution(
        benchmark_id=1, benchmark="b", dataset_id=1, dataset="d", model_id=model_id,
        model=model, model_owner="o", model_hash="0" * 64,
    )  # fmt: skip
    return PlannedExecution(pending, None, None)


def test_a_model_that_needs_a_gpu_is_refused_before_a_run_without_one() -> None:
    items = [planned(1, "seg"), planned(2, "cls"), planned(3, "big")]
    needs = {1: GpuNeed.NEEDS, 2: GpuNeed.CAN_USE, 3: GpuNeed.NEEDS}
    with pytest.raises(InvalidInput) as raised:
        refuse_missing_gpus(items, needs, GpuDevices())
    assert raised.value.exit_code == 2
    assert raised.value.message == (
        "model big, seg needs a GPU and this run gives none: "
        "run with --gpus all or --gpus IDS on a machine with one"
    )
    refuse_missing_gpus(items, needs, GpuDevices((0,), False, (Path("/dev/nvidia0"),)))
    refuse_missing_gpus(items[1:2], needs, GpuDevices())  # one that can use a GPU runs
    # A model whose archive could not be read here is left to fail when it runs.
    refuse_missing_gpus(items, {}, GpuDevices())
