"""``medval verify FILE``: check an export bundle with no server, no network, no login."""

from __future__ import annotations

from pathlib import Path

import typer

from medval.cli.context import Session
from medval.core.errors import InvalidInput, SignatureInvalid
from medval.trust.bundle import MAX_BUNDLE_BYTES, verify_bundle


def verify(
    ctx: typer.Context,
    bundle: Path = typer.Argument(..., help="A bundle from 'medval results export'."),
) -> None:
    """Check every signature of an export bundle offline; one line per record that does
    not verify (exit 12 if any)."""
    session: Session = ctx.obj
    try:
        if bundle.stat().st_size > MAX_BUNDLE_BYTES:
            raise InvalidInput(f"{bundle} is larger than {MAX_BUNDLE_BYTES >> 20} MiB")
        text = bundle.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {bundle}: {exc.strerror}") from exc
    checked = verify_bundle(text)
    for problem in checked.problems:
        session.out.print(problem.line, markup=False, highlight=False, soft_wrap=True)
    if checked.problems:
        raise SignatureInvalid(checked.summary)
    session.out.print(checked.summary, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(verify)
