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
from medval.core.phases import publication_on_upload
from medval.core.result_schemas import ResultCreate
from medval.core.states import ApprovalStatus, AssociationKind, ExecutionStatus
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.cubes import visible_cube
from medval.server.services.data_policies import require_policy_allows
from medval.server.services.datasets import visible_dataset
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import not_found
from medval.server.services.phases import open_phase
from medval.server.services.quotas import require_upload_quota
from medval.server.services.release import can_see_result, site_count
from medval.server.services.signing_keys import require_signed_by_uploader
from medval.server.services.small_cells import (
    require_declared_subgroups,
    require_no_small_cells_in_result,
)
from medval.server.services.validity import (
    blocker_among,
    require_valid_cube,
    require_valid_dataset,
)
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import (
    AssociationStanding,
    BenchmarkRecord,
    CubeRecord,
    DatasetRecord,
    ResultRecord,
    UserRecord,
)


def _require_approved(
    tx: StoreTransaction, benchmark: BenchmarkRecord, kind: AssociationKind, entity_id: int
) -> AssociationStanding:
    found = tx.association_standing(benchmark.id, kind, entity_id)
    if found is None or found.status is not ApprovalStatus.APPROVED:
        status = found.status.value if found else "not associated"
        raise InvalidTransition(
            f"{kind.value} {entity_id} is {status} on benchmark {benchmark.name}; "
            "results need both the dataset and the model approved"
        )
    return found


def _check_provenance(
    body: ResultCreate,
    dataset: DatasetRecord,
    model: CubeRecord,
    preparator: CubeRecord | None,
    evaluator: CubeRecord | None,
) -> None:
    """Every hash and image ID that produced the result must be the one registered here
    (the dataset, the model and the benchmark's preparation and evaluator cubes)."""
    registered = {
        "dataset_hash": dataset.data_hash,
        "data_preparator_hash": preparator.archive_hash if preparator else None,
        "model_hash": model.archive_hash,
        "evaluator_hash": evaluator.archive_hash if evaluator else None,
        "data_preparator_image": preparator.image_digest if preparator else None,
        "model_image": model.image_digest,
        "evaluator_image": evaluator.image_digest if evaluator else None,
    }
    reported = body.provenance.model_dump()
    wrong = [name for name, expected in registered.items() if reported[name] != expected]
    if wrong:
        raise HashMismatch(
            f"provenance does not match what is registered: {', '.join(wrong)}; "
            "the result was not produced by the registered artifacts"
        )


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
    """Every check below reads what it needs once: the benchmark's two cubes serve its
    validity and the provenance, each association's standing its approval and the policy."""
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
        # Every result belongs to the phase open now; none open, no result.
        phase = open_phase(tx, benchmark, now)
        # The phase's daily quota of uploads per site (services.quotas).
        require_upload_quota(tx, benchmark, phase, caller, now)
        # Nothing new against an invalidated benchmark, dataset or cube.
        preparator = tx.cube(benchmark.data_preparator_id)
        evaluator = tx.cube(phase.evaluator_id or benchmark.evaluator_id)
        cubes = {cube.id: cube for cube in (preparator, evaluator) if cube is not None}
        blocker = blocker_among(benchmark, cubes.get)
        if blocker is not None:
            raise InvalidTransition(blocker)
        require_valid_dataset(dataset)
        require_valid_cube(model)
        site = _require_approved(tx, benchmark, AssociationKind.DATASET, body.dataset_id)
        _require_approved(tx, benchmark, AssociationKind.MODEL, body.model_id)
        _check_provenance(body, dataset, model, preparator, evaluator)
        if body.document is not None:
            require_declared_subgroups(benchmark, body.document)
            require_no_small_cells_in_result(benchmark, body.document)
            _require_declared(benchmark, body)
        found = tx.list_results(
            benchmark_id=body.benchmark_id,
            dataset_id=body.dataset_id,
            model_id=body.model_id,
            phase_id=phase.id,
        )
        if found and found[0].status is not ExecutionStatus.FAILED:
            raise Conflict(
                f"model {found[0].model} already has a result on dataset {dataset.name} "
                f"in benchmark {benchmark.name}, phase {phase.name} (result {found[0].id})"
            )
        # The data owner's terms, checked with the same code their client ran.
        runs = found[0].runs if found else 0
        require_policy_allows(site.policy, dataset.id, model, runs, now)
        publication = publication_on_upload(phase.publication)
        if not found:
            return tx.add_result(caller.id, body, now, phase.id, publication)
        return tx.replace_result(found[0].id, caller.id, body, now, publication)


def get_result(ctx: ServiceContext, caller: UserRecord, result_id: int) -> ResultRecord:
    with ctx.store.transaction() as tx:
        result = tx.result(result_id)
        benchmark = tx.benchmark(result.benchmark_id) if result else None
        if result is None or benchmark is None:
            raise not_found("result", result_id)
        sites = site_count(tx, benchmark.id, result.model_id, result.phase_id)
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
        sites: dict[tuple[int, int, int | None], int] = {}

        def visible(result: ResultRecord) -> bool:
            if result.benchmark_id not in benchmarks:
                benchmarks[result.benchmark_id] = tx.benchmark(result.benchmark_id)
            benchmark = benchmarks[result.benchmark_id]
            key = (result.benchmark_id, result.model_id, result.phase_id)
            if key not in sites:
                sites[key] = site_count(tx, *key)
            return benchmark is not None and can_see_result(caller, result, benchmark, sites[key])

        return visible_page(
            page,
            lambda after, n: tx.list_results(
                benchmark_id, dataset_id, model_id, after=after, limit=n
            ),
            by_id,
            visible,
        )
