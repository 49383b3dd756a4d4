"""A list of many rows, paged: one page, the whole list followed page by page, and a caller
who sees few of the rows.

    .venv/bin/python bench/list_paging.py [--datasets 2000] [--requests 20]
    .venv/bin/python bench/list_paging.py --database-url postgresql+psycopg://...

A real server (``medval server start`` in a child process; SQLite in a temp folder unless
a URL is given) holding ``--datasets`` datasets, written straight into the store (the
bench reads; how rows get there is not measured). A hospital owns five of them, spread
evenly; a crowd account owns the rest, five of which asked to join a committee's
benchmark. Over one kept-alive connection, each request paired
with one to ``/health`` (the baseline, in the same run; the order alternates), it times:

- the admin's first page of ``/datasets`` (the server's page, 500 items),
- the whole list as the typed client reads it (``MedvalClient.datasets()``, following
  every ``Link`` header; fewer repeats, it is many requests),
- the hospital's ``/datasets``: one page of its five (the store finds them by owner),
- the committee's ``/datasets``: one page of the five that asked to join its benchmark,
  cut from every row of the table (``services.paging.visible_page`` reads them all to
  keep five, as the unpaged list did).

Issue 14 names no bar for lists; each figure is printed with its ratio to ``/health``.
The full size is ``--datasets 10000``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from paired_requests import percentile

from medval.client.http import MedvalClient
from medval.core import api
from medval.core.documents import DatasetStatistics
from medval.core.paging import DEFAULT_LIMIT
from medval.core.schemas import BenchmarkCreate, CubeCreate, DatasetCreate
from medval.core.states import AssociationKind, CubeKind
from medval.demo.embedded_server import embedded_server
from medval.server.admin import create_admin
from medval.server.services.passwords import password_hasher
from medval.server.settings import ServerSettings
from medval.server.store.migrate import upgrade_database
from medval.server.store.sql import SqlStore

PASSWORD = "bench-password"
HOSPITAL_DATASETS = 5


def fill(settings: ServerSettings, datasets: int) -> None:
    """The accounts and the datasets, straight into the store, in one transaction."""
    store = SqlStore.from_url(settings.database_url)
    now = datetime.now(UTC)
    try:
        with store.transaction() as tx:
            crowd = tx.add_user("crowd", "unusable", False, now)
            hashed = password_hasher(settings).hash(PASSWORD)
            hospital = tx.add_user("hospital", hashed, False, now)
            committee = tx.add_user("committee", hashed, False, now)
            cubes = [
                tx.add_cube(
                    committee.id, CubeCreate(name=kind.value, kind=kind, archive_hash="a" * 64), now
                )
                for kind in (CubeKind.DATA_PREPARATOR, CubeKind.MODEL, CubeKind.EVALUATOR)
            ]
            benchmark = tx.add_benchmark(
                committee.id,
                BenchmarkCreate(
                    name="board", data_preparator_id=cubes[0].id, reference_model_id=cubes[1].id,
                    evaluator_id=cubes[2].id, demo_data_hash="a" * 64,
                ),
                now,
            )  # fmt: skip
            every = max(1, datasets // HOSPITAL_DATASETS)
            for n in range(datasets):
                owner = hospital if n % every == every // 2 else crowd
                body = DatasetCreate(
                    name=f"site-{n}",
                    data_preparator_id=cubes[0].id,
                    data_hash=f"{n:064x}",
                    statistics=DatasetStatistics(n_cases=100),
                )
                dataset = tx.add_dataset(owner.id, body, now)
                if n % every == every // 3:
                    tx.add_association(
                        benchmark.id, AssociationKind.DATASET, dataset.id, crowd.id, now
                    )
    finally:
        store.close()


def paired(
    http: httpx.Client, timed: Callable[[], object], requests: int
) -> tuple[list[float], list[float]]:
    """Seconds of ``timed`` and of ``/health``, paired, the first pair a warm-up."""
    seconds: tuple[list[float], list[float]] = ([], [])
    for run in range(requests + 1):
        order = [0, 1] if run % 2 else [1, 0]
        for which in order:
            begin = time.perf_counter()
            if which == 0:
                timed()
            else:
                http.get(api.PREFIX + api.HEALTH).raise_for_status()
            if run:
                seconds[which].append(time.perf_counter() - begin)
    return seconds


def report(what: str, figure: list[float], health: list[float]) -> None:
    p50, p95 = statistics.median(figure), percentile(figure, 0.95)
    base = statistics.median(health)
    print(
        f"{what}: median {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
        f"({p50 / base:.0f}x /health's median {base * 1000:.2f} ms); no bar in issue 14"
    )


def run(datasets: int, requests: int, database_url: str) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        os.environ["MEDVAL_SERVER_PASSWORD_HASH_PROFILE"] = "test_only_cheapest"
        settings = ServerSettings(data_dir=tmp, database_url=database_url)
        upgrade_database(settings)
        create_admin(settings, "admin", PASSWORD)
        fill(settings, datasets)
        with embedded_server(tmp, tmp / "server.log", database_url=database_url) as url:
            admin_token = MedvalClient(url).login("admin", PASSWORD).token
            admin = MedvalClient(url, admin_token)
            hospital_token = MedvalClient(url).login("hospital", PASSWORD).token
            committee_token = MedvalClient(url).login("committee", PASSWORD).token
            with (
                httpx.Client(
                    base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=600
                ) as as_admin,
                httpx.Client(
                    base_url=url, headers={"Authorization": f"Bearer {hospital_token}"}, timeout=600
                ) as as_hospital,
                httpx.Client(
                    base_url=url,
                    headers={"Authorization": f"Bearer {committee_token}"},
                    timeout=600,
                ) as as_committee,
            ):
                path = api.PREFIX + api.DATASETS

                def first_page() -> object:
                    response = as_admin.get(path)
                    response.raise_for_status()
                    assert len(response.json()) == min(DEFAULT_LIMIT, datasets)
                    return response

                def whole_list() -> object:
                    found = admin.datasets()
                    assert len(found) == datasets, len(found)
                    return found

                def one_page(http: httpx.Client) -> Callable[[], object]:
                    def get() -> object:
                        response = http.get(path)
                        response.raise_for_status()
                        assert len(response.json()) == HOSPITAL_DATASETS, response.text[:200]
                        assert "link" not in response.headers
                        return response

                    return get

                print(f"{datasets} datasets, {database_url or 'SQLite'}")
                report("admin's first page (500)", *paired(as_admin, first_page, requests))
                pages = math.ceil(datasets / DEFAULT_LIMIT)
                few = max(3, requests // 5)
                report(
                    f"whole list by the client ({pages} pages)", *paired(as_admin, whole_list, few)
                )
                for who, http in (("hospital", as_hospital), ("committee", as_committee)):
                    report(
                        f"{who}'s page ({HOSPITAL_DATASETS} of {datasets})",
                        *paired(http, one_page(http), requests),
                    )
            admin.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    return run(args.datasets, args.requests, args.database_url)


if __name__ == "__main__":
    raise SystemExit(main())
