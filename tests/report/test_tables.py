"""The report's CSV tables: one row per figure, named as the folder writes them."""

from __future__ import annotations

from tests.report.test_page import evidence_of

from medval.core.result_schemas import LeaderboardEntry, LeaderboardPublic, PooledMetric
from medval.core.shift_schemas import BenchmarkShiftPublic
from medval.core.states import ReleasePolicy
from medval.core.subgroup_schemas import BenchmarkSubgroupsPublic
from medval.report.tables import FILE_NAMES, tables


def _board() -> LeaderboardPublic:
    pooled = PooledMetric(
        value=0.8, lower=0.7, upper=0.9, n_sites=3, i_squared=0.2,
        prediction_lower=0.6, prediction_upper=0.95,
    )  # fmt: skip
    shown = LeaderboardEntry(
        model_id=1, model="shown", model_owner="v", n_sites=3, n_cases=300,
        pooled={"auroc": pooled, "brier": pooled}, rank=1, rank_lower=1, rank_upper=1,
    )  # fmt: skip
    withheld = LeaderboardEntry(
        model_id=2, model="few", model_owner="w", n_sites=1, n_cases=None, pooled={},
        withheld="from 1 site; shown from 3",
    )  # fmt: skip
    return LeaderboardPublic(
        benchmark_id=1, benchmark="b", release_policy=ReleasePolicy.PUBLIC,
        metrics=["auroc", "brier"], primary_metric="auroc", higher_is_better=True,
        entries=[shown, withheld],
    )  # fmt: skip


def test_one_row_per_model_and_metric_and_one_for_a_withheld_model() -> None:
    evidence = evidence_of(_board())
    found = tables(evidence)
    assert tuple(t.file_name for t in found) == FILE_NAMES
    board = found[0]
    rows = [dict(zip(board.columns, row, strict=True)) for row in board.rows]
    assert [(r["model"], r["metric"], r["withheld"]) for r in rows] == [
        ("shown", "auroc", None),
        ("shown", "brier", None),
        ("few", None, "from 1 site; shown from 3"),
    ]
    assert (rows[0]["value"], rows[0]["prediction_lower"], rows[0]["rank"]) == (0.8, 0.6, 1)
    assert all(len(row) == len(t.columns) for t in found for row in t.rows)


def test_empty_subgroups_and_shift_give_headers_only() -> None:
    evidence = evidence_of(_board())
    assert isinstance(evidence.subgroups, BenchmarkSubgroupsPublic)
    assert isinstance(evidence.shift, BenchmarkShiftPublic)
    for table in tables(evidence)[2:]:
        assert table.rows == []
