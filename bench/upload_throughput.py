"""Signed result uploads from many concurrent clients: results per second, one server
process against several (``medval server start --workers N``).

    .venv/bin/python bench/upload_throughput.py [--workers 2] [--clients 50] [--uploads 2000]
    .venv/bin/python bench/upload_throughput.py --database-url postgresql+psycopg://...

A real server (``medval server start`` in a child process; SQLite in a temp folder unless
a URL is given). One benchmark with ``--models`` approved models and as many hospitals
(each its own account, signing key and approved dataset) as ``2 x --uploads`` results
need (``signed_world``). Every result is signed and turned into its request body before
any clock starts, as ``medval results upload`` would send it. Then two runs on the same
database, each of ``--uploads`` fresh results from ``--clients`` threads at once, each
thread on its own kept-alive connection (``http.client``: the lightest well-kept client
at hand, so that the load generator leaves the server what it can of the two cores): the
baseline with one server process, then with ``--workers``. Sustained is the rate between
the 10th and the 90th percentile of completions (start-up and the tail left out); the
whole run's rate is printed too.

After each run the stored results are counted in SQL: every upload answered 201 must be
there once (none lost, none duplicated). Then the retry semantics: results already
stored, sent again as a client retries after a timeout, must be answered 409 and change
nothing; and the same fresh result sent on two connections at once (both workers may
take one) must be stored once.

The bar (issue 14): at least 500 results per second sustained on PostgreSQL with several
workers, none lost, none duplicated. The CPU that each party used during a run is
printed (this process: the load generator; the server; PostgreSQL's processes, when they
are on this machine), since all share the machine's cores.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from signed_world import PASSWORD, SignedWorld

from medval.core import api
from medval.demo.embedded_server import server_process
from medval.server.admin import create_admin
from medval.server.settings import ServerSettings
from medval.server.store.database import normalize_url
from medval.server.store.migrate import upgrade_database

BAR_PER_SECOND = 500
RACES = 20  # fresh results each sent twice at once


@dataclass(frozen=True)
class Upload:
    """One request, ready to send: the body as bytes and the hospital's headers."""

    dataset_id: int
    model_id: int
    body: bytes
    headers: dict[str, str]


@dataclass
class Run:
    statuses: list[int]
    done_at: list[float]  # seconds from the start, each upload's completion
    seconds: float
    cpu: dict[str, float]  # CPU seconds used during the run, by party

    def sustained(self) -> float:
        """Uploads per second between the 10th and the 90th percentile of completions."""
        done = sorted(self.done_at)
        low, high = done[len(done) // 10], done[(len(done) * 9) // 10]
        return ((len(done) * 9) // 10 - len(done) // 10) / (high - low)


def _send(connection: http.client.HTTPConnection, upload: Upload) -> int:
    connection.request("POST", api.PREFIX + api.RESULTS, body=upload.body, headers=upload.headers)
    response = connection.getresponse()
    response.read()
    return response.status


def _send_with_retry(connection: http.client.HTTPConnection, upload: Upload) -> int:
    """As a client does: a connection that fails or times out is made anew and the same
    upload sent again (a 409 then means the first attempt was stored)."""
    try:
        return _send(connection, upload)
    except (OSError, http.client.HTTPException):
        connection.close()  # http.client connects again on the next request
        return 1000 + _send(connection, upload)  # marked: a retry's answer


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)


def _send_once(url: str, upload: Upload) -> int:
    """On a connection of its own."""
    connection = _connect(url)
    try:
        return _send(connection, upload)
    finally:
        connection.close()


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Each live process's CPU seconds so far (user and system)."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between the two readings by the processes alive at the second (one that
    started between them counts whole; one that ended is not seen: an undercount)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _family(parent: int) -> list[int]:
    """The server: its process and its workers."""
    found = [parent]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
        except OSError:
            continue
    return found


def _postgres() -> list[int]:
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                found.append(int(comm.parent.name))
        except OSError:
            continue
    return found


def blast(url: str, uploads: list[Upload], clients: int, server_pid: int) -> Run:
    """``uploads`` from ``clients`` threads, each on its own kept-alive connection."""
    shares = [uploads[i::clients] for i in range(clients)]
    statuses: list[int] = []
    done_at: list[float] = []
    lock = threading.Lock()
    connections = [_connect(url) for _ in range(clients)]
    for connection in connections:  # connected before the clock starts
        connection.request("GET", api.PREFIX + api.HEALTH)
        connection.getresponse().read()
    go = threading.Barrier(clients + 1)
    start = 0.0

    def client(index: int) -> None:
        go.wait()
        for upload in shares[index]:
            status = _send_with_retry(connections[index], upload)
            with lock:
                statuses.append(status)
                done_at.append(time.perf_counter() - start)

    server = _family(server_pid)
    before = (time.process_time(), _cpu_seconds(server), _cpu_seconds(_postgres()))
    with ThreadPoolExecutor(clients) as pool:
        running = [pool.submit(client, i) for i in range(clients)]
        start = time.perf_counter()
        go.wait()
        for future in running:
            future.result()
        seconds = time.perf_counter() - start
    after = (time.process_time(), _cpu_seconds(server), _cpu_seconds(_postgres()))
    for connection in connections:
        connection.close()
    parties = ("load generator", "server", "PostgreSQL")
    cpu = {
        parties[0]: after[0] - before[0],
        parties[1]: _used(before[1], after[1]),
        parties[2]: _used(before[2], after[2]),
    }
    return Run(statuses, done_at, seconds, cpu)


def stored(database_url: str, benchmark_id: int) -> tuple[int, set[tuple[int, int]]]:
    """(rows, distinct (dataset, model) pairs) of the benchmark's results, in SQL."""
    engine = sa.create_engine(normalize_url(database_url))
    try:
        with engine.connect() as db:
            rows = db.execute(
                sa.text("SELECT dataset_id, model_id FROM results WHERE benchmark_id = :b"),
                {"b": benchmark_id},
            ).all()
    finally:
        engine.dispose()
    return len(rows), {(int(d), int(m)) for d, m in rows}


def prepare(world: SignedWorld, count: int) -> list[Upload]:
    """``count`` signed results of distinct (dataset, model) pairs, as request bodies."""
    models = list(world.model_hashes)
    uploads = []
    for index in range(count):
        site, model_id = divmod(index, len(models))
        hospital = world.hospitals[site]
        signed = world.signed(site, hospital, models[model_id])
        headers = {
            "Authorization": f"Bearer {hospital.token}",
            "Content-Type": "application/json",
        }
        body = signed.model_dump_json().encode()
        uploads.append(Upload(hospital.dataset_id, models[model_id], body, headers))
    return uploads


@contextmanager
def serving(data_dir: Path, database_url: str, workers: int) -> Iterator[tuple[str, int]]:
    log = data_dir / f"server-{workers}.log"
    with server_process(data_dir, log, database_url=database_url, workers=workers) as (url, p):
        yield url, p.pid


def check_run(
    name: str, run: Run, uploads: list[Upload], database_url: str, benchmark_id: int
) -> tuple[bool, str]:
    """Every upload answered 201 (or 409 on a retry of a stored one) is stored once."""
    rows, pairs = stored(database_url, benchmark_id)
    sent = {(u.dataset_id, u.model_id) for u in uploads}
    refused = [s for s in run.statuses if s not in (201, 1201, 1409)]
    lost = sent - pairs
    ok = not refused and not lost and rows == len(pairs)
    return ok, (
        f"{name}: {len(uploads)} sent, {len(refused)} refused, {len(lost)} lost, "
        f"{rows - len(pairs)} duplicated, {sum(s >= 1000 for s in run.statuses)} retried"
    )


def check_retries(url: str, again: list[Upload], fresh: list[Upload]) -> tuple[bool, str]:
    """Stored results sent again are 409; each fresh one sent twice at once is stored once."""
    with ThreadPoolExecutor(len(again)) as pool:
        answers = list(pool.map(lambda u: _send_once(url, u), again))
    with ThreadPoolExecutor(2 * len(fresh)) as pool:
        raced = list(pool.map(lambda u: _send_once(url, u), [u for u in fresh for _ in "ab"]))
    pairs = [sorted(raced[i : i + 2]) for i in range(0, len(raced), 2)]
    ok = answers == [409] * len(again) and pairs == [[201, 409]] * len(fresh)
    return ok, (
        f"retries: {answers.count(409)} of {len(again)} stored results sent again answered 409; "
        f"{pairs.count([201, 409])} of {len(fresh)} results sent twice at once stored once"
    )


def rate_line(name: str, run: Run, baseline: Run | None) -> str:
    ratio = f", {run.sustained() / baseline.sustained():.2f}x the baseline" if baseline else ""
    cpu = ", ".join(f"{party} {seconds:.1f} s" for party, seconds in run.cpu.items() if seconds)
    cores = os.cpu_count() or 1
    return (
        f"{name}: {run.sustained():.0f} results/s sustained{ratio} "
        f"({len(run.statuses)} in {run.seconds:.1f} s = {len(run.statuses) / run.seconds:.0f}/s "
        f"whole run); CPU used: {cpu} (of {run.seconds * cores:.1f} s on {cores} cores)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--uploads", type=int, default=2000, help="results per run (2000)")
    parser.add_argument("--models", type=int, default=50, help="models (default 50)")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        os.environ["MEDVAL_SERVER_PASSWORD_HASH_PROFILE"] = "test_only_cheapest"
        settings = ServerSettings(data_dir=data_dir, database_url=args.database_url)
        upgrade_database(settings)
        create_admin(settings, "admin", PASSWORD)
        needed = 2 * args.uploads + RACES
        with serving(data_dir, args.database_url, 1) as (url, pid):
            began = time.perf_counter()
            world = SignedWorld.set_up(url, "admin", args.models, name=f"throughput-{pid}")
            world.join_all(math.ceil(needed / args.models), 8)
            every = prepare(world, needed)
            first, second, fresh = (
                every[: args.uploads],
                every[args.uploads : 2 * args.uploads],
                every[2 * args.uploads :],
            )
            print(f"set-up: {len(world.hospitals)} hospitals x {args.models} models, "
                  f"{needed} results signed, in {time.perf_counter() - began:.1f} s")  # fmt: skip
            baseline = blast(url, first, args.clients, pid)
        url_db = settings.database_url
        checks = [check_run("1 worker", baseline, first, url_db, world.benchmark_id)]
        with serving(data_dir, args.database_url, args.workers) as (url, pid):
            time.sleep(2)  # every worker started (the first to answer /health is not all)
            measured = blast(url, second, args.clients, pid)
            checks.append(
                check_run(f"{args.workers} workers", measured, first + second, url_db,
                          world.benchmark_id)
            )  # fmt: skip
            checks.append(check_retries(url, first[: args.clients], fresh))
        rows, _ = stored(url_db, world.benchmark_id)
    return report(args, baseline, measured, checks, rows)


def report(
    args: argparse.Namespace,
    baseline: Run,
    measured: Run,
    checks: list[tuple[bool, str]],
    rows: int,
) -> int:
    backend = args.database_url.split(":")[0].split("+")[0] if args.database_url else "sqlite"
    print(f"store: {backend}; {args.clients} clients; {args.uploads} uploads per run; "
          f"load average {Path('/proc/loadavg').read_text().split()[0]}")  # fmt: skip
    print(rate_line("1 worker (the baseline)", baseline, None))
    print(rate_line(f"{args.workers} workers", measured, baseline))
    for _, line in checks:
        print(line)
    print(f"results stored (counted in SQL): {rows}")
    correct = all(ok for ok, _ in checks)
    rate = measured.sustained()
    if not correct:
        verdict = "missed: uploads lost, duplicated or refused (see above)"
    elif backend != "postgresql" or args.workers < 2:
        verdict = "not judged (the bar is for PostgreSQL with several workers)"
    elif rate >= BAR_PER_SECOND:
        verdict = "met"
    else:
        verdict = f"missed ({rate:.0f}/s is {rate / BAR_PER_SECOND:.2f} of the bar)"
    print(f"bar: {BAR_PER_SECOND} results/s sustained on PostgreSQL with workers, none lost, "
          f"none duplicated: {verdict}")  # fmt: skip
    return 0 if correct and verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
