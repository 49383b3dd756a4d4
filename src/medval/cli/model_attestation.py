"""Model owners: what may hold a private model's key when it is released ``attested``
(``medval model attestation``).

Thin: pins go to the server as they are given, checked by ``AttestationPinsCreate``; the
site's side (a nonce, the evidence, the key) is ``client.released_model_keys``.
"""

from __future__ import annotations

import typer

from medval.cli.context import FormatOption, OutputFormat, Session, validated
from medval.client.model_key_grants import private_model
from medval.core.attestation_schemas import AttestationPinsCreate

app = typer.Typer(
    help="An attested private model: pin what may hold its key; see the pins.",
    no_args_is_help=True,
)


@app.command("pin")
def pin(
    ctx: typer.Context,
    model_id: int = typer.Argument(...),
    measurement: str = typer.Option(
        ..., "--measurement", help="The runner image's launch measurement, hex (SEV-SNP, TDX)."
    ),
    launch_policy: str = typer.Option(
        ..., "--launch-policy", help="The guest's launch policy, as the evidence states it."
    ),
    signing_key: str = typer.Option(
        ...,
        "--signing-key",
        help="The Ed25519 public key (base64) that signs the evidence.",
    ),
    window_seconds: int = typer.Option(
        300, "--window-seconds", help="How old evidence may be (10 to 3600 s)."
    ),
    fmt: OutputFormat = FormatOption,
) -> None:
    """Pin (or pin again: it replaces) the measurement, launch policy and evidence key
    that the model's key is released against; a site's evidence must match all three."""
    session: Session = ctx.obj
    pins = validated(
        AttestationPinsCreate,
        measurement=measurement.lower(),
        launch_policy=launch_policy,
        signing_public_key=signing_key,
        window_seconds=window_seconds,
    )
    with session.client() as client:
        model = private_model(client, model_id)
        pinned = client.model_keys.pin_attestation(model.id, pins)
    session.note(f"model {model.name}: its key is released only to measurement {measurement[:16]}")
    session.show(pinned, fmt)


@app.command("show")
def show(
    ctx: typer.Context, model_id: int = typer.Argument(...), fmt: OutputFormat = FormatOption
) -> None:
    """The model's pins: what a site's runner must be for its key to be released."""
    session: Session = ctx.obj
    with session.client() as client:
        model = private_model(client, model_id)
        pins = client.model_keys.attestation_pins(model.id)
    session.show(pins, fmt)
