"""A whole federation on one machine: the use case behind ``medval simulate``.

On a running server (an embedded one, or any given), as its admin: a benchmark owner
registers a trivial benchmark (``client.federation_setup``) that the admin approves; a
model owner registers ``models`` models, each passing its compatibility test, and the
committee approves them; then each of ``sites`` data owners, in a client folder of its
own, goes through the use cases the CLI's commands call, over real HTTP, with every cube
task run in the real sandbox:

- ``account``: the admin creates it; it signs in once (a token, a signing key);
- ``prepare``: ``datasets.prepare_dataset`` on its own synthetic data;
- ``register``: ``datasets.verify_prepared`` then the registration payload sent;
- ``associate``: ``joining.ask_to_join``, which the committee approves (as ``--yes`` does);
- ``run``: ``runs.plan`` and ``runs.run_executions``: every approved model on its data;
- ``upload``: ``result_upload.upload_reviewed``, each result signed.

Sites go side by side, ``jobs`` at once (``client.side_by_side``: Ctrl-C stops every
running sandbox); the first site that fails stops new ones from starting. The report
says how long each phase took, the throughput, and whether the server's leaderboard
shows every site for every model.

Imports: the client's use cases, HTTP client, settings and workspace; the core.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from medval.client.datasets import prepare_dataset, registration_payload, verify_prepared
from medval.client.execution import CAVEAT, Executor
from medval.client.federation_setup import (
    RequestTally,
    TrivialCubes,
    create_account,
    sign_in,
    write_site_data,
    write_trivial_cubes,
)
from medval.client.http import MedvalClient
from medval.client.joining import ask_to_join, dataset_request, try_model
from medval.client.local_session import local_audit_log, local_executor
from medval.client.registration import pack_demo_data, register_benchmark, register_cube
from medval.client.result_upload import local_results_to_upload, upload_reviewed, upload_signer
from medval.client.runs import PlannedExecution, plan, run_executions, should_run
from medval.client.settings import ClientSettings
from medval.client.side_by_side import run_each
from medval.client.workspace import LocalResult
from medval.core.errors import InvalidInput, MedvalError, SandboxError
from medval.core.exit_codes import ExitCode
from medval.core.schemas import BenchmarkCreate
from medval.core.states import ApprovalStatus

MAX_SITES = 100_000


class SimulationMismatch(MedvalError):
    """The leaderboard does not show every site for every model after the simulation."""

    code = "simulation_mismatch"
    exit_code = ExitCode.SIMULATION_INCOMPLETE


class Phase(StrEnum):
    ACCOUNT = "account"
    PREPARE = "prepare"
    REGISTER = "register"
    ASSOCIATE = "associate"
    RUN = "run"
    UPLOAD = "upload"


@dataclass(frozen=True)
class FederationRequest:
    """What to simulate, and where: ``server`` is a running server's URL on which
    ``admin`` (with ``admin_password``) is an admin; ``workdir`` a folder for every
    client folder, cube and site's data. ``setup_seconds``: spent before (starting the
    server); ``password_hashing``: what the report says of the server's."""

    sites: int
    models: int
    jobs: int
    runner: str
    workdir: Path
    server: str
    admin: str
    admin_password: str
    cases: int = 20
    setup_seconds: float = 0.0
    password_hashing: str = "the server's own"


def check_request(sites: int, models: int, jobs: int) -> None:
    """One line for a number that cannot be simulated."""
    if not 1 <= sites <= MAX_SITES:
        raise InvalidInput(
            f"--sites is how many data owners take part: 1 to {MAX_SITES}, not {sites}"
        )
    if not 1 <= models <= 100:
        raise InvalidInput(
            f"--models is how many models the model owner brings: 1 to 100, not {models}"
        )
    if jobs < 1:
        raise InvalidInput(f"--jobs is how many sites work at once: at least 1, not {jobs}")


class PhaseTime(BaseModel):
    """One phase over every site: the seconds summed, and per site on average."""

    total_seconds: float
    mean_seconds: float


class ModelSites(BaseModel):
    model: str
    n_sites: int
    n_failed: int


class FederationReport(BaseModel):
    sites: int
    models: int  # on the leaderboard: the reference model and the model owner's
    jobs: int
    runner: str
    server: str
    password_hashing: str
    benchmark_id: int
    wall_seconds: float
    setup_seconds: float  # the server, the accounts of the committee and model owner, the benchmark
    sites_seconds: float  # from the first site's start to the last one's end
    phases: dict[Phase, PhaseTime]
    uploads: int
    requests: int  # HTTP requests the sites' clients sent
    sites_per_second: float
    uploads_per_second: float
    requests_per_second: float
    leaderboard: list[ModelSites]
    complete: bool  # every model shows every site, none failed


class FederationListener(Protocol):
    """Where the simulation says how far it is (the CLI draws a progress bar)."""

    def note(self, line: str) -> None: ...

    def sites_starting(self, total: int) -> None: ...

    def site_done(self, name: str) -> None: ...


@dataclass
class _World:
    """What every site shares: the admin's and the committee's clients, the benchmark."""

    request: FederationRequest
    tag: str
    password: str
    admin: MedvalClient
    committee: MedvalClient
    benchmark_id: int
    tally: RequestTally
    clients: list[MedvalClient] = field(default_factory=list)
    phase_seconds: dict[Phase, float] = field(default_factory=lambda: dict.fromkeys(Phase, 0.0))
    uploads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def person(self, role: str) -> tuple[str, ClientSettings]:
        username = f"{self.tag}-{role}"
        home = self.request.workdir / "clients" / username
        return username, ClientSettings(
            home=home, server=self.request.server, runner=self.request.runner
        )

    def add(self, phase: Phase, seconds: float) -> None:
        with self.lock:
            self.phase_seconds[phase] += seconds


class _Notes:
    """An executor's progress: only the runner's notes are passed on, once each."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.said: set[str] = set()

    def step(self, message: str) -> None:
        if message.startswith(CAVEAT) and message not in self.said:
            self.said.add(message)
            self.say(message)

    def done(self, message: str, seconds: float) -> None:
        return None


class _Quiet:
    """A run's listener that keeps quiet (failures are raised by the site)."""

    def starting(self, number: int, total: int, item: PlannedExecution) -> None:
        return None

    def succeeded(self, item: PlannedExecution, result: LocalResult) -> None:
        return None

    def failed(self, item: PlannedExecution, message: str, recorded: str | None) -> None:
        return None


def simulate_federation(
    request: FederationRequest, listener: FederationListener
) -> FederationReport:
    """Set the federation up, run every site, and report (``SimulationMismatch`` when the
    leaderboard does not show every site for every model)."""
    check_request(request.sites, request.models, request.jobs)
    started = time.monotonic()
    tally = RequestTally()
    tag = f"sim{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(18)
    anonymous = ClientSettings(home=request.workdir / "clients" / "admin", server=request.server)
    admin = sign_in(request.server, anonymous, request.admin, request.admin_password, tally)
    world = _World(request, tag, password, admin, admin, 0, tally)
    try:
        world.committee, world.benchmark_id = _benchmark(world, listener)
        setup = request.setup_seconds + time.monotonic() - started
        listener.sites_starting(request.sites)
        before, sites_started = tally.count, time.monotonic()
        _all_sites(world, listener)
        sites_seconds = time.monotonic() - sites_started
        requests = tally.count - before
        board = world.committee.leaderboard(world.benchmark_id)
    finally:
        for client in {id(c): c for c in [admin, world.committee, *world.clients]}.values():
            client.close()
    counts = [
        ModelSites(model=e.model, n_sites=e.n_sites, n_failed=e.n_failed) for e in board.entries
    ]
    complete = every_site_shown(counts, request.sites, request.models + 1)
    rate = max(sites_seconds, 1e-9)
    return FederationReport(
        sites=request.sites,
        models=request.models + 1,
        jobs=request.jobs,
        runner=request.runner,
        server=request.server,
        password_hashing=request.password_hashing,
        benchmark_id=world.benchmark_id,
        wall_seconds=request.setup_seconds + time.monotonic() - started,
        setup_seconds=setup,
        sites_seconds=sites_seconds,
        phases={
            phase: PhaseTime(total_seconds=seconds, mean_seconds=seconds / request.sites)
            for phase, seconds in world.phase_seconds.items()
        },
        uploads=world.uploads,
        requests=requests,
        sites_per_second=request.sites / rate,
        uploads_per_second=world.uploads / rate,
        requests_per_second=requests / rate,
        leaderboard=counts,
        complete=complete,
    )


def every_site_shown(counts: list[ModelSites], sites: int, models: int) -> bool:
    """Whether the leaderboard has ``models`` entries, each with every site and no failure."""
    return len(counts) == models and all(c.n_sites == sites and c.n_failed == 0 for c in counts)


def _benchmark(world: _World, listener: FederationListener) -> tuple[MedvalClient, int]:
    """The committee's trivial benchmark, approved, with the model owner's models
    approved on it; the committee's client and the benchmark's id."""
    request, admin = world.request, world.admin
    cubes = write_trivial_cubes(request.workdir / "cubes", request.models, world.tag)
    demo = write_site_data(request.workdir / "demo-data", seed=0, cases=request.cases)
    committee_name, committee_settings = world.person("committee")
    vendor_name, vendor_settings = world.person("vendor")
    for username in (committee_name, vendor_name):
        create_account(admin, username, world.password)
    committee = sign_in(
        request.server, committee_settings, committee_name, world.password, world.tally
    )
    world.clients.append(committee)
    notes = _Notes(listener.note)
    executor = local_executor(committee_settings, committee, notes)
    benchmark_id = _register_benchmark(executor, cubes, demo.data_path.parent, world.tag)
    admin.decide_benchmark(benchmark_id, ApprovalStatus.APPROVED)
    listener.note(f"benchmark {benchmark_id} ({world.tag}-benchmark) registered and approved")
    vendor = sign_in(request.server, vendor_settings, vendor_name, world.password, world.tally)
    world.clients.append(vendor)
    vendor_executor = local_executor(vendor_settings, vendor, notes)
    for folder in cubes.models:
        model = register_cube(vendor, folder, runner_kind=request.runner)
        trial = try_model(vendor_executor, model.id, benchmark_id, lambda _: None)
        asked = ask_to_join(vendor, local_audit_log(vendor_settings), trial.request())
        committee.decide_association(asked.id, ApprovalStatus.APPROVED)
    listener.note(f"{request.models} model(s) of {vendor_name} joined it")
    return committee, benchmark_id


def _register_benchmark(executor: Executor, cubes: TrivialCubes, demo_data: Path, tag: str) -> int:
    client = executor.client
    runner = executor.runner.kind
    ids = [
        register_cube(client, f, runner_kind=runner).id
        for f in (cubes.preparator, cubes.reference, cubes.evaluator)
    ]
    packed = pack_demo_data(demo_data)
    body = BenchmarkCreate(
        name=f"{tag}-benchmark",
        description="medval simulate: a trivial benchmark",
        data_preparator_id=ids[0],
        reference_model_id=ids[1],
        evaluator_id=ids[2],
        demo_data_hash=packed.sha256,
        min_sites=1,  # every site's result is released as it comes
    )
    return register_benchmark(executor, body, packed, lambda _: None, lambda _: None).id


def _all_sites(world: _World, listener: FederationListener) -> None:
    failures: dict[int, MedvalError] = {}

    def work(index: int) -> None:
        name = f"{world.tag}-site-{index + 1:05d}"
        try:
            _site(world, index, name)
        except MedvalError as exc:
            failures[index] = exc
            return
        listener.site_done(name)

    started = run_each(world.request.sites, world.request.jobs, work, go_on=lambda: not failures)
    if failures:
        first = min(failures)
        error = failures[first]
        raise type(error)(
            f"site {first + 1} failed: {error.message} ({len(failures)} of {started} started "
            "sites failed; no site started after the first failure)"
        )


def _site(world: _World, index: int, username: str) -> None:
    """One data owner, from its account to its uploads, as the CLI's commands do it."""
    request = world.request
    _, settings = world.person(f"site-{index + 1:05d}")
    clock = time.monotonic()

    def lap(phase: Phase) -> None:
        nonlocal clock
        now = time.monotonic()
        world.add(phase, now - clock)
        clock = now

    create_account(world.admin, username, world.password)
    client = sign_in(request.server, settings, username, world.password, world.tally)
    try:
        executor = local_executor(settings, client)
        audit = local_audit_log(settings)
        lap(Phase.ACCOUNT)
        raw = write_site_data(
            request.workdir / "raw" / username, seed=index + 1, cases=request.cases + index % 7
        )
        dataset = prepare_dataset(
            executor,
            benchmark_id=world.benchmark_id,
            name=username,
            data_path=raw.data_path,
            labels_path=raw.labels_path,
            location=f"simulated site {index + 1}",
        )
        lap(Phase.PREPARE)
        verify_prepared(executor, dataset)
        registered = client.register_dataset(registration_payload(dataset))
        executor.workspace.save_dataset(dataset.model_copy(update={"server_id": registered.id}))
        lap(Phase.REGISTER)
        association = ask_to_join(client, audit, dataset_request(executor.workspace, username))
        world.committee.decide_association(association.id, ApprovalStatus.APPROVED)
        lap(Phase.ASSOCIATE)
        todo = [item for item in plan(executor, world.benchmark_id) if should_run(item, False)]
        outcome = run_executions(executor, todo, _Quiet())
        if outcome.failures:
            failure = outcome.failures[0]
            raise SandboxError(f"{failure.key}: {failure.message}")
        lap(Phase.RUN)
        signer = upload_signer(settings)
        results = local_results_to_upload(executor.workspace, world.benchmark_id)
        for result in results:
            upload_reviewed(client, executor.workspace, audit, result, signer)
        lap(Phase.UPLOAD)
        with world.lock:
            world.uploads += len(results)
    finally:
        client.close()
