"""``medval simulate``: a thin face over ``client.federation_simulation``; it starts the
embedded server (as ``medval demo`` does) unless ``--server`` names one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from medval.cli.context import FormatOption, OutputFormat, Session, json_or_table
from medval.client.federation_simulation import (
    FederationReport,
    FederationRequest,
    SimulationMismatch,
    check_request,
    simulate_federation,
)
from medval.core.errors import InvalidInput, ServerUnavailable
from medval.core.exit_codes import ExitCode

INTERRUPTED = ExitCode.INTERRUPTED
EMBEDDED = "embedded"
ADMIN = "admin"
NO_CSV = "a simulation's report is one nested document (phases, throughput, leaderboard)"


class _Listener:
    """A progress bar where progress is shown (a terminal, not --quiet); notes as lines."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def note(self, line: str) -> None:
        self.session.note(f"  {line}")

    def sites_starting(self, total: int) -> None:
        if not self.session.progress_shown:
            return
        self.bar = Progress(
            TextColumn("sites"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.session.err,
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("sites", total=total)

    def site_done(self, name: str) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def simulate(
    ctx: typer.Context,
    sites: int = typer.Option(..., "--sites", help="How many data owners (hospitals) take part."),
    models: int = typer.Option(
        1, "--models", help="How many models the model owner brings (besides the reference)."
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        metavar="J",
        help="Sites working at once (default: twice the cores here).",
    ),
    server: str = typer.Option(
        EMBEDDED,
        "--server",
        help="A server URL (its admin: --admin, password in MEDVAL_PASSWORD), or 'embedded': "
        "one started here, on SQLite in the workdir.",
    ),
    admin: str = typer.Option(ADMIN, "--admin", help="The admin account on --server URL."),
    workdir: Path | None = typer.Option(
        None,
        "--workdir",
        help="A new or empty folder for the client folders, cubes and data, kept after "
        "(default: a temporary folder, removed after).",
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Play a whole federation on this machine: N data owners each prepare, register, join,
    run and upload through the real client over HTTP, cubes in the sandbox; report the
    time of each phase and the throughput."""
    session: Session = ctx.obj
    json_or_table(fmt, NO_CSV)  # refused before anything starts
    # Twice the cores by default: a site spends most of its time waiting, on its
    # sandboxes' start and stop and on the server, not computing.
    jobs = jobs if jobs is not None else 2 * (os.cpu_count() or 1)
    check_request(sites, models, jobs)
    listener = _Listener(session)
    with ExitStack() as stack:
        folder = stack.enter_context(_workdir(workdir))
        started = time.monotonic()
        if server == EMBEDDED:
            password = "simulation-" + os.urandom(12).hex()
            url = stack.enter_context(_embedded(folder / "server", password))
            hashing = "argon2's cheapest parameters (embedded server)"
            listener.note(f"embedded server on {url} (SQLite in {folder / 'server'})")
        else:
            url = session.server_url(server)
            password = os.environ.get("MEDVAL_PASSWORD", "")
            if not password:
                raise InvalidInput(
                    f"--server {url}: set MEDVAL_PASSWORD to the password of --admin {admin}"
                )
            hashing = "the server's own"
        request = FederationRequest(
            sites=sites,
            models=models,
            jobs=jobs,
            runner=session.settings.runner,
            workdir=folder,
            server=url,
            admin=admin,
            admin_password=password,
            setup_seconds=time.monotonic() - started,
            password_hashing=hashing,
        )
        try:
            report = simulate_federation(request, listener)
        except KeyboardInterrupt:
            listener.stop()
            session.note("interrupted: every running sandbox was stopped")
            raise typer.Exit(INTERRUPTED) from None
        finally:
            listener.stop()
    _show(session, report, fmt)
    if not report.complete:
        shown = ", ".join(
            f"{m.model} {m.n_sites} ({m.n_failed} failed)" for m in report.leaderboard
        )
        raise SimulationMismatch(
            f"the leaderboard does not show {sites} sites for each of {report.models} "
            f"models: {shown or 'no entry'}"
        )


def _show(session: Session, report: FederationReport, fmt: OutputFormat) -> None:
    if json_or_table(fmt, NO_CSV):
        session.show(report, fmt)
        return
    lines = [
        f"simulated {report.sites} sites x {report.models} models in {report.wall_seconds:.1f} s "
        f"(setup {report.setup_seconds:.1f} s, sites {report.sites_seconds:.1f} s, "
        f"{report.jobs} at once, runner {report.runner})",
        "phase       total s   mean s per site",
        *(
            f"{phase.value:<10} {timing.total_seconds:>8.1f} {timing.mean_seconds:>9.3f}"
            for phase, timing in report.phases.items()
        ),
        f"throughput: {report.sites_per_second:.2f} sites/s, "
        f"{report.uploads_per_second:.2f} uploads/s ({report.uploads} uploads), "
        f"{report.requests_per_second:.1f} requests/s ({report.requests} requests)",
        *(
            f"leaderboard: {entry.model}: {entry.n_sites} sites, {entry.n_failed} failed"
            for entry in report.leaderboard
        ),
        f"password hashing: {report.password_hashing}",
    ]
    for line in lines:
        session.out.print(line, highlight=False, markup=False)


@contextmanager
def _workdir(given: Path | None) -> Iterator[Path]:
    """A given folder (new or empty; kept), or a temporary one (removed after)."""
    if given is None:
        folder = Path(tempfile.mkdtemp(prefix="medval-simulate-"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if given.is_symlink() or (given.exists() and not given.is_dir()):
        raise InvalidInput(f"--workdir {given} is not a folder; give a new or empty folder")
    if given.is_dir() and any(given.iterdir()):
        raise InvalidInput(f"--workdir {given} is not empty; give a new or empty folder")
    given.mkdir(parents=True, exist_ok=True)
    yield given.resolve()


@contextmanager
def _embedded(data_dir: Path, password: str) -> Iterator[str]:
    """The embedded server with its admin account made first."""
    from medval.demo.embedded_server import embedded_server, server_env
    from medval.server.settings import CHEAPEST_HASHING_ENV

    # The embedded server hashes passwords with argon2's cheapest parameters: a thousand
    # accounts' creation and login would otherwise cost minutes of argon2 alone. The report
    # says so; a server given with --server keeps its own.
    extra = CHEAPEST_HASHING_ENV
    env = {**server_env(data_dir, 0), **extra, "MEDVAL_ADMIN_PASSWORD": password}
    data_dir.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(
        [sys.executable, "-m", "medval", "server", "create-admin", "--username", ADMIN],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if made.returncode != 0:
        raise ServerUnavailable(f"could not create the admin account: {made.stderr.strip()}")
    with embedded_server(data_dir, data_dir.parent / "server.log", extra_env=extra) as url:
        yield url
