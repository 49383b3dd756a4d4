"""CLI tables come from the schemas: a record shows every field; list columns are checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from rich.console import Console

from medval.cli.leaderboard_view import print_leaderboard
from medval.cli.render import (
    MAX_METRIC_COLUMNS,
    columns,
    print_left_out,
    record_table,
    results_table,
    rows_table,
    shown_metrics,
)
from medval.core.declarations import MetricDeclaration, MetricDirection
from medval.core.document_mapping import LeftOut
from medval.core.documents import MetricValue, Provenance, ResultDocument
from medval.core.pooling_methods import IntervalMethod, PoolingModel, TauSquaredMethod
from medval.core.result_schemas import (
    LeaderboardEntry,
    LeaderboardPublic,
    LeaderboardSite,
    PooledMetric,
    ResultPublic,
)
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, ReleasePolicy, Stage

CUBE = CubePublic(
    id=7,
    name="tumour-net",
    kind=CubeKind.MODEL,
    archive_hash="a" * 64,
    owner_id=2,
    owner="vendor",
    stage=Stage.OPERATION,
    created_at=datetime(2024, 5, 1, tzinfo=UTC),
)


def _text(table: object) -> str:
    console = Console(width=400, record=True)
    console.print(table)
    return console.export_text()


def test_a_record_shows_every_field_of_its_schema() -> None:
    shown = _text(record_table(CUBE))
    for name in CubePublic.model_fields:
        assert name in shown
    assert "tumour-net" in shown and "vendor" in shown


def test_list_columns_must_be_fields_of_the_schema() -> None:
    assert columns(CubePublic, "id", "owner") == ["id", "owner"]
    with pytest.raises(ValueError, match="CubePublic has no field ownr"):
        columns(CubePublic, "id", "ownr")


def test_a_list_shows_its_chosen_columns_only() -> None:
    shown = _text(rows_table([CUBE], columns(CubePublic, "id", "name")))
    assert "tumour-net" in shown and "vendor" not in shown


# --- metrics: whichever the evaluator reports ----------------------------------------------


def _result(result_id: int, metrics: dict[str, MetricValue], n_cases: int | None) -> ResultPublic:
    return ResultPublic(
        id=result_id,
        benchmark_id=1,
        dataset_id=result_id,
        dataset=f"site-{result_id}",
        model_id=3,
        model="seg-net",
        owner="hospital",
        document=ResultDocument(n_cases=n_cases, metrics=metrics),
        provenance=Provenance(
            dataset_hash="d", data_preparator_hash="p", model_hash="m", evaluator_hash="e"
        ),
        created_at=datetime(2024, 5, 1, tzinfo=UTC),
    )


def test_results_show_the_evaluators_own_metrics_in_its_order() -> None:
    results = [
        _result(1, {"dice_et": MetricValue(value=0.812), "hd95_et": MetricValue(value=None)}, None),
        _result(2, {"dice_et": MetricValue(value=0.755, lower=0.7, upper=0.8)}, 40),
    ]
    lines = _text(results_table(results)).splitlines()
    header = next(line for line in lines if "dice_et" in line)
    assert header.index("dice_et") < header.index("hd95_et")
    site_1 = next(line for line in lines if "site-1" in line).split("│")
    site_2 = next(line for line in lines if "site-2" in line).split("│")
    assert [cell.strip() for cell in site_1[5:9]] == ["succeeded", "-", "0.812", "missing"]
    assert [cell.strip() for cell in site_2[5:9]] == [
        "succeeded",
        "40",
        "0.755 [0.700, 0.800]",
        "-",
    ]


def test_a_table_of_many_metrics_names_those_it_has_no_room_for() -> None:
    metrics = {f"m{i}": MetricValue(value=i / 10) for i in range(MAX_METRIC_COLUMNS + 2)}
    shown = _text(results_table([_result(1, metrics, 5)]))
    assert "m4" in shown and "0.400" in shown and "0.500" not in shown
    assert "2 more metric(s): m5, m6; --format json shows every one" in shown


def test_the_primary_metric_is_always_shown() -> None:
    order = [f"m{i}" for i in range(8)]
    assert shown_metrics(order, "m7", limit=3) == (
        ["m7", "m0", "m1"],
        ["m2", "m3", "m4", "m5", "m6"],
    )
    assert shown_metrics(order, "m1", limit=3) == (["m0", "m1", "m2"], order[3:])


@dataclass
class _Screen:
    out: Console = field(default_factory=lambda: Console(width=400, record=True))
    err: Console = field(default_factory=lambda: Console(width=400, record=True))


def test_a_leaderboard_with_its_own_metrics_shows_their_values() -> None:
    site = LeaderboardSite(
        dataset_id=1,
        dataset="site-1",
        n_cases=None,
        metrics={"dice_et": MetricValue(value=0.8), "hd95_et": MetricValue(value=None)},
    )
    board = LeaderboardPublic(
        benchmark_id=1,
        benchmark="brats",
        release_policy=ReleasePolicy.PUBLIC,
        metrics=["dice_et", "hd95_et"],
        primary_metric="dice_et",
        higher_is_better=True,
        entries=[
            LeaderboardEntry(
                model_id=3,
                model="seg-net",
                model_owner="vendor",
                n_sites=1,
                n_cases=None,
                pooled={
                    "dice_et": PooledMetric(
                        value=0.8, lower=0.75, upper=0.85, n_sites=1, i_squared=None
                    )
                },
                sites=[site],
            )
        ],
    )
    screen = _Screen()
    print_leaderboard(screen, board)  # type: ignore[arg-type]
    shown = screen.out.export_text()
    assert "ranked by dice_et (higher is better)" in shown
    assert "auroc" not in shown
    pooled_row = next(line for line in shown.splitlines() if "seg-net" in line and "vendor" in line)
    assert "0.800" in pooled_row and "I² dice_et" in shown
    site_row = next(line for line in shown.splitlines() if "site-1" in line)
    assert "0.800" in site_row and "missing" in site_row


def test_each_leaderboard_row_fills_exactly_its_columns() -> None:
    """A row of more cells than headers would shift every value under the wrong name."""
    entry = LeaderboardEntry(
        model_id=3,
        model="seg-net",
        model_owner="vendor",
        n_sites=2,
        n_failed=1,
        n_cases=40,
        model_invalidated_at=datetime(2026, 1, 2, tzinfo=UTC),
        pooled={"dice": PooledMetric(value=0.8, lower=0.7, upper=0.9, n_sites=2, i_squared=0.1)},
        rank=1,
        rank_lower=1,
        rank_upper=1,
    )
    board = LeaderboardPublic(
        benchmark_id=1,
        benchmark="b",
        release_policy=ReleasePolicy.PUBLIC,
        metrics=["dice"],
        primary_metric="dice",
        higher_is_better=True,
        entries=[entry],
    )
    screen = _Screen()
    print_leaderboard(screen, board)  # type: ignore[arg-type]
    lines = screen.out.export_text().splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    row = next(line for line in lines if "seg-net" in line)
    headers = [cell.strip() for cell in header.split("┃")[1:-1]]
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert headers == [
        "rank", "model", "owner", "sites", "cases", "dice", "I² dice", "new site (95% PI)",
    ]  # fmt: skip
    assert cells[:5] == ["1", "seg-net (invalidated)", "vendor", "2 (1 failed)", "40"]
    assert len(cells) == len(headers) and cells[5].startswith("0.800") and cells[6] == "10%"
    assert cells[7] == "-"  # two sites: no prediction interval


def _pooled(way: str, value: float) -> PooledMetric:
    """A pooled dice of four sites, pooled one of two ways, as medval.stats reports them."""
    if way == "counts":
        return PooledMetric(
            value=value, lower=value - 0.05, upper=value + 0.05, n_sites=4, i_squared=0.42,
            model=PoolingModel.BINOMIAL_NORMAL,
            interval_method=IntervalMethod.PROFILE_LIKELIHOOD_HK,
            prediction_lower=value - 0.12, prediction_upper=value + 0.1,
        )  # fmt: skip
    return PooledMetric(
        value=value, lower=value - 0.05, upper=value + 0.05, n_sites=4, i_squared=0.42,
        model=PoolingModel.INVERSE_VARIANCE,
        tau_squared_method=TauSquaredMethod.PAULE_MANDEL,
        interval_method=IntervalMethod.HARTUNG_KNAPP,
        prediction_lower=-0.05, prediction_upper=value + 0.1,
    )  # fmt: skip


def _pooled_board(*entries: tuple[str, PooledMetric]) -> LeaderboardPublic:
    return LeaderboardPublic(
        benchmark_id=1,
        benchmark="b",
        release_policy=ReleasePolicy.PUBLIC,
        declared=[MetricDeclaration(name="dice", label="Dice", primary=True)],
        metrics=["dice"],
        primary_metric="dice",
        higher_is_better=True,
        entries=[
            LeaderboardEntry(
                model_id=number, model=name, model_owner="vendor", n_sites=4, n_cases=400,
                pooled={"dice": pooled}, rank=number, rank_lower=number, rank_upper=number,
            )
            for number, (name, pooled) in enumerate(entries, start=1)
        ],
    )  # fmt: skip


def _caption(shown: str) -> str:
    """The pooled table's caption as a reader sees it: wrapped to the table's width and
    centred, so its words joined by single spaces."""
    lines = shown.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("└"))
    caption = lines[end + 1 : next(i for i, line in enumerate(lines) if line.startswith("("))]
    return " ".join(" ".join(caption).split())


def test_the_leaderboard_shows_the_new_site_interval_and_how_the_primary_was_pooled() -> None:
    board = _pooled_board(("seg-net", _pooled("counts", 0.81)), ("unet", _pooled("counts", 0.7)))
    screen = _Screen()
    print_leaderboard(screen, board)  # type: ignore[arg-type]
    shown = screen.out.export_text()
    rows = {
        cells[1]: cells[6:]
        for line in shown.splitlines()
        if line.startswith("│") and (cells := [c.strip() for c in line.split("│")[1:-1]])[1]
    }
    assert rows == {"seg-net": ["42%", "0.690 to 0.910"], "unet": ["42%", "0.580 to 0.800"]}
    assert _caption(shown) == (
        "rank: 1= tied (cannot be told apart), (1-3) its 95% rank interval "
        "Dice: pooled from counts (binomial-normal), Hartung-Knapp-scaled profile-likelihood "
        "interval "
        "new site (95% PI): the prediction interval, where Dice at a new site would fall; "
        "from three sites on"
    )


def test_models_pooled_differently_each_say_how() -> None:
    board = _pooled_board(
        ("seg-net", _pooled("counts", 0.81)),
        ("unet", _pooled("intervals", 0.7)),
        ("vnet", _pooled("counts", 0.6)),
    )
    screen = _Screen()
    print_leaderboard(screen, board)  # type: ignore[arg-type]
    shown = screen.out.export_text()
    unet = next(line for line in shown.splitlines() if "unet" in line)
    assert unet.split("│")[-2].strip() == "-0.050 to 0.800"  # "to": a bound may be negative
    assert (
        "Dice: pooled from counts (binomial-normal), Hartung-Knapp-scaled profile-likelihood "
        "interval "
        "for seg-net, vnet; pooled from each site's estimate and interval (inverse-variance), "
        "tau² by Paule-Mandel, Hartung-Knapp interval for unet new site (95% PI)"
    ) in _caption(shown)


@pytest.mark.parametrize("method", [*PoolingModel, *TauSquaredMethod, *IntervalMethod])
def test_every_pooling_method_has_words(method: PoolingModel) -> None:
    words = method.describe()
    assert words and method.value not in ("", words)


def test_tied_models_show_equal_ranks_with_their_intervals_and_withheld_none() -> None:
    def entry(name: str, rank: int | None, low: int | None, high: int | None) -> LeaderboardEntry:
        return LeaderboardEntry(
            model_id=len(name),
            model=name,
            model_owner="vendor",
            n_sites=3,
            n_cases=90,
            pooled={"dice": PooledMetric(value=0.8, lower=0.7, upper=0.9, n_sites=3, i_squared=0.1)}
            if rank
            else {},
            rank=rank,
            rank_lower=low,
            rank_upper=high,
            tied=rank == 1,
            withheld=None if rank else "results from 1 site(s), fewer than the 3",
        )

    board = LeaderboardPublic(
        benchmark_id=1,
        benchmark="b",
        release_policy=ReleasePolicy.PUBLIC,
        metrics=["dice"],
        primary_metric="dice",
        higher_is_better=True,
        entries=[entry("aa", 1, 1, 2), entry("bbb", 1, 1, 3), entry("cccc", 3, 2, 3),
                 entry("ddddd", None, None, None)],
    )  # fmt: skip
    screen = _Screen()
    print_leaderboard(screen, board)  # type: ignore[arg-type]
    lines = screen.out.export_text().splitlines()
    first = {
        cells[1]: cells[0]
        for line in lines
        if line.startswith("│") and (cells := [c.strip() for c in line.split("│")[1:-1]])[1]
    }
    assert first == {"aa": "1= (1-2)", "bbb": "1= (1-3)", "cccc": "3 (2-3)", "ddddd": "-"}
    assert "rank: 1= tied (cannot be told apart)" in " ".join(" ".join(lines).split())


def test_a_withheld_entry_says_why_and_small_cells_have_their_own_heading() -> None:
    entry = LeaderboardEntry(
        model_id=3,
        model="seg-net",
        model_owner="vendor",
        n_sites=2,
        n_cases=None,
        pooled={},
        withheld="results from 2 site(s), fewer than the 3 this benchmark releases pooled "
        "figures from",
    )
    board = LeaderboardPublic(
        benchmark_id=1,
        benchmark="b",
        release_policy=ReleasePolicy.PUBLIC,
        metrics=["dice"],
        primary_metric="dice",
        higher_is_better=True,
        entries=[entry],
    )
    screen = _Screen()
    print_leaderboard(screen, board)  # type: ignore[arg-type]
    shown = " ".join(screen.out.export_text().split())
    assert (
        "seg-net: pooled figures withheld (results from 2 site(s), fewer than the 3 this "
        "benchmark releases pooled figures from)"
    ) in shown
    left_out = [
        LeftOut(path="notes", reason="text; only numbers are sent"),
        LeftOut(path="n_positive", reason="a count of 3, below the minimum cell size 10",
                small_cell=True),
    ]  # fmt: skip
    print_left_out(screen, left_out, "the evaluator's results")  # type: ignore[arg-type]
    assert screen.err.export_text().splitlines() == [
        "Left out of the evaluator's results: kept on this machine, never sent:",
        "  - notes: text; only numbers are sent",
        "Withheld from the evaluator's results as small cells: kept on this machine, never sent:",
        "  - n_positive: a count of 3, below the minimum cell size 10",
    ]


def test_model_results_show_exactly_the_declared_metrics_by_their_labels() -> None:
    """Issue 13: a Brier-only benchmark shows a Brier column, no '-' columns of
    metrics it does not declare."""
    brier = MetricDeclaration(
        name="brier", label="Brier score", direction=MetricDirection.LOWER, primary=True
    )
    results = [_result(1, {"brier": MetricValue(value=0.12, lower=0.1, upper=0.14)}, 400)]
    lines = _text(results_table(results, declared={1: [brier]})).splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    assert [c.strip() for c in header.split("┃")[1:-1]] == [
        "id", "benchmark_id", "model", "dataset", "status", "n_cases", "Brier score",
    ]  # fmt: skip
    row = next(line for line in lines if "site-1" in line)
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        "1", "1", "seg-net", "site-1", "succeeded", "400", "0.120 [0.100, 0.140]",
    ]  # fmt: skip
