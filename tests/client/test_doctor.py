"""``medval doctor``'s checks (``client.doctor``) on this machine and on machines given
through its seam: a runner without bubblewrap, no control groups, an engine at a bogus
socket, a workspace that cannot be written, a closed port, a clock five minutes ahead."""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medval.client.doctor import Diagnosis, examine
from medval.client.machine_checks.python import python_row
from medval.client.machine_checks.results import CheckResult, CheckState, Machine
from medval.client.settings import ClientSettings
from medval.runner import BubblewrapRunner, DockerRunner, PodmanRunner
from medval.runner.engine_facts import docker_facts, podman_facts
from medval.runner.task_namespace import TaskNamespaces
from tests.client.test_tls import Pki
from tests.conftest import LiveServer

OK, WARN, FAIL = CheckState.OK, CheckState.WARN, CheckState.FAIL


def _settings(home: Path, server: str | None = None, runner: str = "local") -> ClientSettings:
    return ClientSettings(home=home, server=server, runner=runner)


def _rows(diagnosis: Diagnosis) -> dict[str, CheckResult]:
    return {row.check: row for row in diagnosis.results}


def _local_only(bwrap: str = "bwrap") -> Machine:
    """Only the local runner; any free space will do (the threshold has its own test)."""
    return Machine(runners={"local": BubblewrapRunner(bwrap=bwrap)}, min_free_bytes=0)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_on_this_machine_the_local_runner_runs_a_trial_task(tmp_path: Path) -> None:
    diagnosis = examine(_settings(tmp_path / "home"), _local_only())
    rows = _rows(diagnosis)
    local = [row for row in diagnosis.results if row.check.startswith("local: ")]
    assert [row.check for row in local] == [
        "local: bubblewrap",
        "local: seccomp",
        "local: memory limit",
        "local: processes limit",
        "local: CPU limit",
        "local: trial task",
        "local: tasks end with the client",
    ]
    assert all(row.state is OK and row.fix is None for row in local), local
    assert rows["local: bubblewrap"].found.startswith("bubblewrap 0.")
    assert rows["local: trial task"].found.startswith("ran in the sandbox")
    assert diagnosis.ready
    assert diagnosis.verdict() == (
        "ready: runner local can run a task here with all its limits (1 warning above)"
    )
    # The one warning: no server set; not a failure.
    assert [row.check for row in diagnosis.warnings] == ["server: reachable"]


def test_without_bubblewrap_the_local_runner_fails_with_its_fix(tmp_path: Path) -> None:
    missing = tmp_path / "bin" / "bwrap"
    diagnosis = examine(_settings(tmp_path / "home"), _local_only(bwrap=str(missing)))
    rows = _rows(diagnosis)
    assert rows["local: bubblewrap"] == CheckResult(
        "local: bubblewrap",
        FAIL,
        f"bubblewrap is not installed ('{missing}' not found): "
        "install the Debian package bubblewrap",
        "install it: apt-get install bubblewrap (dnf install bubblewrap); "
        "or choose another runner (--runner docker or podman)",
    )
    assert "local: trial task" not in rows  # nothing to try it with
    assert rows["local: seccomp"].state is OK
    assert not diagnosis.ready
    assert diagnosis.verdict() == (
        "runner local cannot run a task here with all its limits; "
        "fix the failed checks above: local: bubblewrap"
    )


def test_without_unshare_tasks_run_but_a_warning_says_what_is_not_held(tmp_path: Path) -> None:
    missing = tmp_path / "bin" / "unshare"
    runner = BubblewrapRunner(namespaces=TaskNamespaces(program=str(missing)))
    diagnosis = examine(_settings(tmp_path / "home"), Machine(runners={"local": runner}))
    rows = _rows(diagnosis)
    assert rows["local: tasks end with the client"] == CheckResult(
        "local: tasks end with the client",
        WARN,
        f"'{missing}' is missing, or refuses this account a PID namespace: "
        "a client killed as a task starts may leave a process of it behind",
        "install util-linux 2.38 or later (unshare --map-current-user); allow unprivileged "
        "user namespaces: sysctl -w kernel.unprivileged_userns_clone=1 (Debian), or "
        "kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 24.04); or choose another "
        "runner (--runner docker or podman)",
    )
    assert rows["local: trial task"].state is OK  # tasks still run, without the namespace
    assert diagnosis.ready


def test_a_runner_not_chosen_only_warns(tmp_path: Path) -> None:
    """Configured: podman, whose program is missing (a failure); local, not chosen and
    without bubblewrap, is a warning."""
    machine = Machine(
        runners={
            "local": BubblewrapRunner(bwrap=str(tmp_path / "bwrap")),
            "podman": PodmanRunner(executable=str(tmp_path / "podman")),
        }
    )
    diagnosis = examine(_settings(tmp_path / "home", runner="podman"), machine)
    assert diagnosis.results[0] == CheckResult(
        "podman: engine",
        FAIL,
        f"podman is not installed ('{tmp_path / 'podman'}' not found): "
        "install the Debian package podman",
        "install it: apt-get install podman",
    )
    assert _rows(diagnosis)["local: bubblewrap"].state is WARN
    assert [row.check for row in diagnosis.failed] == ["podman: engine"]


def test_an_engine_at_a_bogus_socket_is_not_reachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = tmp_path / "no-daemon.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    machine = Machine(runners={"docker": DockerRunner()})
    diagnosis = examine(_settings(tmp_path / "home"), machine)
    (row,) = [row for row in diagnosis.results if row.check.startswith("docker")]
    assert row.check == "docker: engine" and row.state is WARN
    assert row.found.startswith("docker cannot be used: ") and str(socket_path) in row.found
    assert row.fix == (
        "start its service ('docker version' says why it does not answer), or give this "
        "account access to it; not needed unless you run tasks with --runner docker"
    )


@pytest.mark.container
def test_podman_here_answers_with_its_version(tmp_path: Path) -> None:
    """``podman info`` only: no container starts."""
    diagnosis = examine(
        _settings(tmp_path / "home", runner="podman"), Machine(runners={"podman": PodmanRunner()})
    )
    rows = _rows(diagnosis)
    assert rows["podman: engine"].state is OK
    assert re.fullmatch(
        r"podman \d+\.\d+\.\d+, (rootless|run by root), cgroup v[12]", rows["podman: engine"].found
    )
    assert rows["podman: seccomp"].state is OK


def test_without_control_groups_each_limit_fails(tmp_path: Path) -> None:
    empty = tmp_path / "cgroup"
    empty.mkdir()
    machine = Machine(runners={"local": BubblewrapRunner()}, cgroup_root=empty, own_cgroups={})
    rows = _rows(examine(_settings(tmp_path / "home"), machine))
    for check in ("local: memory limit", "local: processes limit"):
        assert rows[check].state is FAIL
        assert rows[check].found == (
            "this machine has no memory and pids control groups: each process of a task "
            "is limited alone, not the task whole"
        )
        assert rows[check].fix is not None and "Delegate=yes" in rows[check].fix


def test_a_workspace_that_cannot_be_written_fails(tmp_path: Path) -> None:
    # sysfs refuses a new file to every account, root included.
    diagnosis = examine(_settings(Path("/sys")), _local_only())
    assert _rows(diagnosis)["workspace: folder"] == CheckResult(
        "workspace: folder",
        FAIL,
        "cannot write in /sys: Permission denied",
        "make it writable by this account, or set MEDVAL_HOME (or --home) to a folder of your own",
    )
    assert [row.check for row in diagnosis.failed] == ["workspace: folder"]
    missing = _rows(examine(_settings(Path("/proc/medval-home")), _local_only()))
    assert missing["workspace: folder"].found == (
        "cannot make /proc/medval-home: No such file or directory"
    )


def test_a_missing_workspace_is_made_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    rows = _rows(examine(_settings(home), _local_only()))
    assert rows["workspace: folder"] == CheckResult("workspace: folder", OK, f"{home} (made now)")
    assert rows["workspace: permissions"].found == "mode 700 (owner only)"
    assert oct(home.stat().st_mode & 0o777) == "0o700"


def test_a_shared_or_full_workspace_warns(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o755)
    machine = Machine(runners={}, min_free_bytes=1 << 60)
    diagnosis = examine(_settings(home), machine)
    rows = _rows(diagnosis)
    assert rows["workspace: permissions"] == CheckResult(
        "workspace: permissions",
        WARN,
        f"{home} has mode 755: other accounts may look in it",
        f"chmod 700 {home}",
    )
    space = rows["workspace: free space"]
    assert space.state is WARN and space.found.endswith("GiB free, less than 1073741824.0 GiB")
    assert diagnosis.ready


def test_a_closed_port_is_shown_as_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    diagnosis = examine(_settings(tmp_path / "home", server=url), Machine(runners={}))
    server = [row for row in diagnosis.results if row.check.startswith("server")]
    assert server == [
        CheckResult(
            "server: reachable",
            WARN,
            f"cannot reach {url} (ConnectError: [Errno 111] Connection refused)",
            "check the URL, that the server runs, and no firewall or proxy is in between",
        )
    ]
    assert diagnosis.ready  # the server is not what a task needs


def test_a_live_server_answers_and_a_clock_ahead_warns(
    tmp_path: Path, live_server: LiveServer
) -> None:
    settings = _settings(tmp_path / "home", server=live_server.url)
    rows = _rows(examine(settings, Machine(runners={})))
    assert rows["server: reachable"].state is OK
    assert rows["server: reachable"].found.startswith(f"{live_server.url}: medval ")
    assert rows["server: TLS"] == CheckResult("server: TLS", OK, "plain http, to this machine only")
    assert rows["server: clock"].state is OK

    ahead = Machine(runners={}, clock=lambda: datetime.now(UTC) + timedelta(minutes=5))
    clock = _rows(examine(settings, ahead))["server: clock"]
    assert clock.state is WARN
    said = re.fullmatch(r"(\d+) s ahead of the server's \(more than 60 s\)", clock.found)
    # The Date header counts whole seconds, and uvicorn renews it once a second.
    assert said is not None and 299 <= int(said.group(1)) <= 305, clock.found
    assert clock.fix == "synchronise this machine's clock (timedatectl set-ntp true, or chrony)"


def test_a_python_medval_does_not_support_fails() -> None:
    row = python_row(Machine(python_version=(3, 10, 12)), supported=">=3.11")
    assert row == CheckResult(
        "python",
        FAIL,
        "Python 3.10.12; medval needs >=3.11",
        "install medval under a Python >=3.11",
    )
    assert python_row(Machine(python_version=(3, 11, 2)), supported=">=3.11").state is OK


def test_an_unknown_runner_fails(tmp_path: Path) -> None:
    diagnosis = examine(_settings(tmp_path / "home", runner="qemu"), Machine(runners={}))
    assert diagnosis.results[0] == CheckResult(
        "runner", FAIL, "unknown runner 'qemu'", "set MEDVAL_RUNNER to docker, local, podman"
    )


def test_engines_info_is_read_as_each_engine_writes_it() -> None:
    docker = docker_facts(
        {
            "ServerVersion": "28.2.2",
            "CgroupVersion": "2",
            "MemoryLimit": True,
            "SwapLimit": True,
            "PidsLimit": True,
            "CpuCfsQuota": False,
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=rootless"],
        }
    )
    assert (docker.version, docker.rootless, docker.cgroup_version, docker.seccomp) == (
        "28.2.2",
        True,
        "2",
        True,
    )
    assert docker.limits == {"memory": True, "pids": True, "cpu": False}
    podman = podman_facts(
        {
            "host": {
                "cgroupVersion": "v1",
                "cgroupControllers": ["cpu", "memory"],
                "security": {"rootless": False, "seccompEnabled": True},
            },
            "version": {"Version": "4.3.1"},
        }
    )
    assert (podman.version, podman.rootless, podman.cgroup_version) == ("4.3.1", False, "1")
    assert podman.limits == {"memory": True, "pids": False, "cpu": True}


def test_the_checks_leave_nothing_in_the_workspace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    examine(_settings(home), _local_only())
    assert os.listdir(home) == []


def test_an_engine_that_cannot_hold_a_limit_fails_that_limit(tmp_path: Path) -> None:
    """A program that answers as a rootless Docker on cgroup v1 would: no pids, no CPU
    quota; configured, so each is a failure."""
    info = {
        "ServerVersion": "28.2.2",
        "CgroupVersion": "1",
        "MemoryLimit": True,
        "SwapLimit": True,
        "PidsLimit": False,
        "CpuCfsQuota": False,
        "SecurityOptions": ["name=seccomp,profile=builtin", "name=rootless"],
    }
    program = tmp_path / "docker"
    program.write_text(
        '#!/bin/sh\nif [ "$1" = info ]; then cat <<"END"\n' + json.dumps(info) + "\nEND\nfi\n"
    )
    program.chmod(0o755)
    machine = Machine(runners={"docker": DockerRunner(executable=str(program))})
    diagnosis = examine(_settings(tmp_path / "home", runner="docker"), machine)
    rows = _rows(diagnosis)
    assert rows["docker: engine"].found == "docker 28.2.2, rootless, cgroup v1"
    assert rows["docker: seccomp"].state is OK
    assert rows["docker: memory limit"].state is OK
    assert rows["docker: processes limit"].found == "docker cannot set a processes limit here"
    assert rows["docker: CPU limit"].found == "docker cannot set a CPU limit here"
    assert [row.check for row in diagnosis.failed] == [
        "docker: processes limit",
        "docker: CPU limit",
    ]


def test_an_https_server_is_trusted_only_with_its_ca(
    tmp_path: Path, https_server: str, pki: Pki
) -> None:
    untrusted = _rows(
        examine(_settings(tmp_path / "home", server=https_server), Machine(runners={}))
    )
    assert untrusted["server: reachable"] == CheckResult(
        "server: reachable", WARN, f"{https_server}: the TLS handshake failed", "see the TLS row"
    )
    tls = untrusted["server: TLS"]
    assert tls.state is WARN
    assert tls.found.startswith(f"the certificate of {https_server} is not trusted (")
    assert "CERTIFICATE_VERIFY_FAILED" in tls.found
    assert tls.fix == "set MEDVAL_CA_BUNDLE to the CA that signed it"
    assert "server: clock" not in untrusted

    pinned = ClientSettings(home=tmp_path / "home", server=https_server, ca_bundle=pki.ca)
    rows = _rows(examine(pinned, Machine(runners={})))
    assert rows["server: reachable"].state is OK
    assert rows["server: TLS"] == CheckResult(
        "server: TLS", OK, f"certificate trusted by the CA in {pki.ca}"
    )
    assert rows["server: clock"].state is OK
