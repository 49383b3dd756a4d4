"""``medval audit``: this workspace's own audit log (``medval.client.audit_log``).

``medval audit`` lists what was approved, run and uploaded from here; ``medval audit
verify`` checks the chain and names the first entry that does not verify.
"""

from __future__ import annotations

import typer

from medval.cli.context import FormatOption, OutputFormat, Session
from medval.cli.render import audit_table

app = typer.Typer(
    help="This workspace's own audit log: every approval, execution and upload made here.",
    invoke_without_command=True,
)


@app.callback()
def show(
    ctx: typer.Context,
    entity: str | None = typer.Option(
        None, "--entity", help="KIND or KIND:ID, e.g. execution:b1-m2-d3"
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """List the entries, oldest first (without a sub-command)."""
    if ctx.invoked_subcommand is not None:
        return
    session: Session = ctx.obj
    kind, _, entity_id = (entity or "").partition(":")
    entries = [
        e
        for e in session.audit_log().entries()
        if kind in ("", e.entity_kind) and entity_id in ("", e.entity_id)
    ]
    session.render(
        fmt,
        entries,
        lambda: session.out.print(
            audit_table(entries, "local audit log") if entries else "(no audit entries)"
        ),
    )


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check every entry, link and the head; name the first entry that does not verify."""
    session: Session = ctx.obj
    head = session.audit_log().verify()
    typer.echo(f"local audit log verified: {head.size} entries, head {head.last_hash}")
