"""The environment a task sees: medval's fixed variables over what its cube declares.

Nothing comes from the host. A task's environment is built, on every runner alike, from:

1. its image's own ``Env`` (a cube with its own image);
2. the variables its cube declares (MedPerf's ``run_args.environment``, MLCube's
   ``docker.env_args``): part of the pinned cube, so they are as trusted as its code;
3. medval's fixed variables (:data:`FIXED`), which always win: ``HOME`` and ``TMPDIR``
   are the task's fresh ``/tmp``, the locale is fixed, and one thread per maths library
   keeps a task's footprint within its memory limit. A cube declaring one of them is
   told at registration (:func:`overridden`) that medval sets it itself.

``PATH`` is the cube's when it declares one, else its image's, else the usual system
one; a cube without an image runs the runner's Python, whose folder the runner puts
first in ``PATH`` (its declared ``PATH`` would not find that Python: it is not used).

A declared variable cannot harm the host: it only reaches the task's own processes,
inside the sandbox, which run the cube's own code anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# PATH in a cube's own image that sets none: its tools at the usual places.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FIXED: Mapping[str, str] = {
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONNOUSERSITE": "1",
    # One thread per library, so a task's footprint matches its memory limit.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def task_environment(
    declared: Iterable[tuple[str, str]],
    image_env: Iterable[tuple[str, str]] | None,
    runner_path: str | None = None,
) -> dict[str, str]:
    """The whole environment of a task.

    ``image_env`` is the image's ``Env`` (None: the cube runs on the runner's Python, and
    ``runner_path`` is its ``PATH``).
    """
    environment = dict(image_env or ())
    environment.update(declared)
    environment.update(FIXED)
    if image_env is None:
        environment["PATH"] = runner_path or IMAGE_PATH
    else:
        environment.setdefault("PATH", IMAGE_PATH)
    return environment


def overridden(declared: Iterable[tuple[str, str]]) -> list[str]:
    """The declared names that medval sets itself (said at registration)."""
    return [name for name, _ in declared if name in FIXED]
