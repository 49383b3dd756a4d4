"""``python -m medval``: the same as the ``medval`` command."""

from medval.cli.main import run

run()
