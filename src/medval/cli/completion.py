"""``medval completion bash|zsh``: the script that makes a shell complete medval's
commands and options.

The script is Typer's own (``typer._completion_shared``, what ``--show-completion``
prints in apps that keep Typer's completion options; medval leaves them out of every
command's options and lists this command instead). The shell then asks ``medval`` itself
for completions through ``_MEDVAL_COMPLETE``, which Click answers before any command runs.
"""

from __future__ import annotations

from enum import StrEnum

import typer

from medval.cli.main import COMPLETE_VARIABLE


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"


def completion(shell: Shell = typer.Argument(..., help="bash or zsh.")) -> None:
    """Print the shell completion script for bash or zsh (see the README)."""
    from typer._completion_shared import get_completion_script

    script = get_completion_script(
        prog_name="medval", complete_var=COMPLETE_VARIABLE, shell=shell.value
    )
    typer.echo(script)
