"""Model owners: share a private model's key with the approved sites (``medval model keys``).

Thin: the use cases are ``client.model_key_grants``; the key is wrapped on this machine.
"""

from __future__ import annotations

import typer

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.cli.render import columns
from medval.client.model_key_grants import (
    grant_model_key,
    private_model,
    sync_model_keys,
    withhold_model_key,
)
from medval.client.settings import require_login
from medval.core.errors import MedvalError
from medval.core.model_key_schemas import ModelKeyRecipient

RECIPIENT_COLUMNS = columns(ModelKeyRecipient, "recipient", "state", "key_id")

app = typer.Typer(
    help="A private model's key: wrap it to each approved site, or withhold it.",
    no_args_is_help=True,
)


@app.command("sync")
def sync(ctx: typer.Context, model_id: int = typer.Argument(...)) -> None:
    """Wrap the model's key to every approved site that has none and is not withheld;
    one line per site."""
    session: Session = ctx.obj
    username = require_login(session.settings).username
    with session.client() as client:
        model = private_model(client, model_id)
        lines = sync_model_keys(client, session.settings, username, model)
    for line in lines:
        session.out.print(f"{line.site}: {line.outcome}", markup=False, highlight=False)
    if not lines:
        session.note(f"no site is approved to run model {model.name} yet")
    failed = [line.site for line in lines if line.failed]
    if failed:
        # Exit 1: at least one approved site was not granted the key (its line says why).
        raise MedvalError(f"the key of model {model.name} was not granted to {', '.join(failed)}")


@app.command("list")
def list_recipients(
    ctx: typer.Context, model_id: int = typer.Argument(...), fmt: OutputFormat = FormatOption
) -> None:
    """The approved sites of a private model (and those it is withheld from), with where
    each stands: held, missing, stale, withheld, no_key."""
    session: Session = ctx.obj
    with session.client() as client:
        model = private_model(client, model_id)
        rows = client.model_keys.recipients(model.id)
    session.show(rows, fmt, RECIPIENT_COLUMNS, "sites")


@app.command("grant")
def grant(
    ctx: typer.Context,
    model_id: int = typer.Argument(...),
    site: str = typer.Option(..., "--site", help="The site's username."),
) -> None:
    """Wrap the model's key to one approved site (ends a withholding)."""
    session: Session = ctx.obj
    username = require_login(session.settings).username
    with session.client() as client:
        model = private_model(client, model_id)
        grant_model_key(client, session.settings, username, model, site)
    session.note(f"{site}: granted the key of model {model.name}")


@app.command("withhold")
def withhold(
    ctx: typer.Context,
    model_id: int = typer.Argument(...),
    site: str = typer.Option(..., "--site", help="The site's username."),
    yes: bool = YesOption,
) -> None:
    """Delete one site's wrapped key; no new run there until it is granted again."""
    session: Session = ctx.obj
    with session.client() as client:
        model = private_model(client, model_id)
        session.confirm(f"Withhold the key of model {model.name} from {site}?", yes)
        withhold_model_key(client, model, site)
    session.note(f"{site}: the key of model {model.name} is withheld")
