"""``medval aggregator register|show|list``: the machines that run Flower's SuperLink
for training experiments (``medval aggregator start`` runs one: the training room's)."""

from __future__ import annotations

import typer

from medval.cli import training_runs
from medval.cli.context import FormatOption, OutputFormat, Session
from medval.cli.render import columns
from medval.client.aggregators import find_aggregator, register_aggregator
from medval.core.training_schemas import AggregatorPublic

app = typer.Typer(
    help="Aggregators: machines that run Flower's SuperLink for training experiments.",
    no_args_is_help=True,
)

AGGREGATOR_COLUMNS = columns(AggregatorPublic, "id", "name", "owner", "address", "port")


@app.command("register")
def register(
    ctx: typer.Context,
    name: str,
    address: str = typer.Option(
        ...,
        "--address",
        help="Host name or IP address sites connect to (its certificate names it).",
    ),
    port: int = typer.Option(..., "--port", help="The port of its Fleet API (SuperLink)."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Register an aggregator (anyone may); experiments then name it."""
    session: Session = ctx.obj
    with session.client() as client:
        aggregator = register_aggregator(client, name, address, port)
    session.render(
        fmt,
        aggregator,
        lambda: session.note(
            f"aggregator {aggregator.id} ({aggregator.name}) registered at "
            f"{aggregator.address}:{aggregator.port}"
        ),
    )


@app.command("show")
def show(
    ctx: typer.Context,
    aggregator: str = typer.Argument(..., help="Its name or id."),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Show one aggregator."""
    session: Session = ctx.obj
    with session.client() as client:
        session.show(find_aggregator(client, aggregator), fmt)


@app.command("list")
def list_aggregators(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """List the registered aggregators."""
    session: Session = ctx.obj
    with session.client() as client:
        rows = client.training.aggregators()
    session.show(rows, fmt, AGGREGATOR_COLUMNS, "aggregators")


app.command("start")(training_runs.start)
