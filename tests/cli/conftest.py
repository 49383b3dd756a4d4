"""Fixtures the CLI's test modules share: ``people`` (root, trainer, hospital and host,
each logged in to a live server, in a client folder of their own) and ``as_user`` (any
account's ``medval``, logged in to a live server)."""

from tests.cli.test_shift_command import as_user  # noqa: F401 (a fixture, used by name)
from tests.cli.test_training_commands import people  # noqa: F401 (a fixture, used by name)
