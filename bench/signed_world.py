"""A benchmark with many sites and models, made through the API, whose hospitals sign
their results as ``medval results upload`` does; shared by the server's upload benches
(``leaderboard_scale.py``, ``upload_throughput.py``; run from ``bench/``).

Every site is a hospital account with its own registered Ed25519 signing key and a
registered, approved dataset; every model is approved; the benchmark declares five
metrics. Password hashing is expected to be cheap (``test_only_cheapest``): the benches
measure the federation, not argon2.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import sqlalchemy as sa

from medval.client.http import MedvalClient
from medval.core.declarations import CountDenominator, MetricDeclaration, MetricScale
from medval.core.documents import DatasetStatistics, MetricValue, Provenance, ResultDocument
from medval.core.hashing import sha256_bytes
from medval.core.result_schemas import ResultContent, ResultCreate
from medval.core.schemas import (
    AssociationCreate,
    BenchmarkCreate,
    CubeCreate,
    DatasetCreate,
    UserCreate,
)
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind
from medval.server.store.database import normalize_url
from medval.trust.keys import SigningKey
from medval.trust.signed_result import sign_result

PASSWORD = "bench-password"
N_CASES, N_POSITIVE = 500, 200
# Five declared metrics, as a diagnostic benchmark would: three pooled from the sites'
# counts, two from their intervals.
METRICS = [
    MetricDeclaration(name="auroc", label="AUROC", scale=MetricScale.PROPORTION, primary=True),
    MetricDeclaration(
        name="sensitivity", label="Sensitivity", scale=MetricScale.PROPORTION,
        of=CountDenominator.POSITIVES,
    ),
    MetricDeclaration(
        name="specificity", label="Specificity", scale=MetricScale.PROPORTION,
        of=CountDenominator.NEGATIVES,
    ),
    MetricDeclaration(
        name="accuracy", label="Accuracy", scale=MetricScale.PROPORTION, of=CountDenominator.CASES
    ),
    MetricDeclaration(name="calibration_slope", label="Calibration slope"),
]  # fmt: skip


@dataclass(frozen=True)
class Hospital:
    client: MedvalClient
    token: str
    key: SigningKey
    dataset_id: int
    data_hash: str


def cube(client: MedvalClient, name: str, kind: CubeKind) -> tuple[int, str]:
    blob = f"cube {name}".encode()
    digest = sha256_bytes(blob)
    client.upload_blob(digest, blob)
    made = client.register_cube(CubeCreate(name=name, kind=kind, archive_hash=digest))
    return made.id, digest


def account(admin: MedvalClient, url: str, name: str) -> tuple[MedvalClient, str]:
    """A new account's client, and its token."""
    admin.create_user(UserCreate(username=name, password=PASSWORD))
    token = MedvalClient(url).login(name, PASSWORD).token
    return MedvalClient(url, token), token


def document(site: int, model: int) -> ResultDocument:
    """Five metrics that differ by site and model; the counts agree with the proportions,
    and no value is a count under the small-cell threshold (the server refuses those)."""
    spread = ((site * 7 + model * 13) % 100) / 100
    positives = round(N_POSITIVE * (0.6 + 0.3 * spread))
    negatives = round((N_CASES - N_POSITIVE) * (0.7 + 0.2 * spread))
    auroc = 0.6 + 0.25 * spread
    slope = 0.5 + 0.3 * spread
    return ResultDocument(
        n_cases=N_CASES,
        n_positive=N_POSITIVE,
        metrics={
            "auroc": MetricValue(value=auroc, lower=auroc - 0.04, upper=auroc + 0.04),
            "sensitivity": MetricValue(value=positives / N_POSITIVE),
            "specificity": MetricValue(value=negatives / (N_CASES - N_POSITIVE)),
            "accuracy": MetricValue(value=(positives + negatives) / N_CASES),
            "calibration_slope": MetricValue(value=slope, lower=slope - 0.1, upper=slope + 0.1),
        },
    )


def stored_results(database_url: str, benchmark_id: int) -> int:
    """The results the store holds for the benchmark, counted in SQL, not by the server."""
    engine = sa.create_engine(normalize_url(database_url))
    try:
        with engine.connect() as connection:
            query = sa.text("SELECT count(*) FROM results WHERE benchmark_id = :id")
            return int(connection.execute(query, {"id": benchmark_id}).scalar_one())
    finally:
        engine.dispose()


@dataclass
class SignedWorld:
    """One approved benchmark, its models and its hospitals, on the server at ``url``."""

    url: str
    admin: MedvalClient
    committee: MedvalClient
    committee_token: str
    benchmark_id: int
    prep_id: int
    prep_hash: str
    eval_hash: str
    reference_id: int
    model_hashes: dict[int, str] = field(default_factory=dict)
    hospitals: list[Hospital] = field(default_factory=list)

    @classmethod
    def set_up(cls, url: str, admin_name: str, models: int, name: str = "scale") -> SignedWorld:
        """A committee (``{name}-committee``), its benchmark and ``models`` approved models
        (its reference model one of them); hospitals come with ``join``."""
        admin = MedvalClient(url, MedvalClient(url).login(admin_name, PASSWORD).token)
        committee, token = account(admin, url, f"{name}-committee")
        prep, prep_hash = cube(committee, f"{name}-prep", CubeKind.DATA_PREPARATOR)
        ref, ref_hash = cube(committee, f"{name}-reference", CubeKind.MODEL)
        evaluator, eval_hash = cube(committee, f"{name}-evaluator", CubeKind.EVALUATOR)
        demo = f"demo data of {name}".encode()
        committee.upload_blob(sha256_bytes(demo), demo)
        benchmark = committee.register_benchmark(BenchmarkCreate(
            name=name, data_preparator_id=prep, reference_model_id=ref,
            evaluator_id=evaluator, demo_data_hash=sha256_bytes(demo), metrics=METRICS,
        ))  # fmt: skip
        admin.decide_benchmark(benchmark.id, ApprovalStatus.APPROVED)
        world = cls(url, admin, committee, token, benchmark.id, prep, prep_hash, eval_hash, ref)
        world.model_hashes[ref] = ref_hash
        vendor, _ = account(admin, url, f"{name}-vendor")
        for index in range(models - 1):
            model_id, digest = cube(vendor, f"{name}-model-{index}", CubeKind.MODEL)
            world.model_hashes[model_id] = digest
            asked = vendor.request_association(AssociationCreate(
                benchmark_id=benchmark.id, kind=AssociationKind.MODEL, entity_id=model_id
            ))  # fmt: skip
            committee.decide_association(asked.id, ApprovalStatus.APPROVED)
        return world

    def join(self, site: int) -> Hospital:
        """A hospital with its key and an approved dataset (``site`` names them)."""
        prefix = f"{self.benchmark_id}-{site}"
        hospital, token = account(self.admin, self.url, f"hospital-{prefix}")
        key = SigningKey.generate()
        hospital.register_signing_key(key.public_key)
        data_hash = sha256_bytes(f"site {prefix}".encode())
        dataset = hospital.register_dataset(DatasetCreate(
            name=f"site-{prefix}", data_preparator_id=self.prep_id, data_hash=data_hash,
            statistics=DatasetStatistics(n_cases=N_CASES),
        ))  # fmt: skip
        asked = hospital.request_association(AssociationCreate(
            benchmark_id=self.benchmark_id, kind=AssociationKind.DATASET, entity_id=dataset.id
        ))  # fmt: skip
        self.committee.decide_association(asked.id, ApprovalStatus.APPROVED)
        return Hospital(hospital, token, key, dataset.id, data_hash)

    def join_all(self, sites: int, threads: int) -> None:
        with ThreadPoolExecutor(threads) as pool:
            self.hospitals = list(pool.map(self.join, range(sites)))

    def signed(self, site: int, hospital: Hospital, model_id: int) -> ResultCreate:
        """The hospital's result of the model, signed as ``medval results upload`` signs."""
        content = ResultContent(
            benchmark_id=self.benchmark_id, dataset_id=hospital.dataset_id,
            model_id=model_id, document=document(site, model_id),
            provenance=Provenance(
                dataset_hash=hospital.data_hash, data_preparator_hash=self.prep_hash,
                model_hash=self.model_hashes[model_id], evaluator_hash=self.eval_hash),
        )  # fmt: skip
        return sign_result(content, hospital.key)
