"""The data owner's dataset steps: prepare locally, register hashes and statistics only."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from medval.client.execution import Executor
from medval.client.preparation.progress_counts import (
    CasesLeftOut,
    WorkflowCounts,
    cases_left_out,
    workflow_counts,
)
from medval.client.preparation.workflow_run import workflow_folder
from medval.client.workspace import LocalDataset, Workspace
from medval.core.errors import Conflict, HashMismatch
from medval.core.hashing import tree_hash, tree_state
from medval.core.schemas import DatasetCreate, check_name
from medval.core.states import Stage, check_valid


def prepare_dataset(
    executor: Executor,
    *,
    benchmark_id: int,
    name: str,
    data_path: Path,
    labels_path: Path,
    location: str = "",
    description: str = "",
    jobs: int = 1,
) -> LocalDataset:
    """Run the benchmark's preparation cube (prepare, sanity_check, statistics) locally;
    a cube that declares a workflow runs its per-case steps ``jobs`` cases at a time.

    The name becomes a folder of the workspace: it is checked before anything else."""
    check_name(name, "dataset name")
    workspace = executor.workspace
    existing = workspace.datasets()
    if any(d.name == name and d.server_id is not None for d in existing):
        raise Conflict(f"dataset {name!r} is already registered; choose another name")
    benchmark = executor.client.benchmark(benchmark_id)
    check_valid(f"benchmark {benchmark.name} ({benchmark.id})", benchmark)
    executor.require_supported_by(benchmark)
    preparator = executor.client.cube(benchmark.data_preparator_id)
    data_hash, statistics = executor.prepare(
        preparator,
        data_path.resolve(),
        labels_path.resolve(),
        workspace.dataset_dir(name),
        benchmark_k=benchmark.min_cell_count,
        jobs=jobs,
    )
    left = cases_left_out(preparation_folder(workspace, name))
    if statistics.document.preparation is None:  # prepared without a workflow
        left = CasesLeftOut((), ())
    dataset = LocalDataset(
        name=name,
        benchmark_id=benchmark_id,
        data_preparator_id=preparator.id,
        data_preparator_hash=preparator.archive_hash,
        raw_data_path=str(data_path.resolve()),
        raw_labels_path=str(labels_path.resolve()),
        data_hash=data_hash,
        statistics=statistics.document,
        left_out=statistics.left_out,
        excluded_cases=list(left.excluded),
        set_aside_cases=list(left.set_aside),
        prepared_at=datetime.now(UTC),
        location=location,
        description=description,
    )
    workspace.save_dataset(dataset)
    return dataset


def prepared_folders(executor: Executor, dataset: LocalDataset) -> tuple[Path, Path]:
    folder = executor.workspace.dataset_dir(dataset.name)
    return folder / "data", folder / "labels"


def preparation_extras(workspace: Workspace, dataset: LocalDataset) -> list[Path]:
    """What a MedPerf preparation cube wrote besides the data: its metadata folder and its
    report (when it declared them), kept with the prepared data and never sent."""
    folder = workspace.dataset_dir(dataset.name)
    metadata = folder / "metadata"
    found = [metadata] if metadata.is_dir() and any(metadata.iterdir()) else []
    report = folder / "report"
    return found + (sorted(report.iterdir()) if report.is_dir() else [])


# A tree changed this recently is hashed again at every execution: the kernel's clock for
# file times advances in ticks (a few ms), so a second change within the tick of the last
# could keep the same times.
SETTLED_NS = 2_000_000_000


def verify_prepared(executor: Executor, dataset: LocalDataset) -> None:
    """The prepared data must still be exactly what was hashed.

    Hashed once per run (per :class:`Executor`): after a hash that matched, what the file
    system says of every entry (``core.hashing.tree_state``: paths, inodes, sizes,
    modification and change times) is kept, and a later execution of the same run whose
    data shows exactly that state again is not hashed again. Any write, rename, chmod or
    replacement on the host in between changes the state (the change time, which no
    unprivileged process can set back), and the data is hashed again; cubes see it
    read-only. A tree changed in the last two seconds is always hashed again.

    Executions side by side (``medval run --jobs N``) check one dataset in turn: the
    first hashes it, the others wait and then find its state kept."""
    data, labels = prepared_folders(executor, dataset)
    key = (str(data), str(labels), dataset.data_hash)
    with executor.locks.held(("data", key)):
        before = tree_state(data, labels)
        if executor.verified_data.get(key) == before:
            return
        executor.progress.step(f"hashing the prepared data of {dataset.name}")
        actual = tree_hash(data, labels)
        if actual != dataset.data_hash:
            raise HashMismatch(
                f"the prepared data of {dataset.name} has changed since it was prepared "
                f"(hash {actual[:12]}… instead of {dataset.data_hash[:12]}…); prepare it again"
            )
        settled = max(entry.changed_ns for entry in before) < time.time_ns() - SETTLED_NS
        if settled and tree_state(data, labels) == before:
            executor.verified_data[key] = before


def registration_payload(dataset: LocalDataset, stage: Stage = Stage.OPERATION) -> DatasetCreate:
    """Exactly what registration sends: a name, a hash and aggregate statistics (never
    what of the cube's statistics file was left out)."""
    return DatasetCreate(
        name=dataset.name,
        description=dataset.description,
        location=dataset.location,
        data_preparator_id=dataset.data_preparator_id,
        data_hash=dataset.data_hash,
        statistics=dataset.statistics,
        stage=stage,
    )


def preparation_folder(workspace: Workspace, name: str) -> Path:
    """Where a dataset's preparation workflow keeps its state and its steps' outputs."""
    return workflow_folder(workspace.dataset_dir(name))


def preparation_counts(workspace: Workspace, name: str) -> WorkflowCounts:
    """Per step, the cases a dataset's preparation workflow finished and set aside."""
    return workflow_counts(preparation_folder(workspace, name), name)
