"""Which metric ranks a leaderboard, and which way: chosen from what the evaluator reports.

A benchmark does not declare its metrics; its evaluator reports them. The leaderboard is
ranked by ``auroc`` when the evaluator reports it (medval's clinical default), otherwise
by the first metric the evaluator reports (the first in its results file, across the
benchmark's results in the order they were uploaded).

Higher is better, except for a metric whose name says it is an error or a distance:
one with a word (split at ``_``, trailing digits ignored) in :data:`LOWER_IS_BETTER`
(``brier``, ``hausdorff95_et``, ``hd95``, ``log_loss``, ``mean_absolute_error``).
Imports nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_PRIMARY = "auroc"
LOWER_IS_BETTER = frozenset(
    {"brier", "loss", "error", "distance", "hausdorff", "hd", "ece", "mae", "mse", "rmse", "nll"}
)


def primary_metric(order: Sequence[str]) -> str | None:
    """The metric that ranks: ``auroc`` if reported, else the first one; None without any."""
    if DEFAULT_PRIMARY in order:
        return DEFAULT_PRIMARY
    return order[0] if order else None


def higher_is_better(name: str) -> bool:
    """Whether a larger value of the metric ``name`` is the better one."""
    return not any(word.rstrip("0123456789") in LOWER_IS_BETTER for word in name.split("_"))
