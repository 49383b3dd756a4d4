"""``medval benchmark agreement ...`` and ``medval benchmark auto-approval``: who may join
a benchmark, and on what terms."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.client.membership import (
    accept_agreement,
    agreement_to_accept,
    auto_approval_rule,
    set_agreement,
)
from medval.core.membership_schemas import MembershipAgreement
from medval.core.schemas import BenchmarkPublic
from medval.core.states import AutoApprovalMode

agreement_app = typer.Typer(
    help="The membership agreement a benchmark requires of its data owners.",
    no_args_is_help=True,
)


def print_agreement(session: Session, agreement: MembershipAgreement) -> None:
    """The document in full, as it was pinned, then its hash."""
    session.out.print("--- membership agreement ---", markup=False, highlight=False)
    session.out.print(agreement.text.rstrip("\n"), markup=False, highlight=False)
    session.out.print("--- end of agreement ---", markup=False, highlight=False)
    session.out.print(f"sha256: {agreement.sha256}", markup=False, highlight=False)


@agreement_app.command("accept")
def accept(ctx: typer.Context, benchmark_id: int, yes: bool = YesOption) -> None:
    """Show the benchmark's agreement and its hash, and accept it on approval (data
    owners, once, before any association of theirs with the benchmark)."""
    session: Session = ctx.obj
    with session.client() as client:
        agreement = agreement_to_accept(client, benchmark_id)
        print_agreement(session, agreement)
        session.confirm(f"Accept this agreement (sha256 {agreement.sha256[:12]}…)?", yes)
        accepted = accept_agreement(client, benchmark_id, agreement)
    session.err.print(
        f"{accepted.username} accepted the agreement of benchmark {benchmark_id} "
        f"(sha256 {accepted.sha256}) at {accepted.accepted_at.isoformat()}",
        markup=False,
        highlight=False,
    )


@agreement_app.command("set")
def set_(
    ctx: typer.Context,
    benchmark_id: int,
    document: Path = typer.Argument(..., help="The agreement: a UTF-8 text file."),
) -> None:
    """Require an agreement, or replace it (benchmark owners); data owners accept the new
    one before their next association."""
    session: Session = ctx.obj
    with session.client() as client:
        benchmark = set_agreement(client, benchmark_id, document)
    sha = benchmark.agreement.sha256 if benchmark.agreement else "-"
    session.err.print(f"benchmark {benchmark.id} requires agreement sha256 {sha}")


@agreement_app.command("acceptances")
def acceptances(ctx: typer.Context, benchmark_id: int, fmt: OutputFormat = FormatOption) -> None:
    """Who accepted the agreement (benchmark owners see everyone; others themselves)."""
    session: Session = ctx.obj
    with session.client() as client:
        rows = client.membership.agreement_acceptances(benchmark_id)
    session.show(rows, fmt, title="acceptances")


def auto_approval(
    ctx: typer.Context,
    benchmark_id: int,
    mode: AutoApprovalMode = typer.Argument(..., help="never, always or allowlist."),
    users: str | None = typer.Option(
        None, "--users", help="For allowlist: the users approved at once, NAME,NAME,..."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Approve associations at request time on your behalf (benchmark owners): never
    (the default), always, or for an allowlist of users. Each is recorded as automatic."""
    session: Session = ctx.obj
    rule = auto_approval_rule(mode, users)
    with session.client() as client:
        benchmark = client.membership.set_auto_approval(benchmark_id, rule)
    session.render(
        fmt,
        benchmark,
        lambda: session.err.print(f"benchmark {benchmark.id}: auto-approval {_rule(benchmark)}"),
    )


def _rule(benchmark: BenchmarkPublic) -> str:
    rule = benchmark.auto_approval
    return rule.mode.value + (f" ({', '.join(rule.users)})" if rule.users else "")


def register(app: typer.Typer) -> None:
    app.add_typer(agreement_app, name="agreement")
    app.command("auto-approval")(auto_approval)
