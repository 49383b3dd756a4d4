"""Export bundles: a benchmark's results that this account may see, with their
signatures and the public keys that made them, for anyone to verify with no server
(``medval.trust.bundle``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from medval.client.http import MedvalClient
from medval.client.workspace import write_json_atomically
from medval.trust.bundle import Bundle


def export_bundle(client: MedvalClient, benchmark_id: int, exported_by: str) -> Bundle:
    """The bundle of one benchmark, as the server shows it to this account.

    Results uploaded before results were signed are included as they are (the verifier
    names them as not signed). ``audit`` holds the server's audit entries about these
    results, as far as this account may see them.
    """
    benchmark = client.benchmark(benchmark_id)
    results = client.results(benchmark_id=benchmark_id)
    key_ids = sorted({r.key_id for r in results if r.key_id is not None})
    return Bundle(
        server=client.base_url,
        benchmark_id=benchmark.id,
        benchmark=benchmark.name,
        exported_by=exported_by,
        exported_at=datetime.now(UTC),
        results=results,
        keys=[client.signing_key(key_id) for key_id in key_ids],
        audit=client.audit_entries("result", [r.id for r in results]),
    )


def write_bundle(bundle: Bundle, path: Path) -> None:
    write_json_atomically(path, bundle.model_dump_json(indent=2))
