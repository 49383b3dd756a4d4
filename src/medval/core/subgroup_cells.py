"""Small cells in a result's subgroups: a level is withheld whole, never in part.

A level of a subgroup variable (the 50-69 year olds, grade 3) describes fewer patients
than the whole site, so the benchmark's minimum cell size ``k`` (:mod:`medval.core.small_cells`)
bites harder there. Before the review, the data owner's client drops from the document:

- every level with fewer than ``k`` cases (``0 < n_cases < k``), or fewer than ``k``
  positive or negative cases where ``n_positive`` is known, or in which the rules for a
  whole result find any small cell (:func:`small_cells_in_result`: a metric written as a
  small count, a proportion pinned to a small count...);
- the smallest other level of a variable when the levels kept leave between 1 and ``k - 1``
  cases (or positives, or negatives) of the site's total unaccounted for: otherwise the
  total minus the levels sent would give a withheld level's count (or the count of a
  level the evaluator left out, such as "unknown").

A withheld level is dropped from the document (not replaced by a marker: the payload
holds only what is sent) and named in the review, with why, as every small cell is
(``LeftOut`` with ``small_cell``, path ``subgroups.VARIABLE.LEVEL``). The server runs
:func:`small_cells_in_subgroups` on upload and refuses a document in which it finds one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from medval.core.declarations import SubgroupDeclaration
from medval.core.document_mapping import LeftOut
from medval.core.documents import ResultDocument, SubgroupResult
from medval.core.small_cells import SmallCell, small_cells_in_result


def level_path(variable: str, level: str) -> str:
    return f"subgroups.{variable}.{level}"


def _negatives(n_cases: int | None, n_positive: int | None) -> int | None:
    return None if n_cases is None or n_positive is None else n_cases - n_positive


def _level_reason(level: SubgroupResult, k: int) -> str | None:
    """Why a level is a small cell on its own, or None."""
    if 0 < level.n_cases < k:
        return f"{level.n_cases} cases, fewer than the minimum cell size {k}"
    if level.n_positive is not None and 0 < level.n_positive < k:
        return f"{level.n_positive} positive cases, fewer than the minimum cell size {k}"
    negative = _negatives(level.n_cases, level.n_positive)
    if negative is not None and 0 < negative < k:
        return f"{negative} negative cases, fewer than the minimum cell size {k}"
    as_result = ResultDocument(
        n_cases=level.n_cases, n_positive=level.n_positive, metrics=level.metrics
    )
    cells = small_cells_in_result(as_result, k)
    return f"{cells[0].path}: {cells[0].reason}" if cells else None


_COUNTS: dict[str, Callable[[int | None, int | None], int | None]] = {
    "cases": lambda n, p: n,
    "positive cases": lambda n, p: p,
    "negative cases": _negatives,
}


def _rest_reason(
    document: ResultDocument, kept: Mapping[str, SubgroupResult], k: int
) -> str | None:
    """Why the levels ``kept`` would reveal what is not sent (their counts subtracted
    from the site's), or None."""
    for what, count in _COUNTS.items():
        total = count(document.n_cases, document.n_positive)
        parts = [count(level.n_cases, level.n_positive) for level in kept.values()]
        if total is None or any(part is None for part in parts):
            continue
        rest = total - sum(part for part in parts if part is not None)
        if 0 < rest < k:
            return (
                f"the site's total less the levels sent would leave {rest} {what}, fewer than {k}"
            )
    return None


def small_cells_in_subgroups(document: ResultDocument, k: int) -> list[SmallCell]:
    """The levels of ``document``'s subgroups to withhold (see the module)."""
    cells: list[SmallCell] = []
    for variable, levels in (document.subgroups or {}).items():
        small = {}
        for name, level in levels.items():
            reason = _level_reason(level, k)
            if reason is not None:
                small[name] = reason
        cells += [SmallCell(level_path(variable, name), why) for name, why in small.items()]
        kept = {name: level for name, level in levels.items() if name not in small}
        reason = _rest_reason(document, kept, k)
        if reason is not None and kept:
            smallest = min(kept, key=lambda name: (kept[name].n_cases, name))
            cells.append(SmallCell(level_path(variable, smallest), reason))
    return cells


def suppress_subgroups(document: ResultDocument, k: int) -> tuple[ResultDocument, list[LeftOut]]:
    """``document`` without its small subgroup levels, and what was withheld; repeated
    until nothing more is found, so that the server's check finds nothing in what is
    sent. A variable left with no level is dropped too."""
    withheld: list[LeftOut] = []
    while cells := small_cells_in_subgroups(document, k):
        withheld += [LeftOut(path=c.path, reason=c.reason, small_cell=True) for c in cells]
        paths = {c.path for c in cells}
        kept = {
            variable: {
                name: level
                for name, level in levels.items()
                if level_path(variable, name) not in paths
            }
            for variable, levels in (document.subgroups or {}).items()
        }
        document = document.model_copy(
            update={"subgroups": {v: levels for v, levels in kept.items() if levels} or None}
        )
    return document, withheld


def not_declared(document: ResultDocument, declared: Sequence[SubgroupDeclaration]) -> str | None:
    """Why ``document``'s subgroups are not the benchmark's declared ones (a variable it
    does not declare, or a level outside a variable's declared levels), or None."""
    by_name = {d.name: d for d in declared}
    for variable, levels in (document.subgroups or {}).items():
        declaration = by_name.get(variable)
        if declaration is None:
            names = ", ".join(by_name) or "none"
            return f"subgroup variable {variable} is not declared by the benchmark ({names})"
        if declaration.levels is not None:
            extra = [level for level in levels if level not in declaration.levels]
            if extra:
                return (
                    f"subgroup {variable} has level {extra[0]}, not one declared "
                    f"({', '.join(declaration.levels)})"
                )
    return None
