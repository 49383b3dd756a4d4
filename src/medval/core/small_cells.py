"""Small-cell suppression, done by medval itself on what a hospital may send.

A count of a few patients can identify them, whatever the cube that computed it did.
So before any statistics or results document is reviewed (and long before it is sent),
the client withholds, with ``k`` the data owner's ``min_cell_count`` (5 by default):

- in dataset statistics, every whole-number value ``c`` with ``0 < c < k`` (a count of
  a category, say). Within a group (a statistic that is a mapping of counts), when
  exactly one count is withheld, the smallest other non-zero count is withheld too, so
  that the hidden one cannot be recovered from the others and a total (the counts a
  free-form file nested in one mapping are one group too). With fewer than ``k`` cases,
  only ``n_cases`` is kept;
- in results, ``n_positive`` when it or ``n_cases - n_positive`` is below ``k`` (but not
  zero): the metrics stay, as they are aggregates over every case.

What is withheld is named in the review, as left out, like what a free-form file held
that medval will not send. Fractional values (means, proportions) are not counts and
are kept: a cube that reports the proportion of a tiny category is the benchmark's to
fix, and the data owner sees every number before approving.
"""

from __future__ import annotations

from collections.abc import Mapping

from medval.core.document_mapping import LeftOut
from medval.core.documents import DatasetStatistics, ResultDocument, StatisticValue

DEFAULT_MIN_CELL_COUNT = 5


def _reason(k: int) -> str:
    return f"a count below {k} (a small cell); medval withholds it"


def _small(value: object, k: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < k


def suppress_statistics(
    statistics: DatasetStatistics, k: int, groups: Mapping[str, str] | None = None
) -> tuple[DatasetStatistics, list[LeftOut]]:
    """``statistics`` without its small cells, and what was withheld (see the module).

    A group is a statistic that is a mapping of counts, or the top-level statistics
    that ``groups`` puts together (those a free-form file's mapping was flattened into).
    """
    withheld: list[LeftOut] = []
    if statistics.n_cases is not None and statistics.n_cases < k:
        reason = f"the dataset has fewer than {k} cases: only their number is sent"
        withheld = [LeftOut(path=name, reason=reason) for name in statistics.values]
        return statistics.model_copy(update={"values": {}}), withheld
    hidden: set[str] = set()
    flattened: dict[str, dict[str, float | int | None]] = {}
    for name, value in statistics.values.items():
        if isinstance(value, dict):
            continue
        group = (groups or {}).get(name)
        if group is not None:
            flattened.setdefault(group, {})[name] = value
        elif _small(value, k):
            hidden.add(name)
    for members in flattened.values():
        hidden.update(_hidden_in_group(members, k))
    kept: dict[str, StatisticValue] = {}
    for name, value in statistics.values.items():
        if isinstance(value, dict):
            inner = _hidden_in_group(value, k)
            withheld += [LeftOut(path=f"{name}.{key}", reason=_reason(k)) for key in inner]
            kept[name] = {key: v for key, v in value.items() if key not in inner}
        elif name in hidden:
            withheld.append(LeftOut(path=name, reason=_reason(k)))
        else:
            kept[name] = value
    return statistics.model_copy(update={"values": kept}), withheld


def _hidden_in_group(counts: Mapping[str, float | int | None], k: int) -> list[str]:
    """The small counts of a group, and with a single one the smallest other count."""
    hidden = [key for key, value in counts.items() if _small(value, k)]
    if len(hidden) == 1:
        others = [
            (value, key)
            for key, value in counts.items()
            if key not in hidden
            and isinstance(value, int)
            and not isinstance(value, bool)
            and value > 0
        ]
        if others:
            hidden.append(min(others)[1])
    return hidden


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
