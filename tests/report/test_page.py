"""The report's page: self-contained, escaped, and what it says when nothing is released."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from medval.core.result_schemas import LeaderboardPublic
from medval.core.schemas import BenchmarkPublic
from medval.core.shift_schemas import BenchmarkShiftPublic
from medval.core.states import ApprovalStatus, ReleasePolicy, Stage
from medval.core.subgroup_schemas import BenchmarkSubgroupsPublic
from medval.report.evidence import Evidence, Provenance
from medval.report.page import render_page


def evidence_of(board: LeaderboardPublic, name: str = "b") -> Evidence:
    benchmark = BenchmarkPublic(
        id=1, name=name, description="", docs_url="", owner_id=1, owner="committee",
        data_preparator_id=1, reference_model_id=2, evaluator_id=3, demo_data_hash="0" * 64,
        release_policy=ReleasePolicy.PUBLIC, approval=ApprovalStatus.APPROVED,
        stage=Stage.OPERATION, created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    return Evidence(
        provenance=Provenance(
            server="http://h",
            reader=None,
            read_at=datetime(2026, 12, 5, 9, tzinfo=UTC),
            medval_version="0.1.0",
            sources=[],
        ),
        benchmark=benchmark,
        leaderboard=board,
        subgroups=BenchmarkSubgroupsPublic(
            benchmark_id=1,
            benchmark=name,
            release_policy=ReleasePolicy.PUBLIC,
            min_cell_count=5,
            min_sites=3,
            metrics=[],
            declared=[],
            models=[],
        ),
        shift=BenchmarkShiftPublic(
            benchmark_id=1,
            benchmark=name,
            release_policy=ReleasePolicy.PUBLIC,
            min_cell_count=5,
            n_sites=0,
            thresholds=[],
            sites=[],
        ),
    )


def test_an_empty_benchmark_says_so_and_escapes_its_name() -> None:
    board = LeaderboardPublic(
        benchmark_id=1, benchmark="<b>", release_policy=ReleasePolicy.PUBLIC, metrics=[],
        primary_metric=None, higher_is_better=True, entries=[],
    )  # fmt: skip
    page = render_page(evidence_of(board, "<b>"), "ab" * 32, ["report.html"])
    assert "<h1>&lt;b&gt;: evidence report</h1>" in page
    assert "No result yet." in page
    assert "The benchmark declares no subgroup variable." in page
    assert "No site's preparation statistics are released to this reader." in page
    assert "an anonymous reader (public releases only)" in page
    assert "abababab" in page
    assert not re.search(r"<script|<link|src=|href=", page)
    assert ":root" in page or "body" in page  # the style sheet is inlined
