"""What every command needs: settings, the logged-in client, the workspace, output.

Commands take a ``Session`` from here and stay thin: parse, call, render.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, assert_never

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from medval.client.settings import ClientSettings, ProgressLines, load_login, tls_verify
from medval.core.errors import Cancelled, InvalidInput, describe_problems

if TYPE_CHECKING:  # imported where used: a command that needs none starts faster (issue 14)
    from medval.cli.csv_output import Row
    from medval.client.audit_log import LocalAuditLog
    from medval.client.execution import Executor
    from medval.client.http import MedvalClient
    from medval.client.workspace import Workspace

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], **fields: Any) -> M:
    """Build a request from command-line input; a bad value is one clear line."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise InvalidInput(describe_problems(exc.errors())) from None


class OutputFormat(StrEnum):
    """How a command prints what it gives: every command goes through
    :meth:`Session.render` (or :meth:`Session.show`), which handles each format."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = typer.Option(
    OutputFormat.TABLE,
    "--format",
    "-f",
    help="table, json (every field) or csv (one header row; nested values as JSON in a cell)",
)
YesOption = typer.Option(
    False, "--yes", "-y", help="Approve without asking (for scripts); the same checks run."
)


class TerminalProgress:
    """Prints each step of long work on stderr, so stdout stays clean for --format json;
    where progress is not shown (``shown``: a pipe, a log, --quiet), only the caveats
    (limits the runner cannot hold here), which are warnings."""

    def __init__(self, console: Console, shown: bool = True) -> None:
        self.console = console
        self.shown = shown

    def step(self, message: str) -> None:
        from medval.client.execution import CAVEAT

        if self.shown or CAVEAT in message:  # a tagged one (side by side) too
            self.console.print(f"  [cyan]→[/cyan] {message} …")

    def done(self, message: str, seconds: float) -> None:
        if self.shown:
            self.console.print(f"  [green]✓[/green] {message} ({seconds:.1f} s)")


class TransferLines:
    """Says how far a blob transfer is on stderr, every tenth of it (only for transfers
    of at least ``least`` bytes: a small cube archive goes without a word)."""

    def __init__(self, console: Console, least: int = 4 << 20) -> None:
        self.console = console
        self.least = least
        self._said: dict[str, int] = {}

    def __call__(self, what: str, done: int, total: int) -> None:
        if total < self.least:
            return
        tenth = done * 10 // total if total else 10
        if self._said.get(what, -1) >= tenth:
            return
        self._said[what] = tenth
        mib = 1 << 20
        self.console.print(
            f"  [cyan]⇅[/cyan] {what}: {tenth * 10}% ({done / mib:.1f} of {total / mib:.1f} MiB)"
        )


# A table written to a file, a pipe or a CI log is as wide as its values: no terminal
# width to fit, and rich would otherwise take 80 columns and cut or fold the values.
UNBOUNDED_WIDTH = 100_000


def output_console(stderr: bool = False) -> Console:
    """Where a command writes: the terminal's width on a terminal, unbounded elsewhere.

    No emoji codes: a text such as a description's ``:fire:`` prints as it is written (and rich's
    table of codes is not loaded)."""
    console = Console(stderr=stderr, soft_wrap=True, emoji=False)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, soft_wrap=True, emoji=False, width=UNBOUNDED_WIDTH)


@dataclass
class Session:
    settings: ClientSettings
    out: Console = field(default_factory=output_console)
    err: Console = field(default_factory=lambda: output_console(stderr=True))

    @property
    def workspace(self) -> Workspace:
        from medval.client.workspace import Workspace

        return Workspace.of(self.settings)

    def server_url(self, override: str | None = None) -> str:
        url = override or self.settings.server
        if url is None:
            login = load_login(self.settings)
            url = login.server if login else None
        if url is None:
            raise InvalidInput("no server given; use --server URL or set MEDVAL_SERVER")
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"server URL must start with http:// or https://, not {url!r}")
        return url

    @property
    def progress_shown(self) -> bool:
        """Whether long steps say how far they are: on a terminal, unless ``--quiet``
        (``MEDVAL_PROGRESS`` says otherwise: always, never). The one place this is decided."""
        match self.settings.progress:
            case ProgressLines.AUTO:
                return self.err.is_terminal
            case ProgressLines.ALWAYS:
                return True
            case ProgressLines.NEVER:
                return False
            case _:
                assert_never(self.settings.progress)

    def progress(self, line: str) -> None:
        """One progress line on stderr, where progress is shown (see ``progress_shown``)."""
        if self.progress_shown:
            self.note(line)

    def client(self) -> MedvalClient:
        """A client logged in as the stored account."""
        from medval.client.local_session import logged_in_client

        return logged_in_client(
            self.settings, TransferLines(self.err) if self.progress_shown else None
        )

    def anonymous_client(self) -> MedvalClient:
        """Logged in if possible, anonymous otherwise (for public listings)."""
        from medval.client.http import MedvalClient

        login = load_login(self.settings)
        token = login.token if login else None
        return MedvalClient(
            self.server_url(),
            token,
            timeout=self.settings.http_timeout_seconds,
            verify=tls_verify(self.settings),
        )

    def executor(self, client: MedvalClient) -> Executor:
        from medval.client.local_session import local_executor

        progress = TerminalProgress(self.err, self.progress_shown)
        return local_executor(self.settings, client, progress)

    def actor(self) -> str:
        """Who the local audit log records: the account logged in here."""
        from medval.client.local_session import actor

        return actor(self.settings)

    def audit_log(self) -> LocalAuditLog:
        from medval.client.local_session import local_audit_log

        return local_audit_log(self.settings)

    def note(self, line: str) -> None:
        """One line on stderr, as it is (no markup read into it)."""
        self.err.print(line, markup=False, highlight=False)

    def confirm(self, question: str, yes: bool) -> None:
        """Ask before anything leaves this machine; --yes answers for scripts."""
        if yes:
            return
        if not sys.stdin.isatty():
            raise Cancelled(f"{question} — no terminal to ask on; pass --yes to approve")
        if not typer.confirm(question, default=False, err=True):
            raise Cancelled("cancelled; nothing was sent")

    # --- rendering ----------------------------------------------------------------------

    def render(
        self,
        fmt: OutputFormat,
        data: Sequence[BaseModel] | BaseModel,
        table: Callable[[], None],
        csv: Callable[[], Sequence[Row]] | str | None = None,
        first: Sequence[str] = (),
    ) -> None:
        """What a command gives, in the format asked for (see :func:`render`)."""
        render(self.out, fmt, data, table, csv, first)

    def show(
        self,
        rows: Sequence[BaseModel] | BaseModel,
        fmt: OutputFormat,
        columns: Sequence[str] | None = None,
        title: str | None = None,
    ) -> None:
        """Records as a table (``columns``: a list's summary; a record: every field, one
        a line), or every field as JSON or CSV."""
        self.render(fmt, rows, lambda: self._table(rows, columns, title), first=columns or ())

    def _table(
        self,
        rows: Sequence[BaseModel] | BaseModel,
        columns: Sequence[str] | None = None,
        title: str | None = None,
    ) -> None:
        from medval.cli.render import record_table, rows_table

        if isinstance(rows, BaseModel) and columns is None:
            self.out.print(record_table(rows, title))
            return
        items = [rows] if isinstance(rows, BaseModel) else list(rows)
        if not items:
            self.out.print(f"(no {title or 'rows'})")
            return
        self.out.print(rows_table(items, columns, title))


def render(
    out: Console,
    fmt: OutputFormat,
    data: Sequence[BaseModel] | BaseModel,
    table: Callable[[], None],
    csv: Callable[[], Sequence[Row]] | str | None = None,
    first: Sequence[str] = (),
) -> None:
    """Print what a command gives in the format asked for: JSON, every field of ``data``;
    a table, as ``table`` prints it; CSV, the rows ``csv`` makes (by default every field of
    each record of ``data``; a string: why this command gives no CSV, refused in one line).
    ``first``: the CSV header's leading columns, written even when there are no rows."""
    match fmt:
        case OutputFormat.TABLE:
            table()
        case OutputFormat.JSON:
            if isinstance(data, BaseModel):
                out.print_json(data.model_dump_json())
            else:
                out.print_json(data=[row.model_dump(mode="json") for row in data])
        case OutputFormat.CSV:
            from medval.cli.csv_output import records, write_csv

            if isinstance(csv, str):
                raise InvalidInput(f"--format csv: {csv}; use --format json")
            write_csv(out.file, csv() if csv else records(data), first)
        case _:
            assert_never(fmt)


def json_or_table(fmt: OutputFormat, no_csv: str) -> bool:
    """For a command whose output is no list of records (a run's account, a simulation's
    report): True for JSON, False for its own lines; CSV refused in one line, before any
    work (``no_csv`` says why)."""
    match fmt:
        case OutputFormat.JSON:
            return True
        case OutputFormat.TABLE:
            return False
        case OutputFormat.CSV:
            raise InvalidInput(f"--format csv: {no_csv}; use --format json")
        case _:
            assert_never(fmt)
