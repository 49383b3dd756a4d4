"""A stand-in for a confidential VM's attestation agent, for tests: no TEE runs here.

    python stand_in_attester.py --key KEY.pem --measurement HEX --launch-policy P MODEL NONCE

Prints medval's evidence document (``medval.trust.attestation``) for the model over the
nonce, claiming the given measurement and launch policy, signed with the Ed25519 key in
KEY.pem, which the model's owner pinned: what a real agent would print after asking the
hardware for a report over the nonce. ``MEDVAL_ATTESTATION_COMMAND`` names it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from medval.trust.attestation import Evidence, sign_evidence
from medval.trust.keys import SigningKey
from medval.trust.signed_result import timestamp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--measurement", required=True)
    parser.add_argument("--launch-policy", required=True)
    parser.add_argument("model_id", type=int)
    parser.add_argument("nonce")
    args = parser.parse_args()
    key = SigningKey.from_pem(args.key.read_bytes(), str(args.key))
    evidence = Evidence(
        model_id=args.model_id,
        measurement=args.measurement,
        launch_policy=args.launch_policy,
        nonce=args.nonce,
        reported_at=timestamp(datetime.now(UTC)),
    )
    sys.stdout.write(sign_evidence(evidence, key).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
