"""Aggregators: machines that run Flower's SuperLink for training experiments.

Anyone may register one, by name (unique), address (a host name or an IP address, the
one its certificate will name) and port; every logged-in account may see them, since an
experiment names its aggregator and each site is shown where its updates go.
"""

from __future__ import annotations

from medval.core.paging import EVERYTHING, PageRequest
from medval.core.training_schemas import AggregatorCreate
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import not_found
from medval.server.store.interface import StoreTransaction
from medval.server.store.records import AggregatorRecord, UserRecord


def register_aggregator(
    ctx: ServiceContext, caller: UserRecord, body: AggregatorCreate
) -> AggregatorRecord:
    with ctx.transaction(caller) as tx:
        return tx.add_aggregator(caller.id, body, ctx.clock())


def existing_aggregator(tx: StoreTransaction, aggregator_id: int) -> AggregatorRecord:
    aggregator = tx.aggregator(aggregator_id)
    if aggregator is None:
        raise not_found("aggregator", aggregator_id)
    return aggregator


def get_aggregator(ctx: ServiceContext, aggregator_id: int) -> AggregatorRecord:
    with ctx.store.transaction() as tx:
        return existing_aggregator(tx, aggregator_id)


def list_aggregators(
    ctx: ServiceContext, name: str | None, page: PageRequest = EVERYTHING
) -> Page[AggregatorRecord]:
    with ctx.store.transaction() as tx:
        return visible_page(
            page, lambda after, n: tx.list_aggregators(name, after=after, limit=n), by_id
        )
