"""How records, results, metrics and leaderboards look in a terminal.

A record (``show``) is rendered from its schema: every field the API exposes, in the
schema's order, so a new field shows there with no CLI edit. A list table shows a chosen
summary of a resource (``columns``), named next to its commands and checked against the
schema when the CLI is imported, so a renamed field fails loudly instead of showing "-";
a new field joins a list only where someone adds its name.

Results and leaderboards (:mod:`medval.cli.leaderboard_view`) show the metrics their
benchmark declares (:mod:`medval.core.declarations`), headed by their declared labels, in
the declared order (a benchmark declaring none: the metrics its evaluator reports, as
inferred): at most :data:`MAX_METRIC_COLUMNS` of them (the primary metric always among
them), the others named in the table's caption and shown in full by ``--format json``. A
metric the evaluator reported as NaN shows as ``missing``; one absent from a row as ``-``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from rich.table import Table

from medval.core.declarations import inferred_metrics

if TYPE_CHECKING:  # the session renders with these functions; only commands pass one here
    from medval.cli.context import OutputFormat, Session

    # Only named in annotations here: ``results list --local`` starts without the API's
    # schemas (issue 14), and a command that shows them has imported them already.
    from medval.client.workspace import LocalResult
    from medval.core.declarations import MetricDeclaration, SubgroupDeclaration
    from medval.core.document_mapping import LeftOut
    from medval.core.documents import MetricValue, ResultDocument
    from medval.core.result_schemas import PooledMetric, ResultPublic
    from medval.core.schemas import AuditEntryPublic
    from medval.core.states import ExecutionStatus

# A table shows at most this many metrics (the first declared, the primary among them);
# the rest are named under it and shown in full by --format json.
MAX_METRIC_COLUMNS = 5


def columns(schema: type[BaseModel], *names: str) -> list[str]:
    """A list table's columns: some of ``schema``'s fields, by name, checked now."""
    unknown = [name for name in names if name not in schema.model_fields]
    if unknown:
        raise ValueError(f"{schema.__name__} has no field {', '.join(unknown)}")
    return list(names)


def cell(value: Any) -> str:
    """One value as a table shows it (JSON values already: enums and dates are strings)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))[:120]
    return str(value)


def record_table(
    record: BaseModel, title: str | None = None, shown_apart: frozenset[str] = frozenset()
) -> Table:
    """Every field of one record, one per line (those ``shown_apart``: by a table of their
    own, which the caller prints)."""
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in record.model_dump(mode="json", exclude=set(shown_apart)).items():
        table.add_row(key, cell(value))
    return table


def rows_table(
    rows: Sequence[BaseModel], names: Sequence[str] | None = None, title: str | None = None
) -> Table:
    """Records as rows: the given columns, or every field of the rows' schema."""
    table = Table(title=title, show_lines=False)
    names = list(names or (type(rows[0]).model_fields if rows else []))
    for name in names:
        table.add_column(name)
    for row in rows:
        data = row.model_dump(mode="json")
        table.add_row(*(cell(data.get(name)) for name in names))
    return table


def interval(metric: MetricValue | PooledMetric | None, stacked: bool = False) -> str:
    """``0.712 [0.650, 0.770]``: the estimate with its 95% interval (stacked: two lines);
    ``-`` when there is no such metric, ``missing`` when the evaluator reported NaN."""
    if metric is None:
        return "-"
    if metric.value is None:
        return "missing"
    if metric.lower is None or metric.upper is None:
        return f"{metric.value:.3f}"
    separator = "\n" if stacked else " "
    return f"{metric.value:.3f}{separator}[{metric.lower:.3f}, {metric.upper:.3f}]"


def count(value: int | None) -> str:
    """A count a document may lack (MedPerf's results have none)."""
    return "-" if value is None else str(value)


# --- metrics: whichever the evaluator reports, in its own order ---------------------------


def metric_order(metrics: Iterable[Mapping[str, object]]) -> list[str]:
    """Every metric name of these documents, in the order the evaluator first wrote them."""
    return list(dict.fromkeys(name for document in metrics for name in document))


def shown_metrics(
    order: Sequence[str], primary: str | None = None, limit: int = MAX_METRIC_COLUMNS
) -> tuple[list[str], list[str]]:
    """The metric columns a table shows (at most ``limit``, the primary one among them)
    and those it leaves to ``--format json``."""
    shown = list(order[:limit])
    if primary is not None and primary in order and primary not in shown:
        shown = [primary, *shown[: limit - 1]]
    return shown, [name for name in order if name not in shown]


def more_metrics(hidden: Sequence[str]) -> str | None:
    """A table's caption naming the metrics it has no room for."""
    if not hidden:
        return None
    names = ", ".join(hidden[:6]) + (", …" if len(hidden) > 6 else "")
    return f"{len(hidden)} more metric(s): {names}; --format json shows every one"


def metric_column(table: Table, header: str) -> None:
    # Labels stay whole; the intervals wrap instead.
    table.add_column(header, no_wrap=True, min_width=14)


def subgroups_table(subgroups: Sequence[SubgroupDeclaration]) -> Table:
    """A benchmark's declared subgroup variables, with their levels."""
    table = Table(title="declared subgroups")
    for column in ("variable", "label", "levels"):
        table.add_column(column)
    for s in subgroups:
        table.add_row(s.name, s.label, ", ".join(s.levels) if s.levels else "as reported")
    return table


def declared_table(metrics: Sequence[MetricDeclaration], title: str = "declared metrics") -> Table:
    """A benchmark's declared metrics, one a row, as its declarations file says them."""
    table = Table(title=title)
    for column in ("metric", "label", "better", "pooled as", "of", "primary"):
        table.add_column(column)
    for m in metrics:
        table.add_row(
            m.name,
            m.label,
            m.direction.value,
            m.scale.value,
            m.of.value if m.of else "-",
            "yes" if m.primary else "",
        )
    return table


def print_result_document(
    session: Session, document: ResultDocument, title: str, left_out: Sequence[LeftOut] = ()
) -> None:
    """Every metric of one result (one per line, so none is capped), and what is left out."""
    counts = f"{count(document.n_cases)} cases"
    if document.n_positive is not None:  # a segmentation's results have no events
        counts += f", {count(document.n_positive)} events"
    table = Table(title=f"{title}: {counts}")
    table.add_column("metric")
    table.add_column("estimate (95% CI)")
    for name, metric in document.metrics.items():
        table.add_row(name, interval(metric))
    for variable, levels in (document.subgroups or {}).items():
        for level, found in levels.items():
            where = f"{variable}={level} ({found.n_cases} cases)"
            for name, metric in found.metrics.items():
                table.add_row(f"{name}, {where}", interval(metric))
    session.err.print(table)  # informational; stdout stays clean for --format json
    print_left_out(session, left_out, "the evaluator's results")


def print_left_out(session: Session, left_out: Sequence[LeftOut], what: str) -> None:
    """Name what of a cube's file medval will not send (see core.document_mapping), and
    what medval withheld as small cells (core.small_cells)."""
    for small, heading in (
        (False, f"Left out of {what}: kept on this machine, never sent:"),
        (True, f"Withheld from {what} as small cells: kept on this machine, never sent:"),
    ):
        items = [item for item in left_out if item.small_cell is small]
        if items:
            session.err.print(heading, markup=False, highlight=False)
        for item in items:
            session.err.print(f"  - {item.path}: {item.reason}", markup=False, highlight=False)


def status_text(status: ExecutionStatus, failure: str | None) -> str:
    """How a table shows an execution's end: ``succeeded``, or ``failed: REASON``."""
    return f"{status.value}: {failure}" if failure else status.value


def _metrics(document: ResultDocument | None) -> dict[str, MetricValue]:
    return document.metrics if document is not None else {}


def _cases(document: ResultDocument | None) -> str:
    return count(document.n_cases) if document is not None else "-"


Declared = Mapping[int, Sequence["MetricDeclaration"]]


def results_metrics(
    results: Sequence[ResultPublic], declared: Declared | None = None
) -> list[MetricDeclaration]:
    """The metric columns of results (of one benchmark or several): each benchmark's
    declared metrics, in order, each name once; for a benchmark without a declaration,
    the metrics its results report, as inferred."""
    found: dict[str, MetricDeclaration] = {}
    for benchmark_id in dict.fromkeys(r.benchmark_id for r in results):
        metrics = (declared or {}).get(benchmark_id) or inferred_metrics(
            metric_order(_metrics(r.document) for r in results if r.benchmark_id == benchmark_id)
        )
        for metric in metrics:
            found.setdefault(metric.name, metric)
    return list(found.values())


def results_table(
    results: Sequence[ResultPublic], title: str = "results", declared: Declared | None = None
) -> Table:
    """Released results (failed executions with their reason), with the metrics their
    benchmarks declare (``declared``, by benchmark id), headed by their labels."""
    metrics = results_metrics(results, declared)
    labels = {m.name: m.label for m in metrics}
    shown, hidden = shown_metrics(list(labels))
    table = Table(title=title, caption=more_metrics(hidden))
    for column in ("id", "benchmark_id", "model", "dataset", "status", "n_cases"):
        table.add_column(column)
    for name in shown:
        table.add_column(labels[name])
    for r in results:
        table.add_row(
            str(r.id),
            str(r.benchmark_id),
            r.model,
            r.dataset,
            status_text(r.status, r.failure),
            _cases(r.document),
            *(interval(_metrics(r.document).get(name)) for name in shown),
        )
    return table


def print_results(
    session: Session,
    results: Sequence[ResultPublic],
    fmt: OutputFormat,
    declared: Declared | None = None,
) -> None:
    """Released results: every field as JSON, or a table of their declared metrics."""

    from medval.cli.flat_rows import result_rows

    session.render(
        fmt,
        results,
        lambda: session.out.print(
            results_table(results, declared=declared) if results else "(no results)"
        ),
        lambda: result_rows(results),
        first=("id", "benchmark_id", "model", "dataset", "status", "n_cases"),
    )


def local_results_table(results: Sequence[LocalResult], title: str = "local results") -> Table:
    """Results computed here, with their metrics, what is left out, and upload state."""
    shown, hidden = shown_metrics(metric_order(_metrics(r.document) for r in results))
    table = Table(title=title, caption=more_metrics(hidden))
    columns = ("key", "dataset", "model", "status", "n_cases", *shown, "left out", "uploaded")
    for column in columns:
        table.add_column(column)
    for r in results:
        table.add_row(
            r.key,
            r.dataset,
            r.model,
            status_text(r.status, r.failure),
            _cases(r.document),
            *(interval(_metrics(r.document).get(name)) for name in shown),
            str(len(r.left_out)),
            f"{r.uploaded_at:%Y-%m-%d %H:%M}" if r.uploaded_at else "no",
        )
    return table


def _short_entity(entity_id: str) -> str:
    """A content hash cut to 12 characters, as the hashes beside it; a name in full."""
    is_hash = len(entity_id) == 64 and all(c in "0123456789abcdef" for c in entity_id)
    return entity_id[:12] if is_hash else entity_id


def audit_table(entries: Sequence[AuditEntryPublic], title: str = "audit log") -> Table:
    """Audit entries, one a row; hashes cut to 12 characters (``--format json``: in full)."""
    table = Table(title=title)
    for name in ("seq", "at", "actor", "action", "entity", "before", "after", "entry"):
        table.add_column(name)
    for e in entries:
        table.add_row(
            str(e.seq),
            e.at.isoformat(timespec="seconds"),
            e.actor,
            e.action,
            f"{e.entity_kind} {_short_entity(e.entity_id)}",
            (e.before_hash or "-")[:12],
            (e.after_hash or "-")[:12],
            e.entry_hash[:12],
        )
    return table
