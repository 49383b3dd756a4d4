"""Small-cell suppression, done by medval itself on what a hospital may send.

A count of a few patients can identify them, whatever the cube that computed it did.
So before any statistics or results document is reviewed (and long before it is sent),
the client withholds, with ``k`` the data owner's ``min_cell_count`` (5 by default):

- in dataset statistics, every whole-number value ``c`` with ``0 < c < k`` (a count of
  a category, say). Within a group (a statistic that is a mapping of counts), when
  exactly one count is withheld, the smallest other non-zero count is withheld too, so
  that the hidden one cannot be recovered from the others and a total. With fewer than
  ``k`` cases, only ``n_cases`` is kept;
- in results, ``n_positive`` when it or ``n_cases - n_positive`` is below ``k`` (but not
  zero): the metrics stay, as they are aggregates over every case.

What is withheld is named in the review, as left out, like what a free-form file held
that medval will not send. Fractional values (means, proportions) are not counts and
are kept: a cube that reports the proportion of a tiny category is the benchmark's to
fix, and the data owner sees every number before approving.
"""

from __future__ import annotations

from medval.core.document_mapping import LeftOut
from medval.core.documents import DatasetStatistics, ResultDocument, StatisticValue

DEFAULT_MIN_CELL_COUNT = 5


def _reason(k: int) -> str:
    return f"a count below {k} (a small cell); medval withholds it"


def _small(value: object, k: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < k


def suppress_statistics(
    statistics: DatasetStatistics, k: int
) -> tuple[DatasetStatistics, list[LeftOut]]:
    """``statistics`` without its small cells, and what was withheld (see the module)."""
    withheld: list[LeftOut] = []
    if statistics.n_cases is not None and statistics.n_cases < k:
        reason = f"the dataset has fewer than {k} cases: only their number is sent"
        withheld = [LeftOut(path=name, reason=reason) for name in statistics.values]
        return statistics.model_copy(update={"values": {}}), withheld
    kept: dict[str, StatisticValue] = {}
    for name, value in statistics.values.items():
        if isinstance(value, dict):
            group, hidden = _suppressed_group(value, k)
            withheld += [LeftOut(path=f"{name}.{key}", reason=_reason(k)) for key in hidden]
            kept[name] = group
        elif _small(value, k):
            withheld.append(LeftOut(path=name, reason=_reason(k)))
        else:
            kept[name] = value
    return statistics.model_copy(update={"values": kept}), withheld


def _suppressed_group(
    counts: dict[str, float | int | None], k: int
) -> tuple[dict[str, float | int | None], list[str]]:
    hidden = [key for key, value in counts.items() if _small(value, k)]
    if len(hidden) == 1:
        others = [
            (value, key)
            for key, value in counts.items()
            if key not in hidden and isinstance(value, int) and value > 0
        ]
        if others:
            hidden.append(min(others)[1])
    return {key: value for key, value in counts.items() if key not in hidden}, hidden


def suppress_result(result: ResultDocument, k: int) -> tuple[ResultDocument, list[LeftOut]]:
    """``result`` without a small ``n_positive`` (see the module), and what was withheld."""
    n, positive = result.n_cases, result.n_positive
    if positive is None:
        return result, []
    negative = n - positive if n is not None else None
    if _small(positive, k) or (negative is not None and _small(negative, k)):
        withheld = LeftOut(path="n_positive", reason=_reason(k))
        return result.model_copy(update={"n_positive": None}), [withheld]
    return result, []
