"""Where the local runner can make a task's control group, and the group it makes."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from medval.runner import MIB, cgroups
from medval.runner.child_setup import ChildSetup
from medval.runner.supervisor import supervise


def test_v1_hierarchies_are_found_under_the_process_own_groups(tmp_path: Path) -> None:
    for controller in ("memory", "pids"):
        (tmp_path / controller / "client").mkdir(parents=True)
    support = cgroups.find_support(tmp_path, {"memory": "/client", "pids": "/client"})
    assert support == cgroups.Support(
        1, {"memory": tmp_path / "memory/client", "pids": tmp_path / "pids/client"}
    )


def test_v2_needs_both_controllers_in_the_process_group(tmp_path: Path) -> None:
    group = tmp_path / "user.slice"
    group.mkdir()
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (group / "cgroup.controllers").write_text("cpu memory\n")
    support = cgroups.find_support(tmp_path, {"": "/user.slice"})
    assert support == f"the control group {group} does not offer pids"
    (group / "cgroup.controllers").write_text("cpu memory pids\n")
    assert cgroups.find_support(tmp_path, {"": "/user.slice"}) == cgroups.Support(
        2, {"memory": group, "pids": group}
    )


def test_no_control_groups_is_a_reason(tmp_path: Path) -> None:
    assert cgroups.find_support(tmp_path, {}) == (
        "this machine has no memory and pids control groups"
    )


def test_a_task_group_on_this_machine_holds_its_limits_and_is_removed() -> None:
    support = cgroups.find_support()
    if isinstance(support, str):
        # An ordinary account without a delegated group: the runner says so (caveats).
        assert os.getuid() != 0 and "\n" not in support
        return
    with cgroups.task_group(support, 256 * MIB, 40) as group:
        memory, pids = group.folders["memory"], group.folders["pids"]
        limit = "memory.max" if support.version == 2 else "memory.limit_in_bytes"
        assert int((memory / limit).read_text()) == 256 * MIB
        assert (pids / "pids.max").read_text().strip() == "40"
        assert group.ran_out_of_memory() is False and group.hit_process_limit() is False
    assert not memory.exists() and not pids.exists()


def test_a_task_process_and_its_children_join_every_group_of_the_task(tmp_path: Path) -> None:
    """What the local runner's first process writes before exec (``join_files``) puts it
    in the memory and pids groups, and what it starts after stays there."""
    support = cgroups.find_support()
    if isinstance(support, str):
        assert os.getuid() != 0 and "\n" not in support
        return
    log = tmp_path / "log"
    with cgroups.task_group(support, 256 * MIB, 40) as group:
        setup = ChildSetup(cgroup_files=group.join_files())
        # The child's child reads its groups: inherited from its parent, which joined.
        outcome = supervise(
            ["sh", "-c", "cat /proc/self/cgroup"], timeout_seconds=30,
            address_space_bytes=None, log_path=log, prepare_child=setup,
        )  # fmt: skip
        assert outcome.returncode == 0
        groups = _groups(log.read_text())
        for controller, folder in group.folders.items():
            key = "" if support.version == 2 else controller
            assert groups[key] == f"/{folder.relative_to(cgroups.ROOT / key).as_posix()}", groups


def _groups(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            found[controller] = path
    return found


def test_a_group_is_looked_at_often_at_first_and_given_up_on_after_about_a_second() -> None:
    pauses = list(cgroups._pauses())
    assert pauses[:3] == [0.001, 0.002, 0.004] and max(pauses) == 0.02
    assert 1.0 <= sum(pauses) < 1.03


def test_groups_killed_clients_left_behind_are_removed_and_no_other() -> None:
    """Empty task groups older than ten minutes go; a group holding a process, a young
    one and a folder not named as medval names its groups stay. In parents of the
    test's own, so that no other test's fresh group is in reach."""
    support = cgroups.find_support()
    if isinstance(support, str):
        assert os.getuid() != 0 and "\n" not in support
        return
    own = f"medval-sweep-test-{os.getpid()}"
    parents = {name: parent / own for name, parent in support.parents.items()}
    for parent in set(parents.values()):
        parent.mkdir()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        made = {name: f"medval-{index:012x}" for index, name in enumerate(("old", "busy"))}
        for parent in set(parents.values()):
            for name in (*made.values(), "medval-keep"):
                (parent / name).mkdir()
        busy = {parent / made["busy"] for parent in parents.values()}
        for folder in busy:
            (folder / "cgroup.procs").write_text(str(sleeper.pid))
        test_support = cgroups.Support(support.version, parents)
        assert cgroups.remove_left_behind(test_support) == 0  # all younger than ten minutes
        later = time.time() + cgroups.LEFT_BEHIND_SECONDS + 1
        assert cgroups.remove_left_behind(test_support, now=later) == len(set(parents.values()))
        for parent in set(parents.values()):
            assert sorted(p.name for p in parent.iterdir() if p.is_dir()) == [
                made["busy"], "medval-keep"
            ]  # fmt: skip
    finally:
        sleeper.kill()
        sleeper.wait()
        for parent in set(parents.values()):
            for folder in [p for p in parent.iterdir() if p.is_dir()]:
                cgroups.TaskGroup(support.version, {"group": folder}).remove()
            parent.rmdir()
