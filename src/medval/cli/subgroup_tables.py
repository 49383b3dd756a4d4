"""How a benchmark's subgroups look in a terminal: per model and declared variable, a table
of its levels (sites, cases, each metric pooled with its 95% interval, or why withheld),
then one line per metric for the gap between the levels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from medval.cli.render import count, interval
from medval.core.subgroup_schemas import (
    BenchmarkSubgroupsPublic,
    SubgroupGapPublic,
    SubgroupModelPublic,
    SubgroupVariablePublic,
)

if TYPE_CHECKING:
    from medval.cli.context import Session


def gap_line(gap: SubgroupGapPublic) -> str:
    """``gap in auroc: 50-69 - <50 = 0.100 [0.020, 0.180]``."""
    span = "" if gap.lower is None or gap.upper is None else f" [{gap.lower:.3f}, {gap.upper:.3f}]"
    return f"gap in {gap.metric}: {gap.largest} - {gap.smallest} = {gap.difference:.3f}{span}"


def variable_table(
    model: SubgroupModelPublic, variable: SubgroupVariablePublic, metrics: list[str]
) -> Table:
    table = Table(title=f"{model.model}: {variable.label} ({variable.name})")
    for column in ("level", "n sites", "n cases", *metrics):
        table.add_column(column)
    for level in variable.levels:
        cells = (
            [level.withheld or ""] + [""] * (len(metrics) - 1)
            if level.withheld
            else [interval(level.pooled.get(name)) for name in metrics]
        )
        table.add_row(level.level, str(level.n_sites), count(level.n_cases), *cells)
    return table


def print_subgroups(session: Session, found: BenchmarkSubgroupsPublic) -> None:
    if not found.declared:
        session.out.print(f"benchmark {found.benchmark} declares no subgroup variables")
        return
    if not found.models:
        session.out.print(f"benchmark {found.benchmark}: no results yet")
    for model in found.models:
        if model.withheld:
            session.out.print(f"{model.model}: withheld: {model.withheld}", markup=False)
            continue
        for variable in model.variables:
            session.out.print(variable_table(model, variable, found.metrics))
            for gap in variable.gaps:
                session.out.print(gap_line(gap), markup=False, highlight=False)
