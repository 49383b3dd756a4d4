"""A site's attestation evidence for a model whose key is released ``attested``: the
server's nonce in, a signed evidence document out, from the command this machine names
(``MEDVAL_ATTESTATION_COMMAND``).

In a confidential VM that command asks the hardware for a report over the nonce (an AMD
SEV-SNP report, an Intel TDX quote) and prints the document the model's pins expect; no
TEE runs on the machines medval is built on, so its tests run a stand-in that signs
medval's own evidence format with a key the model's owner pinned
(``medval.trust.attestation``, ``docs/confidential-computing.md``). The command is this
machine's own setting, never the server's or a cube's: it is run as given (split as a
shell would, never through a shell), with a time limit, and a failure is one line.
"""

from __future__ import annotations

import shlex
import subprocess

from medval.client.settings import ClientSettings
from medval.core.attestation_schemas import MAX_EVIDENCE_CHARS
from medval.core.errors import InvalidInput, KeyReleaseRefused
from medval.core.schemas import CubePublic

TIMEOUT_SECONDS = 60.0


def evidence_for(settings: ClientSettings, model: CubePublic, nonce: str) -> str:
    """The evidence document for ``model`` over ``nonce``, as the attestation command
    printed it; one line (exit 16) when there is no command or it fails."""
    if not settings.attestation_command:
        raise KeyReleaseRefused(
            f"model {model.name} releases its key only against attestation evidence, and "
            "this machine names no command that makes it: set MEDVAL_ATTESTATION_COMMAND "
            "(docs/confidential-computing.md)"
        )
    try:
        argv = shlex.split(settings.attestation_command)
    except ValueError as exc:
        raise InvalidInput(f"MEDVAL_ATTESTATION_COMMAND cannot be read: {exc}") from None
    if not argv:
        raise InvalidInput("MEDVAL_ATTESTATION_COMMAND is empty")
    try:
        done = subprocess.run(
            [*argv, str(model.id), nonce],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise KeyReleaseRefused(f"the attestation command {argv[0]} does not exist") from None
    except PermissionError:
        raise KeyReleaseRefused(f"the attestation command {argv[0]} cannot be run") from None
    except subprocess.TimeoutExpired:
        raise KeyReleaseRefused(
            f"the attestation command {argv[0]} gave no evidence in {TIMEOUT_SECONDS:.0f} s"
        ) from None
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        reason = f": {said[-1].strip()}" if said else ""
        raise KeyReleaseRefused(
            f"the attestation command {argv[0]} failed (exit {done.returncode}){reason}"
        )
    evidence = done.stdout.strip()
    if not evidence or len(evidence) > MAX_EVIDENCE_CHARS:
        raise KeyReleaseRefused(
            f"the attestation command {argv[0]} printed {len(evidence)} characters, not an "
            f"evidence document (1 to {MAX_EVIDENCE_CHARS})"
        )
    return evidence
