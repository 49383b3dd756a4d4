"""Running a benchmark's cubes on local data: prepare, infer, evaluate.

Each cube comes checked from :class:`~medval.client.cube_supply.CubeSupply` (its archive's
hash checked every time before it is unpacked, its image by its registered ID). A
prepared dataset's hash is re-checked before every execution. Only aggregate documents
come out of here.
"""

from __future__ import annotations

import copy
import shutil
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from medval.client.audit_log import LocalAuditLog
from medval.client.cube_names import describe
from medval.client.cube_supply import CubeSupply
from medval.client.declared_documents import DocumentRefused, as_declared
from medval.client.http import MedvalClient
from medval.client.model_keys import ModelKeySource, NoModelKeys
from medval.client.preparation.case_folders import link_entry
from medval.client.preparation.step_cubes import step_cube_tasks
from medval.client.preparation.workflow_run import TaskRunning, run_workflow, workflow_folder
from medval.client.run_locks import RunLocks
from medval.client.task_times import TaskTime, record_task_time
from medval.client.workspace import Workspace
from medval.core.cube_spec import METADATA_MOUNT, REPORT_MOUNT, CubeSpec
from medval.core.declarations import MetricDeclaration
from medval.core.demo_data import locate as locate_demo_data
from medval.core.document_files import read_task_document
from medval.core.document_mapping import ReadDocument
from medval.core.documents import (
    DatasetStatistics,
    PreparationCounts,
    ResultDocument,
    read_document,
)
from medval.core.errors import Conflict, InvalidInput
from medval.core.gpus import GpuDevices
from medval.core.hashing import TreeState, tree_hash
from medval.core.preparation_workflow import Workflow
from medval.core.schemas import BenchmarkPublic, CubePublic
from medval.core.small_cells import (
    effective_min_cell_count,
    suppress_result,
    suppress_statistics,
)
from medval.core.states import check_valid
from medval.core.subgroup_cells import suppress_subgroups

if TYPE_CHECKING:  # only named here: a command that runs no cube starts without the runners
    from medval.runner.interface import Limits, Runner

__all__ = ["DocumentRefused", "Executor", "Progress", "SilentProgress", "read_document"]


# How a step that is a caveat (a limit the runner cannot hold here) begins: a warning, said
# wherever progress goes, even where the steps themselves are not shown (cli.context).
CAVEAT = "note: "


class Progress(Protocol):
    """Where long work reports what it is doing (the CLI prints; tests collect)."""

    def step(self, message: str) -> None: ...

    def done(self, message: str, seconds: float) -> None: ...


class SilentProgress:
    def step(self, message: str) -> None:
        return None

    def done(self, message: str, seconds: float) -> None:
        return None


def _has_entries(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except OSError:
        return False


class Executor(CubeSupply):
    """Runs cube tasks for one account's workspace through one runner."""

    def __init__(
        self,
        client: MedvalClient,
        workspace: Workspace,
        runner: Runner,
        limits: Limits,
        progress: Progress | None = None,
        local_min_cell_count: int | None = None,
        actor: str = "(this machine)",
        hub_mirror: Path | None = None,
        model_keys: ModelKeySource | None = None,
    ) -> None:
        self.client = client
        # Where a private model's key comes from, just before it runs (``client.model_keys``).
        self.model_keys: ModelKeySource = model_keys or NoModelKeys()
        self.hub_mirror = hub_mirror  # where a cube pinned to a hub commit is read from
        # What this account approves, runs and sends from here (``actor``: its name).
        self.audit = LocalAuditLog(workspace.audit_dir, actor)
        # The data owner's own minimum cell size: it can make a benchmark's stricter only.
        self.local_min_cell_count = local_min_cell_count
        self.workspace = workspace
        # Whatever a runner makes of cubes' own images lives in this workspace.
        self.runner = runner.with_image_cache(workspace.images_dir).with_environment_cache(
            workspace.environments_dir
        )
        self.limits = limits
        self.progress = progress or SilentProgress()
        self._caveats_said = threading.Event()
        # Prepared data hashed in this run, with its file-system state then
        # (``client.datasets.verify_prepared``): the data is hashed once per run.
        self.verified_data: dict[tuple[str, str, str], TreeState] = {}
        # What executions side by side take turns on (``client.run_locks``).
        self.locks = RunLocks()
        # The GPUs this run gives a cube that needs or can use one (``with_gpus``).
        self.gpus = GpuDevices()

    def reporting_to(self, progress: Progress) -> Executor:
        """This executor, its steps said to ``progress``: one execution's view when several
        run side by side. Everything else is shared (the client, the workspace, the audit
        log, the data hashed in this run, the locks)."""
        view = copy.copy(self)
        view.progress = progress
        return view

    def with_gpus(self, gpus: GpuDevices) -> Executor:
        """This executor, giving ``gpus`` (found on this machine) to every task of a cube
        that needs or can use a GPU; a cube that declares none gets no device."""
        view = copy.copy(self)
        view.gpus = gpus
        return view

    def say_caveats(self) -> None:
        """Say, once, which limits the runner cannot hold here, before any task runs."""
        with self.locks.held("caveats"):
            if self._caveats_said.is_set():
                return
            self._caveats_said.set()
        for line in self.runner.caveats(self.limits):
            self.progress.step(f"{CAVEAT}{line}")

    def require_supported_by(self, benchmark: BenchmarkPublic) -> None:
        """Refuse to run a benchmark's cubes on a runner kind the benchmark does not support."""
        kinds = [kind.value for kind in benchmark.runners]
        if self.runner.kind not in kinds:
            raise InvalidInput(
                f"benchmark {benchmark.name} supports the runners {', '.join(kinds)}, "
                f"not {self.runner.kind}: choose one with --runner or MEDVAL_RUNNER"
            )

    def min_cell_count(self, benchmark_k: int) -> int:
        """The k small cells are withheld with: the benchmark's, or the data owner's own
        when that is stricter."""
        return effective_min_cell_count(benchmark_k, self.local_min_cell_count)

    def run_task(self, cube: CubePublic, task: str, mounts: Mapping[str, Path]) -> CubeSpec:
        """Run one task of a cube; returns the cube's spec (which says what it wrote)."""
        with self._ready(cube) as (folder, spec, image):
            return self.run_unpacked(cube, folder, spec, image, task, mounts)

    @contextmanager
    def tasks_of(self, cube: CubePublic) -> Iterator[TaskRunning]:
        """Tasks of one cube, run (one after another or side by side) on one copy of it,
        checked and unpacked once: a workflow's per-case steps run a task per case, and
        checking the archive (and image) and unpacking it for each was most of what could
        not run side by side (``bench/preparation_jobs.py``). Every runner gives a task the
        cube folder read-only, so no task changes what the next one runs."""
        with self._ready(cube) as (folder, spec, image):

            def run(task: str, mounts: Mapping[str, Path]) -> CubeSpec:
                return self.run_unpacked(cube, folder, spec, image, task, mounts)

            yield run

    @contextmanager
    def _ready(self, cube: CubePublic) -> Iterator[tuple[Path, CubeSpec, str | None]]:
        """The cube checked, its image pinned, and unpacked: its folder, spec and image."""
        check_valid(f"{cube.kind.value} cube {cube.name} ({cube.id})", cube)  # never runs
        self.say_caveats()
        key = self.run_key(cube)
        with self.image_ready(cube, key) as image, self.unpacked(cube, key=key) as (folder, spec):
            yield folder, spec, image

    def run_unpacked(
        self,
        cube: CubePublic,
        folder: Path,
        spec: CubeSpec,
        image: str | None,
        task: str,
        mounts: Mapping[str, Path],
    ) -> CubeSpec:
        """One task of a cube already checked and unpacked at ``folder`` (``tasks_of``)."""
        label = f"{cube.name}: {task}"
        self.progress.step(label)
        started = time.monotonic()
        log = self.workspace.new_task_log(cube.id, task)
        run = self.runner.run(
            folder, spec, task, mounts, self.limits, log, image=image, gpus=self.gpus
        )
        # The runner's own clock, kept beside the log (``client.task_times``).
        record_task_time(log, TaskTime(cube_id=cube.id, task=task, seconds=run.duration_seconds))
        self.progress.done(label, time.monotonic() - started)
        return spec

    # --- the benchmark's steps ----------------------------------------------------------

    def prepare(
        self,
        preparator: CubePublic,
        data_path: Path,
        labels_path: Path,
        out: Path,
        *,
        benchmark_k: int,
        jobs: int = 1,
    ) -> tuple[str, ReadDocument[DatasetStatistics]]:
        """prepare -> sanity_check -> statistics; returns the data hash and the statistics
        (with what of the cube's statistics file is left out, and the small cells withheld
        by the benchmark's minimum cell size ``benchmark_k``).

        A cube that declares a workflow prepares by it instead of one ``prepare``
        (:meth:`prepare_by_workflow`, its per-case steps ``jobs`` at a time)."""
        for path, what in ((data_path, "data path"), (labels_path, "labels path")):
            if not path.is_dir():
                raise InvalidInput(f"{what} {path} is not a folder")
        data, labels, stats = out / "data", out / "labels", out / "statistics"
        # MedPerf's optional preparation volumes: given to a cube that declares them,
        # kept here with the prepared data, never hashed into it, never sent.
        metadata, report = out / "metadata", out / "report"
        for folder in (data, labels, stats, metadata, report):
            if folder.exists():
                shutil.rmtree(folder)
        workflow = self.declared_workflow(preparator)
        left_out: PreparationCounts | None = None
        if workflow is not None:
            left_out = self.prepare_by_workflow(
                preparator, workflow, data_path, labels_path, out, jobs
            )
        else:
            self.run_task(
                preparator,
                "prepare",
                {
                    "data_path": data_path,
                    "labels_path": labels_path,
                    "output_path": data,
                    "output_labels_path": labels,
                    METADATA_MOUNT: metadata,
                    REPORT_MOUNT: report,
                },
            )
        metadata.mkdir(exist_ok=True)  # read by the next tasks even if prepare wrote none
        inputs = {"data_path": data, "labels_path": labels, METADATA_MOUNT: metadata}
        self.run_task(preparator, "sanity_check", inputs)
        spec = self.run_task(preparator, "statistics", {**inputs, "output_path": stats})
        read = read_task_document(DatasetStatistics, spec, "statistics", stats, "statistics")
        k = self.min_cell_count(benchmark_k)
        document, withheld = suppress_statistics(read.document, k, read.groups)
        document = document.model_copy(update={"preparation": left_out})  # medval's, not the cube's
        statistics = ReadDocument(document, read.left_out + withheld, read.file_name)
        self.progress.step("hashing the prepared data")
        return tree_hash(data, labels), statistics

    def declared_workflow(self, preparator: CubePublic) -> Workflow | None:
        """The workflow the preparation cube declares, if any (read from its spec)."""
        check_valid(f"{preparator.kind.value} cube {preparator.name} ({preparator.id})", preparator)
        with self.unpacked(preparator) as (_, spec):
            return spec.workflow

    def prepare_by_workflow(
        self,
        preparator: CubePublic,
        workflow: Workflow,
        data_path: Path,
        labels_path: Path,
        out: Path,
        jobs: int,
    ) -> PreparationCounts:
        """Run (or resume) the cube's workflow, its state in ``out/workflow``, and put the
        prepared data at ``out/data`` and ``out/labels``. A case set aside is said, one
        line each, and left out; a review that waits stops here in one line. Returns how
        many cases were excluded and set aside (for the statistics). A cube a step pins is
        checked first (:mod:`medval.client.preparation.step_cubes`)."""
        pinned_cubes = step_cube_tasks(self, self.client, workflow)
        with pinned_cubes as pinned, self.tasks_of(preparator) as run_task:
            outcome = run_workflow(
                workflow,
                run_task,
                data_path,
                labels_path,
                workflow_folder(out),
                identity=preparator.archive_hash,
                jobs=jobs,
                say=self.progress.step,
                step_cubes=pinned,
            )
        for aside in outcome.set_aside:
            self.progress.step(f"case {aside.case} set aside at step {aside.step}: {aside.reason}")
        if outcome.excluded:
            self.progress.step(f"{len(outcome.excluded)} case(s) excluded")
        if outcome.prepared is None:
            waiting = outcome.to_review
            steps = sorted({item.step for item in waiting})
            raise Conflict(
                f"the preparation waits for a review of {len(waiting)} case(s) at step "
                f"{', '.join(steps)} (medval dataset review list shows them); "
                "nothing prepared is lost"
            )
        for prepared, target in zip(outcome.prepared, (out / "data", out / "labels"), strict=True):
            link_entry(prepared, target)
        set_aside = {aside.case for aside in outcome.set_aside}
        return PreparationCounts(excluded=len(outcome.excluded), set_aside=len(set_aside))

    def evaluate_model(
        self,
        model: CubePublic,
        evaluator: CubePublic,
        data: Path,
        labels: Path,
        work: Path,
        *,
        benchmark_k: int,
        declared: Sequence[MetricDeclaration] = (),
    ) -> ReadDocument[ResultDocument]:
        """infer -> evaluate on prepared data; predictions stay in ``work``, and so does
        what of the evaluator's results file is left out (it is returned, never sent), and
        its small cells by the benchmark's minimum cell size ``benchmark_k``, and the
        metrics the benchmark does not declare (``declared``; none: every metric is kept).
        A document lacking a declared metric, or with one off its declared scale, is
        refused as a document medval will not read.

        The caller has checked the prepared data's hash (``client.datasets.verify_prepared``).
        """
        predictions, output = work / "predictions", work / "output"
        for folder in (predictions, output):
            if folder.exists():
                shutil.rmtree(folder)
        self.run_task(model, "infer", {"data_path": data, "output_path": predictions})
        spec = self.run_task(
            evaluator,
            "evaluate",
            {"predictions": predictions, "labels": labels, "output_path": output},
        )
        try:
            read = read_task_document(ResultDocument, spec, "evaluate", output, "results")
        except InvalidInput as exc:
            wrote = (
                "a results document that medval refused"
                if _has_entries(output)
                else ("no results document")
            )
            raise DocumentRefused(exc.message, f"{describe(evaluator)} wrote {wrote}") from exc
        k = self.min_cell_count(benchmark_k)
        document, withheld = suppress_result(read.document, k)
        document, levels = suppress_subgroups(document, k)
        document, undeclared = as_declared(declared, document, withheld, evaluator)
        return ReadDocument(
            document, read.left_out + withheld + levels + undeclared, read.file_name
        )

    def compatibility_test(
        self,
        preparator: CubePublic,
        model: CubePublic,
        evaluator: CubePublic,
        demo_data: Path,
        *,
        benchmark_k: int,
        declared: Sequence[MetricDeclaration] = (),
    ) -> ReadDocument[ResultDocument]:
        """The whole pipeline on a benchmark's demo data, unpacked at ``demo_data`` (with
        ``data/`` and ``labels/``, or MedPerf's ``paths.yaml``), its documents suppressed
        as a site's would be (``benchmark_k``)."""
        folders = locate_demo_data(demo_data)
        work = self.workspace.scratch("compatibility-")
        try:
            self.prepare(preparator, folders.data, folders.labels, work, benchmark_k=benchmark_k)
            return self.evaluate_model(
                model,
                evaluator,
                work / "data",
                work / "labels",
                work,
                benchmark_k=benchmark_k,
                declared=declared,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
