"""The prepared data is hashed once per run, not once per execution, and a change made on
the host between two executions is still caught (``client.datasets.verify_prepared``)."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.client import datasets
from medval.client.datasets import prepared_folders, verify_prepared
from medval.client.execution import Executor, SilentProgress
from medval.client.http import MedvalClient
from medval.client.workspace import LocalDataset, Workspace
from medval.core import hashing
from medval.core.documents import DatasetStatistics
from medval.core.errors import HashMismatch
from medval.runner import BubblewrapRunner, Limits


@pytest.fixture
def prepared(tmp_path: Path) -> tuple[Executor, LocalDataset]:
    workspace = Workspace(tmp_path / "home")
    executor = Executor(MedvalClient("http://127.0.0.1:9"), workspace, BubblewrapRunner(), Limits())
    dataset = LocalDataset(
        name="site-a", benchmark_id=1, data_preparator_id=1, data_preparator_hash="0" * 64,
        raw_data_path="/raw", raw_labels_path="/raw", data_hash="", statistics=DatasetStatistics(),
        prepared_at=datetime.now(UTC),
    )  # fmt: skip
    data, labels = prepared_folders(executor, dataset)
    for folder, name in ((data, "cases.csv"), (labels, "labels.csv")):
        folder.mkdir(parents=True)
        (folder / name).write_text("case_id,x\n1,2\n")
    dataset.data_hash = hashing.tree_hash(data, labels)
    return executor, dataset


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the prepared data is hashed; data counts as settled at once."""
    calls: list[int] = []
    real = hashing.tree_hash

    def counting(*roots: Path) -> str:
        calls.append(1)
        return real(*roots)

    monkeypatch.setattr(datasets, "tree_hash", counting)
    monkeypatch.setattr(datasets, "SETTLED_NS", 0)
    return calls


def test_four_executions_of_one_run_hash_the_data_once(
    prepared: tuple[Executor, LocalDataset], counted: list[int]
) -> None:
    executor, dataset = prepared
    for _ in range(4):
        verify_prepared(executor, dataset)
    assert len(counted) == 1


@pytest.mark.parametrize("change", ["content", "same size", "chmod", "new file", "replaced"])
def test_a_change_on_the_host_between_executions_is_caught(
    prepared: tuple[Executor, LocalDataset], counted: list[int], change: str
) -> None:
    executor, dataset = prepared
    verify_prepared(executor, dataset)
    data, _ = prepared_folders(executor, dataset)
    cases = data / "cases.csv"
    stamp = os.stat(cases)
    if change == "content":
        cases.write_text("case_id,x\n1,3\n4,5\n")
    elif change == "same size":  # same size and modification time: the change time moves
        cases.write_text("case_id,x\n1,9\n")
        os.utime(cases, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    elif change == "chmod":
        cases.chmod(0o600)
    elif change == "new file":
        (data / "more.csv").write_text("")
    else:
        (data / "other").write_text("case_id,x\n1,2\n")
        (data / "other").replace(cases)  # the same bytes, another file
    if change in ("chmod", "replaced"):  # same bytes: hashed again, and it still matches
        verify_prepared(executor, dataset)
        assert len(counted) == 2
        return
    with pytest.raises(HashMismatch) as refused:
        verify_prepared(executor, dataset)
    assert refused.value.message.startswith("the prepared data of site-a has changed since")
    assert len(counted) == 2


def test_data_changed_moments_ago_is_hashed_every_time(
    prepared: tuple[Executor, LocalDataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    executor, dataset = prepared  # written just now: not settled
    calls: list[int] = []
    real = hashing.tree_hash
    monkeypatch.setattr(datasets, "tree_hash", lambda *r: calls.append(1) or real(*r))
    for _ in range(3):
        verify_prepared(executor, dataset)
    assert len(calls) == 3


def test_another_run_hashes_again(
    prepared: tuple[Executor, LocalDataset], counted: list[int]
) -> None:
    executor, dataset = prepared
    verify_prepared(executor, dataset)
    again = Executor(executor.client, executor.workspace, BubblewrapRunner(), Limits())
    verify_prepared(again, dataset)
    assert len(counted) == 2


def test_executions_starting_together_hash_the_data_once(
    prepared: tuple[Executor, LocalDataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``medval run --jobs 4``: four executions check one dataset at the same moment."""
    executor, dataset = prepared
    monkeypatch.setattr(datasets, "SETTLED_NS", 0)
    calls: list[int] = []
    real = hashing.tree_hash

    def slow_counting(*roots: Path) -> str:
        calls.append(1)
        time.sleep(0.3)  # long enough for the others to arrive while it hashes
        return real(*roots)

    monkeypatch.setattr(datasets, "tree_hash", slow_counting)
    together = threading.Barrier(4)
    raised: list[BaseException] = []

    def execution() -> None:
        together.wait()
        try:
            verify_prepared(executor.reporting_to(SilentProgress()), dataset)
        except BaseException as exc:
            raised.append(exc)

    threads = [threading.Thread(target=execution) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert raised == []
    assert len(calls) == 1
