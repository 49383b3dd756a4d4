"""A dataset's preparation report, as the data owner sees it and may send it to the
benchmark's server (for the benchmark's owner to see where sites are stuck), and the
benchmark owner's list of them.

The report is built from the workflow's state alone (``client.preparation.report``): counts
per step and state, no case named, small cells withheld under the benchmark's minimum
cell size made stricter by the data owner's own. Sending it is recorded in the local audit
log with the hash of exactly what was sent.
"""

from __future__ import annotations

from medval.client.audit_log import LocalAuditLog, record
from medval.client.datasets import preparation_folder
from medval.client.http import MedvalClient
from medval.client.preparation.report import preparation_report
from medval.client.workspace import Workspace
from medval.core.errors import InvalidInput
from medval.core.preparation_report import PreparationReportCreate, PreparationReportPublic
from medval.core.small_cells import effective_min_cell_count


def report_benchmark(workspace: Workspace, name: str, benchmark_id: int | None) -> int:
    """The benchmark a dataset is prepared for: the one given, else the one it was prepared
    for here (a preparation still running or stopped has not recorded it: one line)."""
    if benchmark_id is not None:
        return benchmark_id
    for dataset in workspace.datasets():
        if dataset.name == name:
            return dataset.benchmark_id
    raise InvalidInput(
        f"dataset {name} has not finished preparing here, so medval does not know its "
        "benchmark: pass --benchmark"
    )


def build_preparation_report(
    client: MedvalClient,
    workspace: Workspace,
    name: str,
    benchmark_id: int,
    local_min_cell_count: int | None,
) -> PreparationReportCreate:
    """The report of dataset ``name`` as it would be sent for the benchmark."""
    benchmark = client.benchmark(benchmark_id)
    k = effective_min_cell_count(benchmark.min_cell_count, local_min_cell_count)
    return preparation_report(preparation_folder(workspace, name), name, benchmark.id, k)


def send_preparation_report(
    client: MedvalClient, audit: LocalAuditLog, report: PreparationReportCreate
) -> PreparationReportPublic:
    """Send ``report`` once its data owner has seen it and approved it."""
    sent = client.preparation_reports.send(report)
    record(audit, "send", "preparation_report", str(sent.id), report)
    return sent


def benchmark_preparation_reports(
    client: MedvalClient, benchmark_id: int
) -> list[PreparationReportPublic]:
    """Every site's report on the benchmark (its owner's to read)."""
    return client.preparation_reports.of_benchmark(benchmark_id)
