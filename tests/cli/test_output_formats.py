"""Every list and show command gives ``--format table|json|csv``; the choice is made in
one place (``cli.context.render``), so a new format cannot fall through to a table."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from rich.console import Console

from medval.cli.context import OutputFormat, render
from medval.cli.flat_rows import leaderboard_rows
from medval.cli.main import app, main
from medval.core.result_schemas import LeaderboardEntry, LeaderboardPublic, PooledMetric
from medval.core.states import ReleasePolicy
from tests.cli.test_training_commands import PLAN, PREP_SPEC, Medval, _cubes

CLI = Path(__file__).resolve().parents[2] / "src" / "medval" / "cli"


def _commands(command: Any, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command and group of the tree, by its path (the root loads them when asked)."""
    found = [(prefix, command)] if prefix else []
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            found += _commands(command.get_command(ctx, name), f"{prefix} {name}".strip())
    return found


COMMANDS = dict(_commands(typer.main.get_command(app)))
LIST_LIKE = {"leaderboard", "shift", "subgroups", "rounds", "sites", "policies", "acceptances"}
SHOWN = sorted(
    path
    for path in COMMANDS
    if path.split()[-1] in {"list", "show", *LIST_LIKE}
    or path in {"audit", "whoami", "doctor", "model results", "results list"}
)


def _format_choices(command: click.Command) -> list[str]:
    option = next((p for p in command.params if "--format" in getattr(p, "opts", [])), None)
    assert option is not None, "no --format"
    assert isinstance(option.type, click.Choice)
    return list(option.type.choices)


def test_the_list_and_show_commands_are_found() -> None:
    for path in ("users list", "benchmark leaderboard", "results list", "storage list"):
        assert path in SHOWN
    assert "server audit show" in SHOWN and "audit" in SHOWN
    assert len(SHOWN) >= 25


@pytest.mark.parametrize("path", SHOWN)
def test_every_list_and_show_command_gives_csv(path: str) -> None:
    assert _format_choices(COMMANDS[path]) == ["table", "json", "csv"]


def test_every_command_with_a_format_offers_each_one() -> None:
    with_format = [
        path
        for path, command in COMMANDS.items()
        if any("--format" in getattr(p, "opts", []) for p in command.params)
    ]
    assert len(with_format) > len(SHOWN)
    for path in with_format:
        assert _format_choices(COMMANDS[path]) == [f.value for f in OutputFormat], path


def test_no_command_chooses_by_format_itself() -> None:
    """Only cli.context matches on the format, exhaustively (``assert_never``): a command
    that compared ``fmt is OutputFormat.JSON`` would print a table for any new format."""
    compared = re.compile(r"OutputFormat\.(JSON|TABLE|CSV)|\bfmt\s*(is|==|!=|in)\b")
    for source in sorted(CLI.glob("*.py")):
        if source.name == "context.py":
            continue
        for number, line in enumerate(source.read_text().splitlines(), 1):
            assert not compared.search(line), f"{source.name}:{number}: {line.strip()}"


# --- what the CSV holds -------------------------------------------------------------------


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _table_headers(text: str) -> list[str]:
    """The column headings of the first table rich drew (its header row: ``┃ a ┃ b ┃``)."""
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


def _record_fields(text: str) -> list[str]:
    """The field names of a record table (one field a line: ``│ name │ value │``)."""
    return [
        line.strip("│").split("│")[0].strip() for line in text.splitlines() if line.startswith("│")
    ]


def test_users_list_as_csv_holds_every_column_of_the_table_and_every_field(
    people: dict[str, Medval],
) -> None:
    root = people["root"]
    table = root("users", "list")
    as_csv = root("users", "list", "--format", "csv")
    as_json = json.loads(root("users", "list", "--format", "json").stdout)
    assert (table.code, as_csv.code) == (0, 0)
    header = as_csv.stdout.splitlines()[0].split(",")
    assert set(_table_headers(table.stdout)) <= set(header)
    assert set(as_json[0]) <= set(header)
    rows = _csv(as_csv.stdout)
    assert [row["username"] for row in rows] == [user["username"] for user in as_json]
    assert len(rows) == 4 and {"root", "trainer", "hospital", "host"} == {
        row["username"] for row in rows
    }


def test_a_show_is_a_header_and_one_row(people: dict[str, Medval]) -> None:
    trainer = people["trainer"]
    shown = trainer("whoami", "--format", "csv")
    assert shown.code == 0
    lines = shown.stdout.splitlines()
    assert len(lines) == 2
    (row,) = _csv(shown.stdout)
    assert row["username"] == "trainer"
    assert set(_record_fields(trainer("whoami").stdout)) <= set(row)


def test_nested_values_are_json_in_their_cell(people: dict[str, Medval], tmp_path: Path) -> None:
    trainer, host = people["trainer"], people["host"]
    prep, cube = _cubes(people, tmp_path)
    assert (
        host("aggregator", "register", "agg", "--address", "127.0.0.1", "--port", "9092").code == 0
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    register = ("training", "register", "exp", "--prep", str(prep), "--training-cube", str(cube))
    assert trainer(*register, "--plan", str(plan), "--aggregator", "agg").code == 0

    as_json = json.loads(trainer("training", "show", "exp", "--format", "json").stdout)
    shown = trainer("training", "show", "exp", "--format", "csv")
    # A header and one record (a certificate's PEM keeps its lines, quoted in its cell).
    assert shown.code == 0 and len(list(csv.reader(io.StringIO(shown.stdout)))) == 2
    (row,) = _csv(shown.stdout)
    assert set(row) == set(as_json)
    assert isinstance(as_json["plan"], dict)
    assert json.loads(row["plan"]) == as_json["plan"]
    assert row["name"] == "exp"

    listed = _csv(trainer("cube", "list", "--format", "csv").stdout)
    assert set(_table_headers(trainer("cube", "list").stdout)) <= set(listed[0])
    as_json = json.loads(trainer("cube", "list", "-f", "json").stdout)
    assert [int(r["id"]) for r in listed] == [c["id"] for c in as_json] == [prep, cube]


def test_an_empty_list_as_csv_is_its_header(people: dict[str, Medval]) -> None:
    listed = people["trainer"]("training", "list", "--format", "csv")
    assert listed.code == 0
    header = listed.stdout.splitlines()
    assert len(header) == 1 and header[0].startswith("id,")


def test_a_leaderboard_as_csv_is_one_row_per_model() -> None:
    board = _board()
    out = io.StringIO()
    render(
        Console(file=out), OutputFormat.CSV, board, lambda: None, lambda: leaderboard_rows(board)
    )
    rows = _csv(out.getvalue())
    assert [row["model"] for row in rows] == ["shown", "few"]
    shown, few = rows
    assert (shown["auroc"], shown["auroc lower"], shown["auroc upper"]) == ("0.8", "0.7", "0.9")
    assert json.loads(shown["auroc details"])["prediction_lower"] == 0.6
    assert (shown["rank"], shown["tied"], shown["sites"]) == ("1", "false", "[]")
    assert (few["auroc"], few["withheld"]) == ("", "from 1 site; shown from 3")
    as_json = json.loads(board.model_dump_json())
    assert set(as_json["entries"][0]) - {"pooled"} <= set(shown)


def _board() -> LeaderboardPublic:
    pooled = PooledMetric(
        value=0.8, lower=0.7, upper=0.9, n_sites=3, i_squared=0.2,
        prediction_lower=0.6, prediction_upper=0.95,
    )  # fmt: skip
    shown = LeaderboardEntry(
        model_id=1, model="shown", model_owner="v", n_sites=3, n_cases=300,
        pooled={"auroc": pooled}, rank=1, rank_lower=1, rank_upper=1,
    )  # fmt: skip
    few = LeaderboardEntry(
        model_id=2, model="few", model_owner="w", n_sites=1, n_cases=None, pooled={},
        withheld="from 1 site; shown from 3",
    )  # fmt: skip
    return LeaderboardPublic(
        benchmark_id=1, benchmark="b", release_policy=ReleasePolicy.PUBLIC,
        metrics=["auroc"], primary_metric="auroc", higher_is_better=True, entries=[shown, few],
    )  # fmt: skip


def test_a_run_refuses_csv_in_one_line_before_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--home", str(tmp_path), "run", "--format", "csv", "--yes"])
    assert code == 2
    assert capsys.readouterr() == (
        "",
        "error: --format csv: a run's account is one nested document (each execution and "
        "what it gave); use --format json\n",
    )
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


# --- progress: on a terminal only, never in a pipe, never with --quiet --------------------


def _medval(
    args: list[str], home: Path, terminal: bool, progress: str | None = None
) -> tuple[int, str, str]:
    """``medval ARGS`` in a process of its own, its stderr a pseudo-terminal or a pipe."""
    env = {**os.environ, "MEDVAL_HOME": str(home), "COLUMNS": "120"}
    for variable in ("FORCE_TERMINAL", "TTY_COMPATIBLE", "MEDVAL_PROGRESS", "MEDVAL_DEBUG"):
        env.pop(variable, None)
    if progress is not None:
        env["MEDVAL_PROGRESS"] = progress
    command = [sys.executable, "-m", "medval", *args]
    if not terminal:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower
    )
    os.close(follower)
    said = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed the terminal (EIO)
            break
        if not chunk:
            break
        said += chunk
    os.close(leader)
    assert process.stdout is not None
    out = process.stdout.read().decode()
    return process.wait(timeout=120), out, said.decode(errors="replace")


def _big_cube(folder: Path, name: str) -> Path:
    """A cube whose archive is over 4 MiB: its upload says how far it is."""
    folder.mkdir(parents=True)
    (folder / "medval-cube.yaml").write_text(PREP_SPEC.replace("name: prep", f"name: {name}"))
    (folder / "weights.bin").write_bytes(os.urandom(6 << 20))
    return folder


def test_progress_shows_on_a_terminal_only_and_never_with_quiet(
    people: dict[str, Medval], tmp_path: Path
) -> None:
    home = tmp_path / "trainer"  # logged in by the fixture
    ways = {
        "terminal": ([], True, None),
        "pipe": ([], False, None),
        "quiet terminal": (["--quiet"], True, None),
        "never on a terminal": ([], True, "never"),
        "always in a pipe": ([], False, "always"),  # as medval demo shows its commands'
    }
    said = {}
    for n, (way, (before, terminal, progress)) in enumerate(ways.items()):
        cube = _big_cube(tmp_path / f"cube-{n}", f"big-{n}")
        args = [*before, "cube", "register", str(cube), "--format", "json"]
        code, out, err = _medval(args, home, terminal, progress)
        assert code == 0, (way, err)
        assert json.loads(out)["name"] == f"big-{n}"  # the result prints every way
        said[way] = err
    plain = re.sub(r"\x1b\[[0-9;]*m", "", said["terminal"])  # the terminal's colours
    assert re.search(r"⇅ .*: 100% \(6\.0 of 6\.0 MiB\)", plain), plain
    for way in ("pipe", "quiet terminal", "never on a terminal"):
        assert "⇅" not in said[way], way
    assert "⇅ a blob: 100% (6.0 of 6.0 MiB)" in said["always in a pipe"]


def test_an_error_still_prints_with_quiet(tmp_path: Path) -> None:
    code, out, err = _medval(["--quiet", "run", "--jobs", "0", "--yes"], tmp_path, True)
    assert (code, out) == (2, "")
    assert err.strip().startswith("error: ")


def test_results_and_rounds_as_csv_rows() -> None:
    from datetime import UTC, datetime

    from medval.cli.flat_rows import result_rows, round_rows
    from medval.core.training_schemas import RoundMetricsPublic, SiteRoundMetricsPublic

    at = datetime(2026, 1, 2, tzinfo=UTC)
    aggregated = RoundMetricsPublic(
        id=1, experiment_id=1, round=1, metrics={"loss": 0.5}, uploaded_by="host", created_at=at
    )
    own = SiteRoundMetricsPublic(
        id=2, experiment_id=1, dataset_id=3, dataset="site-a", round=1,
        metrics={"loss": 0.4, "n": 10}, uploaded_by="hospital", created_at=at,
    )  # fmt: skip
    rows = round_rows([aggregated], [own])
    assert [(r["round"], r["dataset"], r["loss"], r.get("n")) for r in rows] == [
        (1, None, 0.5, None),
        (1, "site-a", 0.4, 10),
    ]
    assert result_rows([]) == []


def test_no_local_results_as_csv_is_a_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(tmp_path), "results", "list", "--local", "--format", "csv"]) == 0
    assert capsys.readouterr() == ("key,dataset,model,status,n_cases\n", "")


def test_where_steps_are_not_shown_a_caveat_still_is() -> None:
    from medval.cli.context import TerminalProgress
    from medval.client.execution import CAVEAT

    said = io.StringIO()
    progress = TerminalProgress(Console(file=said, width=200), shown=False)
    progress.step("model-a: infer")
    progress.done("model-a: infer", 1.0)
    progress.step(f"[1/2] {CAVEAT}memory limit not enforced here")
    assert said.getvalue() == "  → [1/2] note: memory limit not enforced here …\n"
