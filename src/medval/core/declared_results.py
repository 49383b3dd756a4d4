"""A result document checked against its benchmark's declared metrics.

One check, run in two places: by the data owner's client on the evaluator's document
before the review (so that only declared figures are shown, approved and sent), and by the
server on upload (so that nothing else is stored). A declared metric the document lacks,
or whose value cannot be on its declared scale (a proportion outside [0, 1], a ratio at or
below 0), is refused in one line; a metric reported as NaN (None) is allowed, since a site
may be unable to compute it. Metrics the declaration does not name are dropped and named
(the client keeps them on the site, the server refuses a document that still has them).

A benchmark that declares nothing (registered before declarations existed) keeps every
metric its evaluator reports: :func:`declared_document` returns the document as it is.

Imports: the core only.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from medval.core.declarations import MetricDeclaration, missing, out_of_scale
from medval.core.documents import MetricValue, ResultDocument
from medval.core.errors import InvalidInput

SCALE_WORDS = {
    "proportion": "a proportion, in [0, 1]",
    "ratio": "a ratio, above 0",
    "linear": "a number",
}


@dataclass(frozen=True)
class DeclaredDocument:
    """A document with only the declared metrics (in the declared order), and the names of
    the reported metrics the declaration does not name (in the evaluator's order)."""

    document: ResultDocument
    undeclared: list[str]


def declaration_problem(
    metrics: Sequence[MetricDeclaration], document: ResultDocument
) -> str | None:
    """Why ``document`` cannot be a result of a benchmark declaring ``metrics`` (one line,
    naming only declared metrics), or None when it can."""
    if not metrics:
        return None
    lacking = missing(metrics, list(document.metrics))
    if lacking:
        return f"declared metric(s) not reported: {', '.join(lacking)}"
    for declared in metrics:
        value = document.metrics[declared.name].value
        if value is not None and out_of_scale(declared, value):
            return (
                f"{declared.name} is {value:g}, outside its declared scale "
                f"({SCALE_WORDS[declared.scale.value]})"
            )
    return None


def declared_document(
    metrics: Sequence[MetricDeclaration],
    document: ResultDocument,
    what: str,
    small_cells: Collection[str] = (),
) -> DeclaredDocument:
    """``document`` as a benchmark declaring ``metrics`` takes it: only the declared metrics,
    in the declared order (none declared: every metric, as it is). ``what`` names the
    document in the one-line refusal (InvalidInput). A declared metric the site withheld
    as a small cell (``small_cells``: the names medval withheld) counts as reported
    missing: the site could not send it, as if it could not compute it."""
    if not metrics:
        return DeclaredDocument(document, [])
    absent = {
        m.name: MetricValue(value=None)
        for m in metrics
        if m.name in small_cells and m.name not in document.metrics
    }
    if absent:
        document = document.model_copy(update={"metrics": {**document.metrics, **absent}})
    problem = declaration_problem(metrics, document)
    if problem is not None:
        raise InvalidInput(f"{what}: {problem}")
    names = {m.name for m in metrics}
    kept = {m.name: document.metrics[m.name] for m in metrics}
    dropped = [name for name in document.metrics if name not in names]
    return DeclaredDocument(document.model_copy(update={"metrics": kept}), dropped)


def undeclared_line(names: Sequence[str]) -> str | None:
    """The one line that names reported metrics a declaration leaves out."""
    return f"not declared, so not shown: {', '.join(names)}" if names else None
