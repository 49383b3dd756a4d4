"""Benchmarks (owners and admins) and the association requests they decide."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli import membership, participation, phases, quotas
from medval.cli.context import FormatOption, OutputFormat, Session, YesOption, validated
from medval.cli.cubes import StageArgument, confirm_invalidation
from medval.cli.data_policies import benchmark_policies
from medval.cli.flat_rows import leaderboard_rows, shift_rows, subgroup_rows
from medval.cli.leaderboard_view import print_leaderboard
from medval.cli.preparation_reports import benchmark_preparation_reports
from medval.cli.render import (
    columns,
    declared_table,
    print_result_document,
    record_table,
    rows_table,
    subgroups_table,
)
from medval.cli.shift_tables import print_shift
from medval.cli.subgroup_tables import print_subgroups
from medval.client.audit_log import record
from medval.client.membership import auto_approval_rule, read_agreement
from medval.client.registration import pack_demo_data, register_benchmark
from medval.core.declaration_files import read_declarations
from medval.core.document_mapping import ReadDocument
from medval.core.documents import ResultDocument
from medval.core.schemas import (
    DEFAULT_MIN_SITES,
    LOWEST_MIN_SITES,
    AssociationPublic,
    BenchmarkCreate,
    BenchmarkPublic,
)
from medval.core.small_cells import DEFAULT_MIN_CELL_COUNT, LOWEST_MIN_CELL_COUNT
from medval.core.states import (
    ApprovalStatus,
    AssociationKind,
    AutoApprovalMode,
    ReleasePolicy,
    RunnerKind,
    Stage,
)

app = typer.Typer(help="Define, approve and inspect benchmarks.", no_args_is_help=True)
associations_app = typer.Typer(
    help="Requests to join a benchmark (datasets and models).", no_args_is_help=True
)

BENCHMARK_COLUMNS = columns(
    BenchmarkPublic, "id", "name", "owner", "approval", "stage", "release_policy", "invalidated_at"
)
ASSOCIATION_COLUMNS = columns(
    AssociationPublic,
    "id",
    "benchmark_id",
    "kind",
    "entity_id",
    "entity_name",
    "status",
    "initiated_by",
    "decided_by",
)


def requested(association: AssociationPublic) -> str:
    """How a request reads: a first one, or one again after a rejection or revocation."""
    again = " again" if len(association.history) > 1 else ""
    return f"requested{again}: {association.status.value}"


@app.command("register")
def register(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name"),
    data_preparator_id: int = typer.Option(..., "--data-preparator", help="Cube id."),
    reference_model_id: int = typer.Option(..., "--reference-model", help="Cube id."),
    evaluator_id: int = typer.Option(..., "--evaluator", help="Cube id."),
    demo_data: Path = typer.Option(
        ...,
        "--demo-data",
        help="Folder (or .tar.gz) with data/ and labels/, or MedPerf's paths.yaml.",
    ),
    description: str = typer.Option("", "--description"),
    docs_url: str = typer.Option("", "--docs-url"),
    release_policy: ReleasePolicy = typer.Option(ReleasePolicy.PARTICIPANTS, "--release-policy"),
    development: bool = typer.Option(False, "--development", help="Register as a draft."),
    runner_kinds: str = typer.Option(
        ",".join(RunnerKind),
        "--runner-kinds",
        help="Comma-separated runner kinds the data owners may use (default: all).",
    ),
    agreement: Path | None = typer.Option(
        None, "--agreement", help="A membership agreement (UTF-8 text) data owners accept."
    ),
    auto_approval: AutoApprovalMode = typer.Option(
        AutoApprovalMode.NEVER, "--auto-approval", help="never, always or allowlist."
    ),
    auto_approval_users: str | None = typer.Option(
        None, "--auto-approval-users", help="For allowlist: NAME,NAME,..."
    ),
    min_cell_count: int = typer.Option(
        DEFAULT_MIN_CELL_COUNT,
        "--min-cell-count",
        help=f"k: counts below it never leave a site (at least {LOWEST_MIN_CELL_COUNT}).",
    ),
    min_sites: int = typer.Option(
        DEFAULT_MIN_SITES,
        "--min-sites",
        help=f"Sites needed before a pooled figure is released (at least {LOWEST_MIN_SITES}).",
    ),
    declarations: Path | None = typer.Option(
        None,
        "--declarations",
        help="YAML or JSON: the metrics (name, label, direction, scale, of, primary) and "
        "subgroups the benchmark declares (default: the evaluator's, as inferred).",
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Run the compatibility test on the demo data, then submit the benchmark."""
    session: Session = ctx.obj
    rule = auto_approval_rule(auto_approval, auto_approval_users)
    pinned = read_agreement(agreement) if agreement is not None else None
    declared = read_declarations(declarations) if declarations is not None else None
    demo = pack_demo_data(demo_data)
    body = validated(
        BenchmarkCreate,
        name=name,
        description=description,
        docs_url=docs_url,
        data_preparator_id=data_preparator_id,
        reference_model_id=reference_model_id,
        evaluator_id=evaluator_id,
        demo_data_hash=demo.sha256,
        release_policy=release_policy,
        stage=Stage.DEVELOPMENT if development else Stage.OPERATION,
        runners=[kind.strip() for kind in runner_kinds.split(",") if kind.strip()],
        agreement=pinned,
        auto_approval=rule,
        min_cell_count=min_cell_count,
        min_sites=min_sites,
        metrics=declared.metrics if declared else [],
        subgroups=declared.subgroups if declared else [],
    )
    session.err.print(f"compatibility test of benchmark {name} on its demo data")

    def tested(read: ReadDocument[ResultDocument]) -> None:
        title = "reference model on the demo data"
        print_result_document(session, read.document, title, read.left_out)

    with session.client() as client:
        benchmark = register_benchmark(
            session.executor(client), body, demo, tested, say=session.note
        )
    session.err.print(f"benchmark {benchmark.id} submitted; an admin approves it")
    session.show(benchmark, fmt)


@app.command("set-stage")
def set_stage(
    ctx: typer.Context,
    benchmark_id: int,
    stage: Stage = StageArgument,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Move a draft benchmark into operation (owners); an admin approves it after."""
    session: Session = ctx.obj
    with session.client() as client:
        session.show(client.set_benchmark_stage(benchmark_id, stage), fmt, BENCHMARK_COLUMNS)


@app.command("list")
def list_benchmarks(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """List the benchmarks this account may see (approved ones are public)."""
    session: Session = ctx.obj
    with session.anonymous_client() as client:
        session.show(client.benchmarks(), fmt, BENCHMARK_COLUMNS, "benchmarks")


@app.command("show")
def show(ctx: typer.Context, benchmark_id: int, fmt: OutputFormat = FormatOption) -> None:
    """Show one benchmark, with the membership agreement it requires (if any) in full."""
    session: Session = ctx.obj
    with session.anonymous_client() as client:
        benchmark = client.benchmark(benchmark_id)
    session.render(fmt, benchmark, lambda: _benchmark_tables(session, benchmark))


def _benchmark_tables(session: Session, benchmark: BenchmarkPublic) -> None:
    # The table names the agreement by its hash; the agreement and the declarations
    # follow in full.
    agreement = benchmark.agreement
    apart = frozenset({"metrics", "subgroups"})
    session.out.print(record_table(benchmark.model_copy(update={"agreement": None}), None, apart))
    if benchmark.metrics:
        session.out.print(declared_table(benchmark.metrics))
    else:
        session.out.print("declared metrics: none (the evaluator's, as inferred)")
    if benchmark.subgroups:
        session.out.print(subgroups_table(benchmark.subgroups))
    if agreement is not None:
        membership.print_agreement(session, agreement)


def _decide(ctx: typer.Context, benchmark_id: int, status: ApprovalStatus, yes: bool) -> None:
    session: Session = ctx.obj
    with session.client() as client:
        found = client.benchmark(benchmark_id)
        verb = "Approve" if status is ApprovalStatus.APPROVED else "Reject"
        session.confirm(f"{verb} benchmark {found.id} ({found.name})?", yes)
        benchmark = client.decide_benchmark(benchmark_id, status)
    session.err.print(f"benchmark {benchmark.id} ({benchmark.name}) is {benchmark.approval.value}")


@app.command("approve")
def approve(ctx: typer.Context, benchmark_id: int, yes: bool = YesOption) -> None:
    """Approve a submitted benchmark (admins)."""
    _decide(ctx, benchmark_id, ApprovalStatus.APPROVED, yes)


@app.command("reject")
def reject(ctx: typer.Context, benchmark_id: int, yes: bool = YesOption) -> None:
    """Reject a submitted benchmark (admins)."""
    _decide(ctx, benchmark_id, ApprovalStatus.REJECTED, yes)


@app.command("invalidate")
def invalidate(
    ctx: typer.Context, benchmark_id: int, yes: bool = YesOption, fmt: OutputFormat = FormatOption
) -> None:
    """Invalidate a benchmark for good (owners, admins): nothing new runs under it."""
    session: Session = ctx.obj
    with session.client() as client:
        benchmark = client.benchmark(benchmark_id)
        confirm_invalidation(session, f"benchmark {benchmark.id} ({benchmark.name})", yes)
        session.show(client.invalidate_benchmark(benchmark_id), fmt, BENCHMARK_COLUMNS)


@app.command("leaderboard")
def leaderboard(
    ctx: typer.Context,
    benchmark_id: int,
    phase: str | None = typer.Option(
        None, "--phase", help="The phase's board; default: the one open now, else the last."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Models ranked across sites, with each site's results where they are released to you.
    Each phase has its own board; a closed phase's is the one archived when it closed.

    --format csv: one row per model, each pooled metric in NAME, NAME lower, NAME upper
    (and NAME details), its sites as JSON in a cell."""
    session: Session = ctx.obj
    with session.anonymous_client() as client:
        board = client.leaderboard(benchmark_id, sites=True, phase=phase)
    session.render(
        fmt, board, lambda: print_leaderboard(session, board), lambda: leaderboard_rows(board)
    )


@app.command("shift")
def shift(
    ctx: typer.Context,
    benchmark_id: int,
    phase: str | None = typer.Option(
        None,
        "--phase",
        help="The phase whose results give each site's performance; default: the one open "
        "now, else the last.",
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """How each site's population differs from the other sites' (its preparation
    statistics), flagged by a stated measure and threshold, next to its performance.
    The comparisons come from the statistics, not from results, so they are the same in
    every phase; the performance is that of --phase's results.

    --format csv: one row per site and compared variable."""
    session: Session = ctx.obj
    with session.anonymous_client() as client:
        if phase is not None:
            client.phases.get(benchmark_id, phase)  # an unknown phase: one line, exit 4
        found = client.shift(benchmark_id)

        def table() -> None:
            # Each site's performance: the phase's board.
            board = client.leaderboard(benchmark_id, sites=True, phase=phase)
            print_shift(session, found, board)

        session.render(fmt, found, table, lambda: shift_rows(found))


@app.command("subgroups")
def subgroups(ctx: typer.Context, benchmark_id: int, fmt: OutputFormat = FormatOption) -> None:
    """Each declared subgroup variable's levels pooled across sites per model, and the
    gap between the largest and smallest level, released as the leaderboard is.

    --format csv: one row per model, variable and level (the gaps: --format json)."""
    session: Session = ctx.obj
    with session.anonymous_client() as client:
        found = client.subgroups(benchmark_id)
    session.render(
        fmt, found, lambda: print_subgroups(session, found), lambda: subgroup_rows(found)
    )


@associations_app.command("list")
def list_associations(
    ctx: typer.Context,
    benchmark_id: int | None = typer.Option(None, "--benchmark", "-b"),
    status: ApprovalStatus | None = typer.Option(None, "--status"),
    kind: AssociationKind | None = typer.Option(None, "--kind"),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Association requests this account may see."""
    session: Session = ctx.obj
    with session.client() as client:
        rows = client.associations(benchmark_id, status, kind.value if kind else None)
    session.show(rows, fmt, ASSOCIATION_COLUMNS, "associations")


def _decide_association(
    ctx: typer.Context, association_id: int, status: ApprovalStatus, yes: bool
) -> None:
    session: Session = ctx.obj
    with session.client() as client:
        verb = "Approve" if status is ApprovalStatus.APPROVED else "Reject"
        session.confirm(f"{verb} association {association_id}?", yes)
        association = client.decide_association(association_id, status)
    record(session.audit_log(), status.value, "association", str(association.id), association)
    session.err.print(
        f"association {association.id} ({association.kind.value} {association.entity_name}) "
        f"is {association.status.value}"
    )


@associations_app.command("approve")
def approve_association(ctx: typer.Context, association_id: int, yes: bool = YesOption) -> None:
    """Accept a dataset or model into your benchmark (benchmark owners)."""
    _decide_association(ctx, association_id, ApprovalStatus.APPROVED, yes)


@associations_app.command("reject")
def reject_association(ctx: typer.Context, association_id: int, yes: bool = YesOption) -> None:
    """Turn down a request to join your benchmark (benchmark owners)."""
    _decide_association(ctx, association_id, ApprovalStatus.REJECTED, yes)


@associations_app.command("revoke")
def revoke_association(ctx: typer.Context, association_id: int, yes: bool = YesOption) -> None:
    """Withdraw an association (either side, or an admin): nothing new runs under it; what
    was uploaded stays. The dataset's or model's owner may ask again later."""
    session: Session = ctx.obj
    with session.client() as client:
        session.confirm(f"Revoke association {association_id}?", yes)
        association = client.revoke_association(association_id)
    record(session.audit_log(), "revoked", "association", str(association.id), association)
    session.err.print(
        f"association {association.id} ({association.kind.value} {association.entity_name}) "
        f"is {association.status.value}"
    )


@associations_app.command("show")
def show_association(
    ctx: typer.Context, association_id: int, fmt: OutputFormat = FormatOption
) -> None:
    """One association and its history: who asked, approved, rejected or revoked, when."""
    session: Session = ctx.obj
    with session.client() as client:
        association = client.association(association_id)

    def table() -> None:
        session.show(association, fmt, ASSOCIATION_COLUMNS)
        session.out.print(rows_table(association.history, title="history"))

    session.render(fmt, association, table)


membership.register(app)
participation.register(app)
phases.register(app)
quotas.register(app)
app.command("policies")(benchmark_policies)
app.command("preparation-reports")(benchmark_preparation_reports)
