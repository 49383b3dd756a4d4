"""Data policies: a data owner's terms on a dataset's association with a benchmark.

The data owner sets them (``set_policy``); the association shows them to both sides
(the data owner and the benchmark owner). The server enforces them when a result is
uploaded (``services.results``) with ``medval.trust.data_policy``, the same code the
data owner's client runs before it executes a model.
"""

from __future__ import annotations

from datetime import datetime

from medval.core.errors import InvalidInput, PermissionDenied
from medval.core.membership_schemas import DataPolicy, DatasetTermsPublic
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.states import ApprovalStatus, AssociationKind
from medval.server.services.associations import visible_association
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.store.records import AssociationRecord, CubeRecord, UserRecord
from medval.trust.data_policy import Execution, for_model_owner, require_allowed


def set_policy(
    ctx: ServiceContext, caller: UserRecord, association_id: int, policy: DataPolicy
) -> AssociationRecord:
    """The dataset's owner, and only they (not an admin: these are the site's terms),
    sets the whole policy of a dataset's association, in any state."""
    with ctx.transaction(caller) as tx:
        association = visible_association(tx, caller, association_id)
        _require_policy_maker(caller, association)
        return tx.set_association_policy(association.id, policy)


def _require_policy_maker(caller: UserRecord, association: AssociationRecord) -> None:
    if association.kind is not AssociationKind.DATASET:
        raise InvalidInput(
            f"association {association.id} is a model's; data policies are set on a "
            "dataset's association"
        )
    if association.entity_owner_id != caller.id:
        raise PermissionDenied(
            f"only the owner of dataset {association.entity_name} may set its policy"
        )


def policies_on_benchmark(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, page: PageRequest = EVERYTHING
) -> Page[DatasetTermsPublic]:
    """Each dataset's policy on the benchmark, as the caller may see it: whole for the
    benchmark's owner (and admins) and for their own datasets; for a model owner with a
    model associated with the benchmark (pending or approved), the approved datasets'
    clauses that concern them; nothing for anyone else. By association id."""
    with ctx.store.transaction() as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        committee = caller.is_admin or caller.id == benchmark.owner_id
        model_owner = any(
            a.entity_owner_id == caller.id
            and a.status in (ApprovalStatus.PENDING, ApprovalStatus.APPROVED)
            for a in tx.list_associations(benchmark_id=benchmark.id, kind=AssociationKind.MODEL)
        )

        def whole(association: AssociationRecord) -> bool:
            return committee or association.entity_owner_id == caller.id

        def visible(association: AssociationRecord) -> bool:
            approved = association.status is ApprovalStatus.APPROVED
            return whole(association) or (model_owner and approved)

        def terms(association: AssociationRecord) -> DatasetTermsPublic:
            policy = association.policy
            if not whole(association):
                policy = for_model_owner(policy, caller.username)
            return DatasetTermsPublic(
                association_id=association.id,
                benchmark_id=benchmark.id,
                dataset_id=association.entity_id,
                dataset=association.entity_name,
                status=association.status,
                policy=policy,
            )

        found = visible_page(
            page,
            lambda after, n: tx.list_associations(
                benchmark.id, AssociationKind.DATASET, after=after, limit=n
            ),
            by_id,
            visible,
        )
        return found.map(terms)


def require_policy_allows(
    policy: DataPolicy, dataset_id: int, model: CubeRecord, runs: int, now: datetime
) -> None:
    """The dataset's ``policy`` on a benchmark (its association's) allows one more run of
    ``model`` (which has run ``runs`` times there), else ``PolicyRefused`` naming the
    clause."""
    require_allowed(policy, Execution(model.id, model.owner, dataset_id, runs), now.date())
