"""The report as one HTML page that needs nothing beside it: the style sheet inlined, the
forest plots drawn as SVG in the page, no script, no link out."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from medval import look
from medval.report.evidence import Evidence
from medval.report.forest_plot import ForestPlot, forest_plot, sites_plot

TEMPLATES = Path(__file__).parent / "templates"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(evidence: Evidence, json_sha256: str, files: list[str]) -> str:
    """The page for ``evidence``; ``json_sha256`` names the JSON it was made with."""
    board = evidence.leaderboard
    released = [entry for entry in board.entries if entry.withheld is None]
    model_plots = [
        (name, plot) for name in board.metrics if (plot := forest_plot(board, name)) is not None
    ]
    site_plots: list[tuple[object, list[ForestPlot]]] = []
    for entry in released:
        plots = [p for name in board.metrics if (p := sites_plot(board, entry, name)) is not None]
        if plots:
            site_plots.append((entry, plots))
    return _environment.get_template("report.html").render(
        style=(look.FOLDER / "medval.css").read_text(encoding="utf-8"),
        provenance=evidence.provenance,
        benchmark=evidence.benchmark,
        board=board,
        subgroups=evidence.subgroups,
        shift=evidence.shift,
        model_plots=model_plots,
        site_plots=site_plots,
        json_sha256=json_sha256,
        files=files,
    )
