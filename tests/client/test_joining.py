"""A data owner's request to join a benchmark, as every face makes it (``client.joining``);
the model owner's two steps run end to end in ``tests/e2e`` (``medval model associate``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.client.joining import dataset_request
from medval.client.workspace import Workspace
from medval.core.errors import InvalidInput, NotFound
from medval.core.states import AssociationKind
from tests.client.test_local_state import dataset


def test_a_registered_dataset_asks_the_benchmark_it_was_prepared_for_or_another(
    tmp_path: Path,
) -> None:
    workspace = Workspace(tmp_path)
    workspace.save_dataset(dataset("site-a", server_id=7))
    request = dataset_request(workspace, "site-a")
    assert (request.benchmark_id, request.kind, request.entity_id) == (
        1,
        AssociationKind.DATASET,
        7,
    )
    assert dataset_request(workspace, "site-a", benchmark_id=4).benchmark_id == 4


def test_a_dataset_not_registered_or_not_here_is_one_line(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    workspace.save_dataset(dataset("site-b"))
    with pytest.raises(InvalidInput) as unregistered:
        dataset_request(workspace, "site-b")
    assert str(unregistered.value) == (
        "dataset 'site-b' is not registered; run 'medval dataset register'"
    )
    with pytest.raises(NotFound) as missing:
        dataset_request(workspace, "site-c")
    assert (
        str(missing.value)
        == "no prepared dataset named 'site-c' here; run 'medval dataset prepare'"
    )
