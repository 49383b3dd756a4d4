"""Preparation reports: a site sends how far its preparation workflow got (counts per step
and state, no case named, small cells withheld), and the benchmark's owner lists them to
see where sites are stuck.

Any account may send one for a benchmark it can see (a site stuck before registering its
dataset is the one to hear from). The server runs the same small-cell rule as the client
(``core.preparation_report``) under the benchmark's minimum cell size and refuses a report
that breaks it; it never fills in what was withheld. The store logs every report added.
"""

from __future__ import annotations

from medval.core.errors import InvalidInput
from medval.core.paging import EVERYTHING, PageRequest
from medval.core.preparation_report import PreparationReportCreate, small_cells_in_report
from medval.server.services.benchmarks import visible_benchmark
from medval.server.services.context import ServiceContext
from medval.server.services.paging import Page, by_id, visible_page
from medval.server.services.permissions import require_owner_or_admin
from medval.server.store.records import PreparationReportRecord, UserRecord


def send_preparation_report(
    ctx: ServiceContext, caller: UserRecord, body: PreparationReportCreate
) -> PreparationReportRecord:
    with ctx.transaction(caller) as tx:
        benchmark = visible_benchmark(tx, caller, body.benchmark_id)
        if body.min_cell_count < benchmark.min_cell_count:
            raise InvalidInput(
                f"the preparation report withholds counts below {body.min_cell_count}; "
                f"benchmark {benchmark.name} asks for at least {benchmark.min_cell_count}"
            )
        found = small_cells_in_report(body, body.min_cell_count)
        if found:
            raise InvalidInput(f"preparation report refused: {found[0]}")
        return tx.add_preparation_report(caller.id, body, ctx.clock())


def benchmark_preparation_reports(
    ctx: ServiceContext, caller: UserRecord, benchmark_id: int, page: PageRequest = EVERYTHING
) -> Page[PreparationReportRecord]:
    """The benchmark's reports, oldest first: its owner's (and admins') to read."""
    with ctx.store.transaction() as tx:
        benchmark = visible_benchmark(tx, caller, benchmark_id)
        require_owner_or_admin(caller, benchmark.owner_id, f"benchmark {benchmark.name}")
        return visible_page(
            page,
            lambda after, n: tx.list_preparation_reports(benchmark_id, after=after, limit=n),
            by_id,
        )
