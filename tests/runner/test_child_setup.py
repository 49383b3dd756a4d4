"""The step between fork and exec: a failure there is one line, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.core.errors import SandboxError
from medval.runner.child_setup import ChildSetup, Staging
from medval.runner.supervisor import supervise


def test_a_step_that_fails_before_exec_is_one_line(tmp_path: Path) -> None:
    setup = ChildSetup(cgroup_files=[(str(tmp_path / "no-such-group" / "tasks").encode(), b"0")])
    with pytest.raises(SandboxError) as error:
        supervise(
            ["true"], timeout_seconds=10, address_space_bytes=None, log_path=None,
            prepare_child=setup,
        )  # fmt: skip
    assert str(error.value) == (
        "could not prepare the sandbox for 'true' (its control group, keyring or mounts): "
        "run medval as an ordinary user, or as root with mount rights"
    )


def test_staging_names_each_source_once(tmp_path: Path) -> None:
    staging = Staging(tmp_path)
    first = staging.place(Path("/usr"))
    assert staging.place(Path("/opt/venv")) == tmp_path / "1"
    assert staging.place(Path("/usr")) == first == tmp_path / "0"
