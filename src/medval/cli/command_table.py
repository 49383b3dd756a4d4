"""Every top-level ``medval`` command: where it lives, and its one-line help.

``medval`` imports a command's module only when that command runs (``cli.lazy_group``):
importing them all (the HTTP client, the schemas, the runners, the console's web app)
took half a second before anything happened. ``medval --help`` lists the commands from
this table, so the help lines are written here as well as in the commands' docstrings;
``tests/cli/test_command_table.py`` fails if the two differ, or if a command is missing.

Imports nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandEntry:
    """A top-level command: ``attribute`` of ``module`` is a Typer app (a group of
    sub-commands) or a function (one command)."""

    name: str
    module: str
    attribute: str
    help: str


def _entry(name: str, module: str, attribute: str, help: str) -> CommandEntry:
    return CommandEntry(name, f"medval.cli.{module}", attribute, help)


COMMANDS: tuple[CommandEntry, ...] = (
    _entry(
        "login",
        "accounts",
        "login",
        "Log in to a medval server; the token is kept in the client folder (mode 600).",
    ),
    _entry("logout", "accounts", "logout", "Revoke the token on the server and forget it here."),
    _entry("whoami", "accounts", "whoami", "Show the account this client is logged in as."),
    _entry(
        "password",
        "accounts",
        "password",
        "Change your own password (every other session of yours is logged out).",
    ),
    _entry(
        "run",
        "executions",
        "run",
        "List pending model executions, show what will run, and run them on approval.",
    ),
    _entry(
        "console",
        "console",
        "console",
        "Serve the local console on 127.0.0.1: pending executions, runs, payloads, uploads "
        "and the local audit log, behind a one-time token printed here.",
    ),
    _entry(
        "doctor",
        "doctor",
        "doctor",
        "Check this machine: each runner (bubblewrap, seccomp, cgroup limits, Docker, Podman), "
        "the workspace, the server, the clock and Python; exit 8 if a task cannot run here "
        "with all its limits.",
    ),
    _entry(
        "verify",
        "verify",
        "verify",
        "Check every signature of an export bundle offline; one line per record that does "
        "not verify (exit 12 if any).",
    ),
    _entry(
        "report",
        "report",
        "report",
        "Write a benchmark's evidence report (HTML, JSON, CSV) as released to you.",
    ),
    _entry(
        "demo",
        "demo",
        "demo",
        "Play every role of a federated benchmark against an embedded server.",
    ),
    _entry(
        "simulate",
        "simulate",
        "simulate",
        "Play a whole federation on this machine: N data owners each prepare, register, "
        "join, run and upload through the real client over HTTP, cubes in the sandbox; "
        "report the time of each phase and the throughput.",
    ),
    _entry("server", "server_commands", "server_app", "Run and administer a medval server."),
    _entry(
        "users",
        "accounts",
        "users_app",
        "Manage accounts (admins; anyone may revoke their own tokens).",
    ),
    _entry("cube", "cubes", "app", "Register and inspect cubes (preparation, model, evaluator)."),
    _entry("benchmark", "benchmarks", "app", "Define, approve and inspect benchmarks."),
    _entry(
        "association",
        "benchmarks",
        "associations_app",
        "Requests to join a benchmark (datasets and models).",
    ),
    _entry("dataset", "datasets", "app", "Data owners: prepare, register and associate datasets."),
    _entry("model", "models", "app", "Model owners: register models and join benchmarks."),
    _entry("results", "results", "app", "Review, upload and see results."),
    _entry("keys", "keys", "app", "Your signing keys (results are signed with them)."),
    _entry("storage", "storage", "app", "See and free what the client keeps on disk."),
    _entry(
        "audit",
        "audit",
        "app",
        "This workspace's own audit log: every approval, execution and upload made here.",
    ),
    _entry(
        "training",
        "training",
        "app",
        "Federated training: experiments, the sites that join them, their rounds.",
    ),
    _entry(
        "aggregator",
        "aggregators",
        "app",
        "Aggregators: machines that run Flower's SuperLink for training experiments.",
    ),
    _entry(
        "completion",
        "completion",
        "completion",
        "Print the shell completion script for bash or zsh (see the README).",
    ),
)
