"""The model owner's side of a private model's key: who may hold it, wrapping it to each
approved site (``sync``, ``grant``) and withholding it from one.

The model's key comes from the owner's store on this machine (``client.model_keys``);
it is wrapped here, to each site's registered encryption key
(``medval.trust.key_wrapping``), and only the wrapped form is sent. The server refuses a
site that is not approved, so a key never reaches one.
"""

from __future__ import annotations

from dataclasses import dataclass

from medval.client.http import MedvalClient
from medval.client.model_keys import OwnerModelKeys
from medval.client.settings import ClientSettings
from medval.core.errors import InvalidInput, InvalidTransition, MedvalError
from medval.core.model_key_schemas import ModelKeyRecipient, ModelKeyState
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind
from medval.trust.key_wrapping import wrap_model_key


def private_model(client: MedvalClient, model_id: int) -> CubePublic:
    """Model ``model_id``, which must be private (one line otherwise)."""
    cube = client.cube(model_id)
    if cube.kind is not CubeKind.MODEL or cube.sealed is None:
        raise InvalidInput(f"model {cube.name} is not private: it has no key to share")
    return cube


@dataclass(frozen=True)
class SyncLine:
    """What ``sync`` did for one site, in one line."""

    site: str
    outcome: str
    failed: bool = False


def _wrap_and_grant(
    client: MedvalClient, model: CubePublic, key: bytes, recipient: ModelKeyRecipient
) -> None:
    assert model.sealed is not None and recipient.public_key and recipient.key_id
    wrapped = wrap_model_key(key, recipient.public_key, model.sealed.sealed_hash)
    client.model_keys.grant(model.id, recipient.recipient, recipient.key_id, wrapped)


_SKIPPED = {
    ModelKeyState.HELD: "holds the key already",
    ModelKeyState.WITHHELD: "withheld: skipped (grant it with 'medval model keys grant')",
    ModelKeyState.NO_KEY: "has no encryption key yet (it is made when the site logs in)",
}


def sync_model_keys(
    client: MedvalClient, settings: ClientSettings, username: str, model: CubePublic
) -> list[SyncLine]:
    """Wrap the model's key to every approved site that has none (or one wrapped to a key
    it has since replaced) and is not withheld; one line per site."""
    recipients = client.model_keys.recipients(model.id)  # the server checks the owner first
    key = OwnerModelKeys(settings, username).key_for(model)
    lines = []
    for recipient in recipients:
        skipped = _SKIPPED.get(recipient.state)
        if skipped is not None:
            lines.append(SyncLine(recipient.recipient, skipped))
            continue
        try:
            _wrap_and_grant(client, model, key, recipient)
        except MedvalError as exc:  # one site's refusal (its key changed just now) is its line
            lines.append(SyncLine(recipient.recipient, f"not granted: {exc.message}", True))
            continue
        again = (
            " again (its encryption key changed)" if recipient.state is ModelKeyState.STALE else ""
        )
        lines.append(SyncLine(recipient.recipient, f"granted{again}"))
    return lines


def grant_model_key(
    client: MedvalClient, settings: ClientSettings, username: str, model: CubePublic, site: str
) -> ModelKeyRecipient:
    """Wrap the model's key to one approved site (ending a withholding)."""
    recipients = client.model_keys.recipients(model.id)  # the server checks the owner first
    found = next((r for r in recipients if r.recipient == site), None)
    if found is None:
        raise InvalidTransition(
            f"{site} is not approved to run model {model.name}: no dataset of theirs has an "
            "approved association with a benchmark where the model is approved"
        )
    if found.public_key is None:
        raise InvalidTransition(f"{site} has no encryption key yet; it is made when they log in")
    key = OwnerModelKeys(settings, username).key_for(model)
    _wrap_and_grant(client, model, key, found)
    return found.model_copy(update={"state": ModelKeyState.HELD})


def withhold_model_key(client: MedvalClient, model: CubePublic, site: str) -> ModelKeyRecipient:
    """Delete the site's wrapped key; ``sync`` skips it until it is granted again."""
    return client.model_keys.withhold(model.id, site)
