"""A board made from an earlier one pools again only the models whose results or cube
changed, and gives the figures a board pooled afresh gives (services.pooled_board)."""

from __future__ import annotations

from typing import Any

from medval.core.api import PREFIX
from medval.server.services.context import ServiceContext
from medval.server.services.kept_boards import PooledBoard
from medval.server.services.pooled_board import pooled_board

from .conftest import Api
from .test_api_release import _upload, public  # noqa: F401


def _pool(ctx: ServiceContext, benchmark_id: int, earlier: PooledBoard | None) -> PooledBoard:
    with ctx.store.transaction() as tx:
        benchmark = tx.benchmark(benchmark_id)
        assert benchmark is not None
        return pooled_board(tx, benchmark, tx.leaderboard_rows(benchmark_id), earlier)


def _by_model(board: PooledBoard) -> dict[str, Any]:
    return {entry.model: entry for entry in board.owner_entries}


def test_only_the_changed_models_are_pooled_again(
    api: Api,
    public: dict[str, Any],  # noqa: F811
) -> None:
    ctx: ServiceContext = api.client.app.state.context  # type: ignore[attr-defined]
    benchmark, vendor = public["benchmark"], public["vendor"]
    other = api.cube(vendor, "model", name="model-w")
    api.associate(vendor, benchmark, "model", other, public["bench"])
    for hospital, auroc in (("h1", 0.7), ("h2", 0.75)):
        _upload(api, public, hospital, auroc)
        body = api.result_body(benchmark, public["datasets"][hospital], other, auroc - 0.1)
        public[hospital].ok("post", "/results", body)
    first = _pool(ctx, benchmark["id"], None)
    assert _pool(ctx, benchmark["id"], first).owner_entries == first.owner_entries

    _upload(api, public, "h3", 0.9)  # model-v's results change; model-w's do not
    second = _pool(ctx, benchmark["id"], first)
    # Reused, not pooled again: the very figures of the earlier board (ranks are redone).
    assert _by_model(second)["model-w"].pooled is _by_model(first)["model-w"].pooled
    assert _by_model(second)["model-v"].pooled is not _by_model(first)["model-v"].pooled
    assert second == _pool(ctx, benchmark["id"], None)  # as if pooled afresh
    assert _by_model(second)["model-v"].n_sites == 3

    # model-w's cube changes (invalidated): its entry is made again, marked so.
    path = f"{PREFIX}/cubes/{other['id']}/invalidation"
    done = vendor.http.client.post(path, headers=vendor.headers)
    assert done.status_code == 200, done.text
    third = _pool(ctx, benchmark["id"], second)
    assert _by_model(third)["model-w"].model_invalidated_at is not None
    assert _by_model(third)["model-w"].pooled is not _by_model(second)["model-w"].pooled
    assert _by_model(third)["model-v"].pooled is _by_model(second)["model-v"].pooled
    assert third == _pool(ctx, benchmark["id"], None)
