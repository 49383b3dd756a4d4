"""Use case: a benchmark's evidence report (``medval report``; the demo writes one).

Reads what the server releases to this reader (the benchmark, its leaderboard, subgroups
and shift) and writes it as ``medval.report`` lays it out. Nothing is computed here: every
figure is the server's, so the report says exactly what the leaderboard says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from medval import __version__
from medval.client.http import MedvalClient
from medval.core import api
from medval.report.evidence import Evidence, Provenance, Source
from medval.report.folder import write_report


def gather_evidence(
    client: MedvalClient, benchmark_id: int, reader: str | None, phase: str | None = None
) -> Evidence:
    """The server's answers on ``benchmark_id``, as released to ``reader`` (None: anyone):
    the results of phase ``phase`` (None: the one open now, else the last). The shift
    between sites is of their preparation statistics, the same in every phase."""
    read_at = datetime.now(UTC)
    benchmark = client.benchmark(benchmark_id)
    # The sites' table and plots; an unknown phase is refused here, before anything else.
    leaderboard = client.leaderboard(benchmark_id, sites=True, phase=phase)
    subgroups = client.subgroups(benchmark_id, phase=phase)
    shift = client.shift(benchmark_id)
    of_phase = f"&phase={quote(phase, safe='')}" if phase is not None else ""
    paths = [
        ("The benchmark", api.BENCHMARK),
        ("Leaderboard", api.LEADERBOARD + "?sites=true" + of_phase),
        ("Subgroups", api.BENCHMARK_SUBGROUPS + of_phase.replace("&", "?", 1)),
        ("Shift", api.BENCHMARK_SHIFT),
    ]
    provenance = Provenance(
        server=client.base_url,
        reader=reader,
        read_at=read_at,
        medval_version=__version__,
        sources=[Source(holds=h, path=p.format(benchmark_id=benchmark_id)) for h, p in paths],
    )
    return Evidence(
        provenance=provenance,
        benchmark=benchmark,
        leaderboard=leaderboard,
        subgroups=subgroups,
        shift=shift,
    )


def make_report(
    client: MedvalClient,
    benchmark_id: int,
    reader: str | None,
    folder: Path,
    phase: str | None = None,
) -> list[Path]:
    """Write the report of ``benchmark_id`` (of phase ``phase``; None: the one open now,
    else the last) into ``folder``; the files, the page first."""
    return write_report(gather_evidence(client, benchmark_id, reader, phase), folder)
