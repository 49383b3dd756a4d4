"""The site's attestation command (``MEDVAL_ATTESTATION_COMMAND``): run with the model id
and the nonce as its last two arguments, its output is the evidence; no command, a
missing or failing one, or one that prints nothing, is one line (exit 16 through the
CLI), and nothing is sent."""

from __future__ import annotations

import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.client.attestation_evidence import evidence_for
from medval.client.settings import ClientSettings
from medval.core.errors import InvalidInput, KeyReleaseRefused
from medval.core.schemas import CubePublic
from medval.core.sealed_models import KeyReleaseVerifierKind, SealedArchive
from medval.core.states import CubeKind, Stage

NONCE = "ab" * 32
MODEL = CubePublic(
    id=12,
    name="attested-model",
    kind=CubeKind.MODEL,
    archive_hash="a" * 64,
    owner_id=1,
    owner="vendor",
    stage=Stage.OPERATION,
    created_at=datetime.now(UTC),
    sealed=SealedArchive(sealed_hash="b" * 64, key_release=KeyReleaseVerifierKind.ATTESTED),
)


def _settings(tmp_path: Path, command: str | None) -> ClientSettings:
    return ClientSettings(home=tmp_path, attestation_command=command)


def _python(tmp_path: Path, code: str) -> str:
    script = tmp_path / "attester.py"
    script.write_text(code)
    return shlex.join([sys.executable, str(script)])


def test_the_command_gets_the_model_and_the_nonce_and_its_output_is_the_evidence(
    tmp_path: Path,
) -> None:
    command = _python(tmp_path, "import sys, json; print(json.dumps(sys.argv[1:]))")
    assert evidence_for(_settings(tmp_path, command), MODEL, NONCE) == f'["12", "{NONCE}"]'


def test_no_command_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(KeyReleaseRefused) as refused:
        evidence_for(_settings(tmp_path, None), MODEL, NONCE)
    assert str(refused.value) == (
        "model attested-model releases its key only against attestation evidence, and this "
        "machine names no command that makes it: set MEDVAL_ATTESTATION_COMMAND "
        "(docs/confidential-computing.md)"
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "import sys; print('starting', file=sys.stderr); "
            "print('no SEV-SNP device at /dev/sev-guest', file=sys.stderr); sys.exit(3)",
            "failed (exit 3): no SEV-SNP device at /dev/sev-guest",
        ),
        ("pass", "printed 0 characters, not an evidence document (1 to 65536)"),
    ],
)
def test_a_failing_command_is_one_line(tmp_path: Path, code: str, message: str) -> None:
    command = _python(tmp_path, code)
    with pytest.raises(KeyReleaseRefused) as refused:
        evidence_for(_settings(tmp_path, command), MODEL, NONCE)
    assert str(refused.value) == f"the attestation command {sys.executable} {message}"


def test_a_missing_or_unreadable_command_is_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-agent")
    with pytest.raises(KeyReleaseRefused) as refused:
        evidence_for(_settings(tmp_path, missing), MODEL, NONCE)
    assert str(refused.value) == f"the attestation command {missing} does not exist"
    with pytest.raises(InvalidInput) as unreadable:
        evidence_for(_settings(tmp_path, "agent 'unclosed"), MODEL, NONCE)
    assert str(unreadable.value) == (
        "MEDVAL_ATTESTATION_COMMAND cannot be read: No closing quotation"
    )
