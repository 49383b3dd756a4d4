"""Small cells in a site's own training metrics: what of a ClientApp's reply may leave.

A training reply's metrics are computed on the site's examples of that round; when they
are few, a loss or an accuracy can say something about the patients behind them. As for
evaluation (:mod:`medval.core.small_cells`), the minimum cell size ``k`` is 10 by
default, made stricter (never looser) by the data owner's own ``MEDVAL_MIN_CELL_COUNT``
(:func:`~medval.core.small_cells.effective_min_cell_count`). A reply whose number of
examples (its ``num-examples`` metric, the one Flower's strategies weigh by; ``num_examples``
in the replies of Flower's legacy API, as ``flwr.compat`` writes them) is below ``k``, or
that does not say it, sends none of its metrics. A reply with no metrics has nothing to
withhold (SecAgg+'s stages, an error).

What may leave is named ``<kind>.<name>`` (``train.train-loss``, ``evaluate.accuracy``):
one record per round and site holds both kinds. A value that is not a finite number, or a
name the server would not take, is left out and said. Imports nothing but ``core``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from medval.core.small_cells import DEFAULT_MIN_CELL_COUNT, effective_min_cell_count

NUM_EXAMPLES = "num-examples"
LEGACY_NUM_EXAMPLES = "num_examples"
# The kinds of reply whose metrics a site reports (Flower's train and evaluate messages).
REPORTED_KINDS = frozenset({"train", "evaluate"})
# As the server's MetricName (core.training_schemas).
_METRIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$")

Number = int | float


@dataclass(frozen=True)
class ReleasableMetrics:
    """What of one reply may leave (by its name on the server), and what is left out, why."""

    metrics: dict[str, Number] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)


def training_min_cell_count(local_k: int | None) -> int:
    """``k`` for a site's training metrics: the default, or the data owner's if stricter."""
    return effective_min_cell_count(DEFAULT_MIN_CELL_COUNT, local_k)


def releasable_metrics(
    message_kind: str, metrics: Mapping[str, Number], k: int
) -> ReleasableMetrics:
    """The metrics of one reply that may leave the site, named ``<kind>.<name>``."""
    if message_kind not in REPORTED_KINDS:
        return ReleasableMetrics(withheld=[f"a {message_kind} reply's metrics are not reported"])
    if not metrics:
        return ReleasableMetrics()
    examples = metrics.get(NUM_EXAMPLES, metrics.get(LEGACY_NUM_EXAMPLES))
    if examples is None:
        return ReleasableMetrics(
            withheld=[
                f"the {message_kind} reply does not say its number of examples "
                f"({NUM_EXAMPLES}): none of its metrics is sent"
            ]
        )
    if examples < k:
        return ReleasableMetrics(
            withheld=[
                f"the {message_kind} reply counts {examples:g} examples, fewer than the "
                f"minimum cell size {k}: none of its metrics is sent"
            ]
        )
    kept: dict[str, Number] = {}
    withheld: list[str] = []
    for name, value in metrics.items():
        named = f"{message_kind}.{name}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            withheld.append(f"{named} is not a number")
        elif not math.isfinite(value):
            withheld.append(f"{named} is not a finite number ({value})")
        elif _METRIC_NAME.match(named) is None:
            withheld.append(f"{named!r} is not a metric name the server takes")
        else:
            kept[named] = value
    return ReleasableMetrics(kept, withheld)
