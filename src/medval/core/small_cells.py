"""Small-cell suppression, done by medval itself on what a hospital may send.

A count of a few patients can identify them, whatever the cube that computed it did.
The benchmark declares its minimum cell size ``k`` (``min_cell_count``, 10 by default,
never below :data:`LOWEST_MIN_CELL_COUNT`). Before any statistics or results document
is reviewed (and long before it is sent), the data owner's client withholds:

- every **count** below ``k`` (``0 < c < k``): ``n_cases``, ``n_positive`` and its
  complement ``n_cases - n_positive``, and every value written as a whole number
  (:func:`medval.core.proportions.is_count_like`: ``3`` is a count, ``3.0`` a
  measure). Within a group (a statistic that is a mapping of counts, or the statistics
  a free-form file's mapping was flattened into), when exactly one count is withheld,
  the smallest other non-zero count goes with it, so that the hidden one cannot be
  recovered from the others and a total;
- every **proportion computed from a small count**: a value between 0 and 1 (or a
  bound of its interval) that pins ``c/d`` (:mod:`medval.core.proportions`) for a
  known count ``d`` (``n_cases``, ``n_positive``, ``n_cases - n_positive``, any count
  in the document, a group's total) where ``c``, ``d - c`` or ``d`` is below ``k``;
- with fewer than ``k`` cases, everything (``n_cases`` too);
- in results with fewer than ``k`` positive (or negative) cases, every metric with a
  value between 0 and 1, since medval cannot tell which are proportions of that group.

What is withheld is named in the review, with why. The server runs the same check
(:func:`small_cells_in_statistics`, :func:`small_cells_in_result`, without the groups
a free-form file had) and refuses a document in which it finds anything.

Not recognised: a proportion of a count the document does not hold (a positive
predictive value, a subgroup's rate whose size is not reported), a percentage, a rate
per 1,000, an odds, an interval computed from a small count that is not itself a
proportion of one, a count written with a decimal point (``2.0``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from medval.core.document_mapping import LeftOut
from medval.core.documents import DatasetStatistics, MetricValue, ResultDocument, StatisticValue
from medval.core.proportions import is_count_like, pinned_counts

DEFAULT_MIN_CELL_COUNT = 10
# Below 5, counts of one to four patients (the ones that identify people) could leave.
LOWEST_MIN_CELL_COUNT = 5


@dataclass(frozen=True)
class SmallCell:
    """A value medval withholds: its path in the document, and why."""

    path: str
    reason: str


def effective_min_cell_count(benchmark_k: int, local_k: int | None) -> int:
    """The benchmark's ``k``, made stricter (never looser) by the data owner's own."""
    return max(benchmark_k, local_k or 0)


def _small(count: int | float, k: int) -> bool:
    return 0 < count < k


def _count_reason(count: int | float, k: int) -> str:
    return f"a count of {count:g}, below the minimum cell size {k}"


def _few_cases(k: int) -> str:
    return f"the data has fewer than {k} cases (the minimum cell size): nothing of it is sent"


class _Cells:
    """Cells found so far, by path, in the order found (the first is the one refused)."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, path: str, reason: str) -> None:
        self.found.setdefault(path, reason)

    def __contains__(self, path: object) -> bool:
        return path in self.found

    def cells(self) -> list[SmallCell]:
        return [SmallCell(path, reason) for path, reason in self.found.items()]


def _proportion_reason(value: float, totals: Collection[int], k: int) -> str | None:
    """Why ``value`` is a proportion of a small count, or None when it is not one (an
    exact ``c/d`` is named before one that only rounds to ``value``)."""
    for rounded in (False, True):
        for total in sorted(set(totals)):
            for count in sorted(pinned_counts(value, total, rounded)):
                if _small(count, k) or _small(total - count, k) or _small(total, k):
                    return f"{value:g} is {count} of {total}, a proportion of a count below {k}"
    return None


# --- statistics -----------------------------------------------------------------------


def small_cells_in_statistics(
    statistics: DatasetStatistics, k: int, groups: Mapping[str, str] | None = None
) -> list[SmallCell]:
    """What of ``statistics`` is a small cell (see the module), small counts first."""
    cells = _Cells()
    n = statistics.n_cases
    if n is not None and _small(n, k):
        cells.add("n_cases", _count_reason(n, k))
        for path, _, _ in _entries(statistics.values, groups):
            cells.add(path, _few_cases(k))
        return cells.cells()
    entries = _entries(statistics.values, groups)
    members: dict[str, list[tuple[str, int | float]]] = {}
    for path, value, group in entries:
        if value is not None and is_count_like(value):
            if group is not None:
                members.setdefault(group, []).append((path, value))
            if _small(value, k):
                cells.add(path, _count_reason(value, k))
    for group_counts in members.values():
        small = [path for path, _ in group_counts if path in cells]
        others = [(value, path) for path, value in group_counts if path not in cells and value > 0]
        if len(small) == 1 and others:
            cells.add(min(others)[1], f"withheld with {small[0]}: a total would reveal it")
    totals = [int(value) for _, value, _ in entries if value is not None and is_count_like(value)]
    totals += [int(sum(value for _, value in group)) for group in members.values()]
    totals += [n] if n is not None else []
    for path, value, _ in entries:
        if value is not None and path not in cells and not is_count_like(value):
            reason = _proportion_reason(value, [t for t in totals if t > 0], k)
            if reason is not None:
                cells.add(path, reason)
    return cells.cells()


def _entries(
    values: Mapping[str, StatisticValue], groups: Mapping[str, str] | None
) -> list[tuple[str, int | float | None, str | None]]:
    """Every number of the statistics: its path, value and group (None: on its own)."""
    found: list[tuple[str, int | float | None, str | None]] = []
    for name, value in values.items():
        if isinstance(value, dict):
            found += [(f"{name}.{key}", inner, name) for key, inner in value.items()]
        else:
            found.append((name, value, (groups or {}).get(name)))
    return found


def _without(statistics: DatasetStatistics, paths: set[str]) -> DatasetStatistics:
    kept: dict[str, StatisticValue] = {}
    for name, value in statistics.values.items():
        if isinstance(value, dict):
            kept[name] = {key: v for key, v in value.items() if f"{name}.{key}" not in paths}
        elif name not in paths:
            kept[name] = value
    n_cases = None if "n_cases" in paths else statistics.n_cases
    return statistics.model_copy(update={"values": kept, "n_cases": n_cases})


def suppress_statistics(
    statistics: DatasetStatistics, k: int, groups: Mapping[str, str] | None = None
) -> tuple[DatasetStatistics, list[LeftOut]]:
    """``statistics`` without its small cells, and what was withheld (see the module).

    Repeated until nothing more is found, so that the server's check (the same, without
    ``groups``) finds nothing in what is sent.
    """
    withheld: list[LeftOut] = []
    while cells := small_cells_in_statistics(statistics, k, groups):
        withheld += [LeftOut(path=c.path, reason=c.reason, small_cell=True) for c in cells]
        statistics = _without(statistics, {c.path for c in cells})
    return statistics, withheld


# --- results --------------------------------------------------------------------------


def _numbers(metric: MetricValue) -> list[float]:
    return [v for v in (metric.value, metric.lower, metric.upper) if v is not None]


def small_cells_in_result(result: ResultDocument, k: int) -> list[SmallCell]:
    """What of ``result`` is a small cell (see the module), small counts first."""
    cells = _Cells()
    n, positive = result.n_cases, result.n_positive
    if n is not None and _small(n, k):
        cells.add("n_cases", _count_reason(n, k))
        if positive is not None:
            cells.add("n_positive", _few_cases(k))
        for name in result.metrics:
            cells.add(f"metrics.{name}", _few_cases(k))
        return cells.cells()
    negative = n - positive if n is not None and positive is not None else None
    small_group = ""
    if positive is not None and _small(positive, k):
        cells.add("n_positive", _count_reason(positive, k))
        small_group = "positive"
    elif negative is not None and _small(negative, k):
        cells.add("n_positive", f"n_cases - n_positive is {negative}, below {k}")
        small_group = "negative"
    for name, metric in result.metrics.items():
        small = [v for v in _numbers(metric) if is_count_like(v) and _small(v, k)]
        if small:
            cells.add(f"metrics.{name}", _count_reason(small[0], k))
    totals = [t for t in (n, positive, negative) if t is not None and t > 0]
    totals += [
        int(v) for m in result.metrics.values() for v in _numbers(m) if is_count_like(v) and v > 0
    ]
    for name, metric in result.metrics.items():
        path = f"metrics.{name}"
        for value in _numbers(metric):
            if is_count_like(value):
                continue  # a count: judged as one above, never as a proportion
            if small_group and 0 <= value <= 1:
                cells.add(
                    path,
                    f"fewer than {k} {small_group} cases: a value between 0 and 1 "
                    "may be a proportion of them",
                )
            reason = _proportion_reason(value, totals, k)
            if reason is not None:
                cells.add(path, reason)
    return cells.cells()


def suppress_result(result: ResultDocument, k: int) -> tuple[ResultDocument, list[LeftOut]]:
    """``result`` without its small cells, and what was withheld (see the module)."""
    withheld: list[LeftOut] = []
    while cells := small_cells_in_result(result, k):
        withheld += [
            LeftOut(path=c.path.removeprefix("metrics."), reason=c.reason, small_cell=True)
            for c in cells
        ]
        paths = {c.path for c in cells}
        result = result.model_copy(
            update={
                "n_cases": None if "n_cases" in paths else result.n_cases,
                "n_positive": None if "n_positive" in paths else result.n_positive,
                "metrics": {
                    name: metric
                    for name, metric in result.metrics.items()
                    if f"metrics.{name}" not in paths
                },
            }
        )
    return result, withheld
