"""``python -m medval``: the same as the ``medval`` command."""

import sys

from medval.cli.main import main

sys.exit(main())
