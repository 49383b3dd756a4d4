"""Many sites and models on one benchmark: upload throughput and leaderboard latency.

    .venv/bin/python bench/leaderboard_scale.py [--sites 200] [--models 10] [--workers 8]
    .venv/bin/python bench/leaderboard_scale.py --database-url postgresql+psycopg://...

A real server (``medval server start`` in a child process; SQLite in a temp folder
unless a URL is given) and the real typed client. Every site is a hospital account with
a registered, approved dataset; every model is approved; then every hospital uploads one
result per model, from ``--workers`` threads at once; then the committee asks for the
leaderboard. The design aims at 1,000 sites and 50 models (``--sites 1000 --models 50``,
about 50,000 uploads).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from medval.client.http import MedvalClient
from medval.core.documents import DatasetStatistics, MetricValue, Provenance, ResultDocument
from medval.core.hashing import sha256_bytes
from medval.core.result_schemas import ResultCreate
from medval.core.schemas import (
    AssociationCreate,
    BenchmarkCreate,
    CubeCreate,
    DatasetCreate,
    UserCreate,
)
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind
from medval.demo.embedded_server import embedded_server
from medval.server.admin import create_admin
from medval.server.settings import ServerSettings
from medval.server.store.migrate import upgrade_database

PASSWORD = "bench-password"


def cube(client: MedvalClient, name: str, kind: CubeKind) -> tuple[int, str]:
    blob = f"cube {name}".encode()
    digest = sha256_bytes(blob)
    client.upload_blob(digest, blob)
    made = client.register_cube(CubeCreate(name=name, kind=kind, archive_hash=digest))
    return made.id, digest


def account(admin: MedvalClient, url: str, name: str) -> MedvalClient:
    admin.create_user(UserCreate(username=name, password=PASSWORD))
    token = MedvalClient(url).login(name, PASSWORD).token
    return MedvalClient(url, token)


def document(site: int, model: int) -> ResultDocument:
    value = 0.6 + 0.2 * ((site * 7 + model * 13) % 100) / 100
    metric = MetricValue(value=value, lower=value - 0.04, upper=value + 0.04)
    return ResultDocument(n_cases=500, n_positive=200, metrics={"auroc": metric})


def run(sites: int, models: int, workers: int, database_url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # Cheap password hashing: the bench measures the federation, not argon2.
        os.environ["MEDVAL_SERVER_PASSWORD_HASH_PROFILE"] = "test_only_cheapest"
        settings = ServerSettings(data_dir=Path(tmp), database_url=database_url)
        upgrade_database(settings)
        create_admin(settings, "admin", PASSWORD)
        log = Path(tmp) / "server.log"
        with embedded_server(Path(tmp), log, database_url=database_url) as url:
            admin = MedvalClient(url, MedvalClient(url).login("admin", PASSWORD).token)
            committee = account(admin, url, "committee")
            prep, prep_hash = cube(committee, "prep", CubeKind.DATA_PREPARATOR)
            ref, _ = cube(committee, "reference", CubeKind.MODEL)
            evaluator, eval_hash = cube(committee, "evaluator", CubeKind.EVALUATOR)
            demo = b"demo data"
            committee.upload_blob(sha256_bytes(demo), demo)
            benchmark = committee.register_benchmark(BenchmarkCreate(
                name="scale", data_preparator_id=prep, reference_model_id=ref,
                evaluator_id=evaluator, demo_data_hash=sha256_bytes(demo),
            ))  # fmt: skip
            admin.decide_benchmark(benchmark.id, ApprovalStatus.APPROVED)

            started = time.perf_counter()
            vendor = account(admin, url, "vendor")
            model_hashes = {ref: committee.cube(ref).archive_hash}
            for index in range(models - 1):
                model_id, digest = cube(vendor, f"model-{index}", CubeKind.MODEL)
                model_hashes[model_id] = digest
                asked = vendor.request_association(
                    AssociationCreate(
                        benchmark_id=benchmark.id, kind=AssociationKind.MODEL, entity_id=model_id
                    )
                )
                committee.decide_association(asked.id, ApprovalStatus.APPROVED)

            def join(site: int) -> tuple[MedvalClient, int, str]:
                hospital = account(admin, url, f"hospital-{site}")
                data_hash = sha256_bytes(f"site {site}".encode())
                dataset = hospital.register_dataset(DatasetCreate(
                    name=f"site-{site}", data_preparator_id=prep, data_hash=data_hash,
                    statistics=DatasetStatistics(n_cases=500),
                ))  # fmt: skip
                asked = hospital.request_association(AssociationCreate(
                    benchmark_id=benchmark.id, kind=AssociationKind.DATASET,
                    entity_id=dataset.id))  # fmt: skip
                committee.decide_association(asked.id, ApprovalStatus.APPROVED)
                return hospital, dataset.id, data_hash

            with ThreadPoolExecutor(workers) as pool:
                hospitals = list(pool.map(join, range(sites)))
            setup = time.perf_counter() - started

            def upload(item: tuple[int, tuple[MedvalClient, int, str]]) -> list[float]:
                site, (hospital, dataset_id, data_hash) = item
                seconds = []
                for model_id, model_hash in model_hashes.items():
                    begin = time.perf_counter()
                    hospital.upload_result(ResultCreate(
                        benchmark_id=benchmark.id, dataset_id=dataset_id, model_id=model_id,
                        document=document(site, model_id),
                        provenance=Provenance(
                            dataset_hash=data_hash, data_preparator_hash=prep_hash,
                            model_hash=model_hash, evaluator_hash=eval_hash),
                    ))  # fmt: skip
                    seconds.append(time.perf_counter() - begin)
                return seconds

            started = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                latencies = [s for batch in pool.map(upload, enumerate(hospitals)) for s in batch]
            uploading = time.perf_counter() - started

            board_seconds = []
            for _ in range(3):
                begin = time.perf_counter()
                board = committee.leaderboard(benchmark.id)
                board_seconds.append(time.perf_counter() - begin)
            assert len(board.entries) == models and board.entries[0].n_sites == sites

    backend = database_url.split(":")[0] if database_url else "sqlite"
    print(f"store: {backend}; {sites} sites x {models} models; {workers} client threads")
    print(f"set-up (accounts, datasets, associations): {setup:.1f} s")
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"uploads: {len(latencies)} in {uploading:.1f} s = {len(latencies) / uploading:.0f}/s; "
        f"latency median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    print(
        f"leaderboard ({sites * models} results): median {statistics.median(board_seconds):.2f} s"
        f" (min {min(board_seconds):.2f}, max {max(board_seconds):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    run(args.sites, args.models, args.workers, args.database_url)


if __name__ == "__main__":
    main()
