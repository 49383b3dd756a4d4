"""Results: uploaded by the data owner after review, checked against every registered hash.

A result is a model's execution on a dataset: succeeded (metrics) or failed (a one-line
reason, no metrics). There is one per benchmark, dataset and model; a failed one is
replaced when its data owner uploads that execution again (run again after the failure),
a succeeded one is final. A succeeded result of a benchmark that declares its metrics
carries exactly those (:mod:`medval.core.declared_results`).
"""

from __future__ import annotations

from medval.core.declared_results import declared_document
from medval.core.errors import (
    Conflict,
    HashMismatch,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
)
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.result_schemas import ResultCreate
from medval.core.states import ApprovalStatus, AssociationKind, ExecutionStatus
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import visible_cube
from medval.server.services.data_policies import require_policy_allows
from medval.server.services.datasets import visible_dataset
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import not_found
from medval.server.services.release import can_see_result, site_count
from medval.server.services.signing_keys import require_signed_by_uploader
from medval.server.services.small_cells import (
    require_declared_subgroups,
    require_no_small_cells_in_result,
)
from medval.server.services.validity import (
    require_benchmark_runs,
    require_valid_cube,
    require_valid_dataset,
)
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import BenchmarkRecord, ResultRecord, UserRecord


def _require_approved(
    tx: StoreTransaction, benchmark: BenchmarkRecord, kind: AssociationKind, entity_id: int
) -> None:
    found = tx.list_associations(benchmark_id=benchmark.id, kind=kind, entity_id=entity_id)
    if not found or found[0].status is not ApprovalStatus.APPROVED:
        status = found[0].status.value if found else "not associated"
        raise InvalidTransition(
            f"{kind.value} {entity_id} is {status} on benchmark {benchmark.name}; "
            "results need both the dataset and the model approved"
        )


def _check_provenance(tx: StoreTransaction, benchmark: BenchmarkRecord, body: ResultCreate) -> None:
    """Every hash and image ID that produced the result must be the one registered here."""
    dataset = tx.dataset(body.dataset_id)
    registered = {
        "dataset_hash": dataset.data_hash if dataset else None,
        "data_preparator_hash": _cube_hash(tx, benchmark.data_preparator_id),
        "model_hash": _cube_hash(tx, body.model_id),
        "evaluator_hash": _cube_hash(tx, benchmark.evaluator_id),
        "data_preparator_image": _cube_image(tx, benchmark.data_preparator_id),
        "model_image": _cube_image(tx, body.model_id),
        "evaluator_image": _cube_image(tx, benchmark.evaluator_id),
    }
    reported = body.provenance.model_dump()
    wrong = [name for name, expected in registered.items() if reported[name] != expected]
    if wrong:
        raise HashMismatch(
            f"provenance does not match what is registered: {', '.join(wrong)}; "
            "the result was not produced by the registered artifacts"
        )


def _cube_hash(tx: StoreTransaction, cube_id: int) -> str | None:
    cube = tx.cube(cube_id)
    return cube.archive_hash if cube else None


def _cube_image(tx: StoreTransaction, cube_id: int) -> str | None:
    cube = tx.cube(cube_id)
    return cube.image_digest if cube else None


def _require_declared(benchmark: BenchmarkRecord, body: ResultCreate) -> None:
    """Exactly the benchmark's declared metrics (core.declared_results), when it declares
    any: the data owner's client dropped the others before the review."""
    assert body.document is not None
    what = f"result for benchmark {benchmark.name}"
    checked = declared_document(benchmark.metrics, body.document, what)
    if checked.undeclared:
        raise InvalidInput(
            f"{what}: metric(s) the benchmark does not declare: {', '.join(checked.undeclared)}"
        )


def upload_result(ctx: ServiceContext, caller: UserRecord, body: ResultCreate) -> ResultRecord:
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, body.benchmark_id)
        dataset = visible_dataset(tx, caller, body.dataset_id)
        model = visible_cube(tx, caller, body.model_id)
        # Not even an admin: an upload is the data owner's approval to release it.
        if dataset.owner_id != caller.id:
            raise PermissionDenied(f"only the owner of dataset {dataset.name} may upload results")
        # Signed by the uploader's current key, over exactly what is stored.
        now = ctx.clock()
        require_signed_by_uploader(tx, caller, body, now)
        # Nothing new against an invalidated benchmark, dataset or cube.
        require_benchmark_runs(tx, benchmark)
        require_valid_dataset(dataset)
        require_valid_cube(model)
        _require_approved(tx, benchmark, AssociationKind.DATASET, body.dataset_id)
        _require_approved(tx, benchmark, AssociationKind.MODEL, body.model_id)
        _check_provenance(tx, benchmark, body)
        if body.document is not None:
            require_declared_subgroups(benchmark, body.document)
            require_no_small_cells_in_result(benchmark, body.document)
            _require_declared(benchmark, body)
        found = tx.list_results(
            benchmark_id=body.benchmark_id, dataset_id=body.dataset_id, model_id=body.model_id
        )
        if found and found[0].status is not ExecutionStatus.FAILED:
            raise Conflict(
                f"model {found[0].model} already has a result on dataset {dataset.name} "
                f"in benchmark {benchmark.name} (result {found[0].id})"
            )
        # The data owner's terms, checked with the same code their client ran.
        runs = found[0].runs if found else 0
        require_policy_allows(tx, benchmark.id, dataset.id, model, runs, now)
        if not found:
            return tx.add_result(caller.id, body, now)
        return tx.replace_result(found[0].id, caller.id, body, now)


def get_result(ctx: ServiceContext, caller: UserRecord, result_id: int) -> ResultRecord:
    with ctx.store.transaction() as tx:
        result = tx.result(result_id)
        benchmark = tx.benchmark(result.benchmark_id) if result else None
        if result is None or benchmark is None:
            raise not_found("result", result_id)
        sites = site_count(tx, benchmark.id, result.model_id)
        if not can_see_result(caller, result, benchmark, sites):
            raise not_found("result", result_id)
        return result


def list_results(
    ctx: ServiceContext,
    caller: UserRecord,
    benchmark_id: int | None,
    dataset_id: int | None,
    model_id: int | None,
    page: PageRequest = EVERYTHING,
) -> Page[ResultRecord]:
    with ctx.store.transaction() as tx:
        benchmarks: dict[int, BenchmarkRecord | None] = {}
        sites: dict[tuple[int, int], int] = {}

        def visible(result: ResultRecord) -> bool:
            if result.benchmark_id not in benchmarks:
                benchmarks[result.benchmark_id] = tx.benchmark(result.benchmark_id)
            benchmark = benchmarks[result.benchmark_id]
            pair = (result.benchmark_id, result.model_id)
            if pair not in sites:
                sites[pair] = site_count(tx, *pair)
            return benchmark is not None and can_see_result(caller, result, benchmark, sites[pair])

        return visible_page(
            page,
            lambda after, n: tx.list_results(
                benchmark_id, dataset_id, model_id, after=after, limit=n
            ),
            by_id,
            visible,
        )
