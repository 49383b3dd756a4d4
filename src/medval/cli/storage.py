"""``medval storage``: see what the client keeps on disk, and free its caches."""

from __future__ import annotations

import typer
from pydantic import BaseModel

from medval.cli.context import FormatOption, OutputFormat, Session, YesOption
from medval.client.storage import CACHES, Area, clean, shared, usage
from medval.core.errors import InvalidInput

app = typer.Typer(help="See and free what the client keeps on disk.", no_args_is_help=True)


class AreaRow(BaseModel):
    area: str
    entries: int
    size: str
    cache: bool
    holds: str
    path: str


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


@app.command("list")
def list_storage(ctx: typer.Context, fmt: OutputFormat = FormatOption) -> None:
    """Each part of the workspace, its size, and whether it is a cache."""
    session: Session = ctx.obj
    rows = [
        AreaRow(
            area=row.area.value,
            entries=row.entries,
            size=_mib(row.bytes),
            cache=row.cache,
            holds=row.holds,
            path=str(row.path),
        )
        for row in usage(session.workspace)
    ]
    session.show(rows, fmt, title=f"medval storage in {session.workspace.home}")


@app.command("clean")
def clean_storage(
    ctx: typer.Context,
    areas: list[Area] = typer.Option(
        [],
        "--area",
        help="A cache to empty (cubes, images, environments, demo-data, scratch, logs); repeat it. "
        "Default: every cache.",
    ),
    uploaded_results: bool = typer.Option(
        False,
        "--uploaded-results",
        help="Also remove the predictions and outputs of results already uploaded "
        "(their record stays). Unsent results are never removed.",
    ),
    yes: bool = YesOption,
) -> None:
    """Free the caches (prepared datasets and unsent results are never touched)."""
    session: Session = ctx.obj
    chosen = areas or list(CACHES)
    refused = [area.value for area in chosen if area not in CACHES]
    if refused:
        raise InvalidInput(
            f"{', '.join(refused)} is not a cache: medval storage clean never removes "
            "prepared datasets or unsent results (--uploaded-results frees uploaded ones)"
        )
    workspace = session.workspace
    kept = [area for area in chosen if shared(workspace, area)]
    if kept and areas:
        raise InvalidInput(
            f"the environments are this machine's, in {workspace.shared_environments} "
            "(MEDVAL_ENVIRONMENTS), shared with other workspaces: medval storage clean "
            "leaves them; remove that folder yourself when no workspace needs it"
        )
    chosen = [area for area in chosen if area not in kept]
    sizes = {row.area: row.bytes for row in usage(workspace)}
    planned = ", ".join(f"{area.value} ({_mib(sizes[area])})" for area in chosen)
    if uploaded_results:
        planned += ", and the outputs of uploaded results"
    session.confirm(f"Remove {planned} from {workspace.home}?", yes)
    freed = clean(workspace, chosen, uploaded_results)
    session.err.print(f"freed {_mib(freed)}")
    if kept:
        session.err.print(
            f"left this machine's shared environments in {workspace.shared_environments} "
            "(MEDVAL_ENVIRONMENTS): other workspaces use them"
        )
